"""Row predicates for one domain leaf: comparisons, `in`, LIKE patterns, and their combinators."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from odoo_sim.odoo.domain import NEGATIVE_OPERATORS
from odoo_sim.odoo.table import Row
from odoo_sim.odoo.values import coerce, is_null

Getter = Callable[[Row], Any]
Pred = Callable[[Row], bool]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def always(row: Row) -> bool:
    return True


def never(row: Row) -> bool:
    return False


def like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """A SQL LIKE pattern (`%`, `_`, backslash escapes) as a regular expression."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append({"%": ".*", "_": "."}.get(char) or re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like_predicate(get: Getter, op: str, right: Any, text: Callable[[Any], str]) -> Pred:
    base = op.removeprefix("not ")
    wildcard = base in ("like", "ilike")
    needle = "" if is_null(right) else str(right)
    regex = like_regex(f"%{needle}%" if wildcard else needle, base.endswith("ilike"))
    positive = base == op
    with_null = (wildcard and not right) or (bool(right) and op in NEGATIVE_OPERATORS)

    def pred(row: Row) -> bool:
        value = get(row)
        if is_null(value):
            return with_null
        return (regex.fullmatch(text(value)) is not None) == positive

    return pred


def in_predicate(ftype: str, get: Getter, op: str, right: Sequence[Any]) -> Pred:
    if ftype == "boolean":
        params = frozenset(flag for flag in (True, False) if flag in right)
        with_null = False in right
    else:
        kept = [item for item in right if not is_null(item)]
        params = frozenset(coerce(ftype, item) for item in kept)
        with_null = len(kept) < len(right)
    if op == "in":
        return lambda row: _in(get(row), params, with_null)
    if with_null:
        return lambda row: not is_null(value := get(row)) and value not in params
    return lambda row: is_null(value := get(row)) or value not in params


def _in(value: Any, params: frozenset[Any], with_null: bool) -> bool:
    return with_null if is_null(value) else value in params


def compare_predicate(ftype: str, get: Getter, op: str, right: Any) -> Pred:
    boolean = ftype == "boolean"
    if boolean and ((op == "=" and right is False) or (op == "!=" and right is True)):
        return lambda row: not get(row)
    if boolean and op == "!=" and right is False:
        return lambda row: bool(get(row))
    if is_null(right):
        if op == "=":
            return lambda row: is_null(get(row))
        return (lambda row: not is_null(get(row))) if op == "!=" else never
    value = coerce(ftype, right, op)
    compare = _COMPARE[op]
    if op == "!=" and right:
        return lambda row: is_null(current := get(row)) or current != value

    def pred(row: Row) -> bool:
        current = get(row)
        return not is_null(current) and compare(current, value)

    return pred


def as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def negate(pred: Pred) -> Pred:
    return lambda row: not pred(row)


def both(first: Pred, second: Pred) -> Pred:
    return lambda row: first(row) and second(row)


def either(first: Pred, second: Pred) -> Pred:
    return lambda row: first(row) or second(row)
