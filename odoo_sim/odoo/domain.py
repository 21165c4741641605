"""Odoo domains as token lists: the implicit '&' made explicit, '!' pushed into the leaves,
operators normalized and leaves validated, as `odoo.osv.expression` does."""

from __future__ import annotations

from typing import Any

from odoo_sim.odoo.errors import OdooFault, invalid_leaf

Leaf = tuple[Any, str, Any]

TRUE_LEAF: Leaf = (1, "=", 1)
FALSE_LEAF: Leaf = (0, "=", 1)
# fmt: off
TERM_OPERATORS = (
    "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like", "ilike",
    "not ilike", "in", "not in", "child_of", "parent_of",
)
NEGATIVE_OPERATORS = ("!=", "not like", "not ilike", "not in")
LIKE_OPERATORS = ("like", "ilike", "not like", "not ilike", "=like", "=ilike")
_ARITY = {"!": 1, "&": 2, "|": 2}
_NEGATION = {
    "<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=", "in": "not in",
    "not in": "in", "like": "not like", "not like": "like", "ilike": "not ilike",
    "not ilike": "ilike",
}
# fmt: on


def is_leaf(token: Any) -> bool:
    return (
        isinstance(token, (tuple, list))
        and len(token) == 3
        and isinstance(token[1], str)
        and token[1] in (*TERM_OPERATORS, "<>")
        and (
            (isinstance(token[0], str) and bool(token[0]))
            or tuple(token) in (TRUE_LEAF, FALSE_LEAF)
        )
    )


def normalize_domain(domain: Any) -> list[Any]:
    """Make the implicit '&' explicit (Odoo's `normalize_domain`)."""
    if not isinstance(domain, (list, tuple)):
        raise OdooFault(
            "builtins.AssertionError",
            "Domains to normalize must have a 'domain' form: a list or tuple of domain components",
        )
    if not domain:
        return [TRUE_LEAF]
    result: list[Any] = []
    expected = 1
    for token in domain:
        if expected == 0:
            result.insert(0, "&")
            expected = 1
        if isinstance(token, (list, tuple)):
            expected -= 1
            token = tuple(token)
        else:
            expected += (_ARITY.get(token, 0) if isinstance(token, str) else 0) - 1
        result.append(token)
    if expected != 0:
        raise OdooFault(
            "builtins.AssertionError", f"This domain is syntactically not correct: {domain}"
        )
    return result


def distribute_not(tokens: list[Any]) -> list[Any]:
    """Push '!' into the leaves, negating their operators (Odoo's `distribute_not`)."""
    result: list[Any] = []
    stack = [False]
    for token in tokens:
        negate = stack.pop()
        if is_leaf(token):
            result += _negated(token) if negate else [token]
        elif token == "!":
            stack.append(not negate)
        elif token in ("&", "|"):
            result.append({"&": "|", "|": "&"}[token] if negate else token)
            stack += [negate, negate]
        else:
            result.append(token)
    return result


def _negated(leaf: Leaf) -> list[Any]:
    if leaf in (TRUE_LEAF, FALSE_LEAF):
        return [FALSE_LEAF if leaf == TRUE_LEAF else TRUE_LEAF]
    left, op, right = leaf
    if op in _NEGATION:
        return [(left, _NEGATION[op], right)]
    return ["!", leaf]


def normalize_leaf(token: Any) -> Any:
    if not is_leaf(token):
        return token
    left, op, right = token
    op = op.lower()
    if op == "<>":
        op = "!="
    if isinstance(right, bool) and op in ("in", "not in"):
        op = "=" if op == "in" else "!="
    if isinstance(right, (list, tuple)) and op in ("=", "!="):
        op = "in" if op == "=" else "not in"
    return (left, op, right)


def check_leaf(token: Any, wording: int = 16) -> None:
    if not (isinstance(token, str) and token in _ARITY) and not is_leaf(token):
        raise invalid_leaf(token, wording)
