"""A domain compiled to a row predicate, validated in Odoo's order, plus the `id` bounds of its
top-level conjunction so that id-paged searches scan only their page."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from odoo_sim.odoo.domain import (
    FALSE_LEAF,
    LIKE_OPERATORS,
    NEGATIVE_OPERATORS,
    TRUE_LEAF,
    Leaf,
    check_leaf,
    distribute_not,
    normalize_domain,
    normalize_leaf,
)
from odoo_sim.odoo.errors import invalid_domain_field, not_supported, value_error
from odoo_sim.odoo.predicates import (
    Getter,
    Pred,
    always,
    as_text,
    both,
    compare_predicate,
    either,
    in_predicate,
    like_predicate,
    negate,
    never,
)
from odoo_sim.odoo.table import Row
from odoo_sim.odoo.values import X2MANY, is_null, parse_datetime, whole_second

if TYPE_CHECKING:
    from odoo_sim.odoo.tables import Tables


_SECOND_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "=?", "in", "not in"})


def _is_names(right: Any) -> bool:
    if isinstance(right, str):
        return True
    return (
        isinstance(right, (list, tuple))
        and bool(right)
        and all(isinstance(item, str) for item in right)
    )


class Node(NamedTuple):
    pred: Pred
    conj: tuple[Leaf, ...]  # leaves every match must satisfy (for the id fast path)


class DomainCompiler:
    """Turns an Odoo domain into a row predicate, validating it in Odoo's order."""

    def __init__(self, store: Tables, model: str) -> None:
        self.store = store
        self.model = model

    def compile(self, domain: Any) -> Node:
        tokens = [normalize_leaf(token) for token in distribute_not(normalize_domain(domain))]
        for token in tokens:
            check_leaf(token, self.store.profile.wording)
        stack: list[Node] = []
        for token in reversed(tokens):  # Odoo pops leaves from the end of its stack
            if token == "!":
                stack.append(Node(negate(stack.pop().pred), ()))
            elif token in ("&", "|"):
                first, second = stack.pop(), stack.pop()
                if token == "&":
                    stack.append(Node(both(first.pred, second.pred), first.conj + second.conj))
                else:
                    stack.append(Node(either(first.pred, second.pred), ()))
            else:
                stack.append(self.leaf(token))
        return stack.pop()

    def leaf(self, leaf: Leaf) -> Node:
        if leaf == TRUE_LEAF:
            return Node(always, ())
        if leaf == FALSE_LEAF:
            return Node(never, ())
        left, op, right = leaf
        path = left.split(".", 1)
        info = self.store.field(self.model, path[0])
        if info is None:
            raise invalid_domain_field(self.model, path[0], leaf, self.store.profile.wording)
        if len(path) > 1:
            return self.leaf(self.through(info, path, op, right))
        if op in ("child_of", "parent_of"):
            raise not_supported(f"operator {op!r}")
        return Node(self.predicate(info, path[0], op, right, leaf), (leaf,))

    def through(self, info: Mapping[str, Any], path: list[str], op: str, right: Any) -> Leaf:
        """`a.b op x` becomes `a in <ids of the comodel where b op x>`, as Odoo rewrites it."""
        relation = info.get("relation")
        if info["type"] not in ("many2one", *X2MANY) or relation not in self.store.tables:
            raise not_supported(f"cannot follow {self.model}.{path[0]}")
        rows = self.store.search_rows(
            relation, [(path[1], op, right)], order="id", active_test=info["type"] != "many2one"
        )
        ids = self.store.tables[relation].ids
        return (path[0], "in", [ids[row] for row in rows])

    def predicate(
        self, info: Mapping[str, Any], name: str, op: str, right: Any, leaf: Leaf
    ) -> Pred:
        ftype = info["type"]
        get = self.store.getter(self.model, name)
        if (
            ftype == "datetime"
            and op in _SECOND_OPERATORS
            and self.store.profile.whole_second_datetimes
        ):
            get, right = _by_whole_second(get, op, right)
        if ftype in X2MANY:
            return self.x2many(info, get, op, right)
        if ftype == "many2one" and _is_names(right):
            return self.m2o_by_name(info, get, op, right)
        if op == "=?":
            if is_null(right):
                return always
            op = "="
        if op in ("in", "not in"):
            if not isinstance(right, (list, tuple)):
                raise value_error(f"Invalid domain term {leaf!r}", "domain")
            return in_predicate(ftype, get, op, right)
        if op in LIKE_OPERATORS:
            text = str if ftype in ("char", "text", "html", "selection") else as_text
            return like_predicate(get, op, right, text)
        return compare_predicate(ftype, get, op, right)

    def m2o_by_name(self, info: Mapping[str, Any], get: Getter, op: str, right: Any) -> Pred:
        if op in ("<", ">", "<=", ">="):
            op = "in"
        if isinstance(right, str) and op in ("in", "not in"):
            op = {"in": "=", "not in": "!="}[op]
        elif isinstance(right, (list, tuple)) and op in ("=", "!="):
            op = {"=": "in", "!=": "not in"}[op]
        ids = frozenset(self.store.name_search_ids(info["relation"], right, op))
        if op in NEGATIVE_OPERATORS:
            return lambda row: is_null(value := get(row)) or value in ids
        return lambda row: get(row) in ids

    def x2many(self, info: Mapping[str, Any], get: Getter, op: str, right: Any) -> Pred:
        if is_null(right) and op in ("=", "!="):
            return (lambda row: not get(row)) if op == "=" else (lambda row: bool(get(row)))
        if _is_names(right):
            ids = frozenset(self.store.name_search_ids(info["relation"], right, "ilike"))
        elif op in ("=", "!=", "in", "not in"):
            items = right if isinstance(right, (list, tuple)) else [right]
            ids = frozenset(item for item in items if not is_null(item))
        else:
            raise not_supported(f"operator {op!r} on a {info['type']} field")
        if op in NEGATIVE_OPERATORS:
            return lambda row: ids.isdisjoint(get(row))
        return lambda row: not ids.isdisjoint(get(row))


def _by_whole_second(get: Getter, op: str, right: Any) -> tuple[Getter, Any]:
    """Odoo 19 compares datetimes by whole second: the stored value and the operand are both
    truncated, so `> T` means `>= T + 1 s` and `= T` matches all of second T."""

    def truncated(row: Row) -> Any:
        return whole_second(get(row))

    if isinstance(right, (list, tuple)):
        return truncated, [_operand(item, op) for item in right]
    return truncated, _operand(right, op)


def _operand(value: Any, op: str) -> Any:
    return value if is_null(value) else whole_second(parse_datetime(value, op))


def id_range(ids: list[int], conj: Iterable[Leaf]) -> Sequence[Row]:
    """The rows left to scan once the `id` bounds of the top-level conjunction are applied."""
    low, high = 0, len(ids)
    chosen: set[Row] | None = None
    for left, op, right in conj:
        if left != "id":
            continue
        if op == "in" and isinstance(right, (list, tuple)):
            rows = {row for row in map(_row_finder(ids), right) if row is not None}
            chosen = rows if chosen is None else chosen & rows
        elif isinstance(right, int) and not isinstance(right, bool):
            low, high = _bound(ids, op, right, low, high)
    if chosen is not None:
        return sorted(row for row in chosen if low <= row < high)
    return range(low, max(low, high))


def _bound(ids: list[int], op: str, value: int, low: int, high: int) -> tuple[int, int]:
    if op in ("=", ">="):
        low = max(low, bisect.bisect_left(ids, value))
    if op == ">":
        low = max(low, bisect.bisect_right(ids, value))
    if op in ("=", "<="):
        high = min(high, bisect.bisect_right(ids, value))
    if op == "<":
        high = min(high, bisect.bisect_left(ids, value))
    return low, high


def _row_finder(ids: list[int]) -> Callable[[Any], Row | None]:
    def find(rid: Any) -> Row | None:
        if not isinstance(rid, int) or isinstance(rid, bool):
            return None
        pos = bisect.bisect_left(ids, rid)
        return pos if pos < len(ids) and ids[pos] == rid else None

    return find
