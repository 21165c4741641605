"""An in-memory Odoo that speaks JSON-RPC over real HTTP, shaped after recorded Odoo 16.0 answers.

The ground truth is `tests/fixtures/odoo16/` (see `/work/shared/odoo-wire/README.md`): value
shapes, error envelopes and the `write_date` rule (stored with microseconds, returned truncated
to whole seconds, compared in domains against the stored value) follow those recordings.

Standalone: `python -m poller.sim.odoo --port 8069 [--host 127.0.0.1] [--generated N]`.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import logging
import math
import operator
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

Row = int
Getter = Callable[[Row], Any]
Pred = Callable[[Row], bool]
Clock = Callable[[], datetime]
Leaf = tuple[Any, str, Any]

TAX_RATE = 0.15
TAX_ID = 1
X2MANY = frozenset({"one2many", "many2many"})


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class VersionProfile:
    """Everything that differs between the Odoo versions the simulator can play."""

    series: str
    version_info: tuple[int | str, ...]
    error_code: int
    fields_file: str

    def version_payload(self) -> dict[str, Any]:
        return {
            "server_version": self.series,
            "server_version_info": list(self.version_info),
            "server_serie": self.series,
            "protocol_version": 1,
        }


PROFILES: dict[str, VersionProfile] = {
    "16.0": VersionProfile("16.0", (16, 0, 0, "final", 0, ""), 200, "odoo16_fields_get.json"),
}


@cache
def load_fields(filename: str) -> dict[str, dict[str, dict[str, Any]]]:
    """`fields_get` of every simulated model (shared, never mutated)."""
    text = resources.files("poller.sim").joinpath(f"data/{filename}").read_text("utf-8")
    return json.loads(text)


# --------------------------------------------------------------------------- errors


def _frame(where: str, code: str) -> str:
    """One traceback frame; `where` is "path:line:function" under /opt/odoo/odoo/."""
    path, line, function = where.split(":")
    return f'  File "/opt/odoo/odoo/{path}", line {line}, in {function}\n    {code}\n'


_HEAD = (
    _frame("http.py:1632:_serve_db", "return service_model.retrying(self._serve_ir_http, self.env)")
    + _frame(
        "addons/base/controllers/rpc.py:155:jsonrpc", "return dispatch_rpc(service, method, args)"
    )
    + _frame("http.py:369:dispatch_rpc", "return dispatch(method, params)")
)
_CALL = _frame(
    "service/model.py:59:execute_kw", "return execute(db, uid, obj, method, *args, **kw or {})"
) + _frame("api.py:464:call_kw", "result = _call_kw_model(method, model, args, kwargs)")
_SEARCH = _CALL + _frame("models.py:4682:_search", "query = self._where_calc(domain)")
_INVALID_FIELD = 'raise ValueError("Invalid field %r on model %r" % (name, self._name))'

#: The frames under the common head, by where the error is raised.
_FRAMES: dict[str, str] = {
    "auth": _frame("service/model.py:28:dispatch", "security.check(db, uid, passwd)")
    + _frame("addons/base/models/res_users.py:855:check", "raise AccessDenied()"),
    "db": _frame("sql_db.py:638:borrow", "result = psycopg2.connect(dsn=dsn)"),
    "common": _frame("service/common.py:64:dispatch", "fn = globals()['exp_' + method]"),
    "model": _frame(
        "service/model.py:49:execute_cr", 'raise UserError(_("Object %s doesn\'t exist", obj))'
    ),
    "method": _frame(
        "api.py:461:call_kw",
        "raise AttributeError(f\"The method '{name}' does not exist on the model "
        "'{model._name}'\")",
    ),
    "call": _CALL + _frame("api.py:435:_call_kw_model", "result = method(recs, *args, **kwargs)"),
    "read": _CALL + _frame("models.py:2985:read", _INVALID_FIELD),
    "leaf": _SEARCH
    + _frame(
        "osv/expression.py:396:check_leaf", 'raise ValueError("Invalid leaf %s" % str(element))'
    ),
    "domain": _SEARCH
    + _frame(
        "osv/expression.py:674:parse",
        'raise ValueError("Invalid field %s.%s in leaf %s" % (model._name, path[0], str(leaf)))',
    ),
    "order": _CALL
    + _frame(
        "models.py:4541:_generate_order_by_inner",
        _INVALID_FIELD.replace("(name,", "(order_field,"),
    ),
}


class OdooError(Exception):
    """An exception as Odoo serializes it in a JSON-RPC error (`name` is the Python path)."""

    def __init__(self, name: str, message: str, where: str = "call") -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.where = where

    def data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "debug": self.debug(),
            "message": self.message,
            "arguments": [self.message],
            "context": {},
        }

    def debug(self) -> str:
        """A short traceback ending in the exception line, as Odoo's `debug` field does."""
        frames = _HEAD + _FRAMES.get(self.where, _FRAMES["call"])
        exception = f"{self.name.removeprefix('builtins.')}: {self.message}"
        return f"Traceback (most recent call last):\n{frames}{exception}\n"


def access_denied() -> OdooError:
    return OdooError("odoo.exceptions.AccessDenied", "Access Denied", "auth")


def value_error(message: str, where: str) -> OdooError:
    return OdooError("builtins.ValueError", message, where)


def not_supported(message: str) -> OdooError:
    return OdooError("builtins.NotImplementedError", f"odoo simulator: {message}", "call")


def python_error(exc: BaseException) -> OdooError:
    kind = type(exc)
    return OdooError(f"{kind.__module__}.{kind.__qualname__}", str(exc), "call")


class SimError(ValueError):
    """A control-API request the simulator refuses (HTTP 422)."""

    status = 422


class SimNotFound(SimError):
    status = 404


class SimConflict(SimError):
    status = 409


# --------------------------------------------------------------------------- values


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def is_null(value: Any) -> bool:
    return value is False or value is None


def type_default(ftype: str) -> Any:
    if ftype in X2MANY:
        return ()
    if ftype == "integer":
        return 0
    if ftype in ("float", "monetary"):
        return 0.0
    return False


def float_round(value: float, digits: int = 2) -> float:
    """Odoo's HALF-UP rounding, whose epsilon absorbs binary noise (32.535 -> 32.54)."""
    factor = 10.0**-digits
    normalized = value / factor
    if normalized == 0:
        return 0.0
    sign = math.copysign(1.0, normalized)
    normalized += sign * 2 ** (math.log2(abs(normalized)) - 52)
    return round(sign * math.floor(abs(normalized) + 0.5) * factor, digits)


def line_amounts(qty: float, price_unit: float, discount: float = 0.0) -> tuple[float, ...]:
    """(price_subtotal, price_tax, price_total) of a taxed line, rounded per line like Odoo."""
    subtotal = float_round(price_unit * (1 - discount / 100.0) * qty)
    tax = float_round(subtotal * TAX_RATE)
    return subtotal, tax, float_round(subtotal + tax)


def naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_datetime(value: Any, op: str = "=") -> datetime:
    """A domain operand for a datetime field; a bare date means the day's start (or end)."""
    if isinstance(value, datetime):
        return naive_utc(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            text += " 23:59:59" if op in (">", "<=") else " 00:00:00"
        try:
            return naive_utc(datetime.fromisoformat(text))
        except ValueError:
            pass
    raise OdooError(
        "psycopg2.errors.InvalidDatetimeFormat",
        f'invalid input syntax for type timestamp: "{value}"\n',
    )


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise OdooError(
            "psycopg2.errors.InvalidDatetimeFormat",
            f'invalid input syntax for type date: "{value}"\n',
        ) from None


def coerce(ftype: str, value: Any, op: str = "=") -> Any:
    """Cast a domain operand to the column's type, as PostgreSQL would."""
    if ftype == "datetime":
        return parse_datetime(value, op)
    if ftype == "date":
        return parse_date(value)
    if ftype in ("integer", "many2one") and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise OdooError(
                "psycopg2.errors.InvalidTextRepresentation",
                f'invalid input syntax for type integer: "{value}"\n',
            ) from None
    if ftype in ("float", "monetary") and not isinstance(value, bool):
        return float(value)
    if ftype == "boolean":
        return bool(value)
    if ftype in ("char", "text", "html", "selection") and not isinstance(value, str):
        return str(value)
    return value


def stored_value(ftype: str, value: Any) -> Any:
    """Normalize a value given to `create`/`write` to its in-memory form."""
    if ftype in X2MANY:
        return tuple(value or ())
    if ftype == "datetime" and isinstance(value, str):
        return parse_datetime(value)
    if ftype == "date" and isinstance(value, str):
        return parse_date(value)
    if ftype in ("float", "monetary") and not is_null(value):
        return float(value)
    if value is None:
        return False
    return value


# --------------------------------------------------------------------------- storage


class Table:
    """One model's records, column by column, in ascending id order (a row is a position)."""

    def __init__(self, model: str, fields: Mapping[str, Mapping[str, Any]]) -> None:
        self.model = model
        self.fields = fields
        self.ids: list[int] = []
        self.cols: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def next_id(self) -> int:
        return self.ids[-1] + 1 if self.ids else 1

    def row(self, rid: Any) -> Row | None:
        if not isinstance(rid, int) or isinstance(rid, bool):
            return None
        pos = bisect.bisect_left(self.ids, rid)
        return pos if pos < len(self.ids) and self.ids[pos] == rid else None

    def default(self, name: str) -> Any:
        return type_default(self.fields[name]["type"])

    def column(self, name: str) -> list[Any]:
        col = self.cols.get(name)
        if col is None:
            col = self.cols[name] = [self.default(name)] * len(self.ids)
        return col

    def insert(self, rid: int, values: Mapping[str, Any]) -> Row:
        if self.row(rid) is not None:
            raise SimConflict(f"{self.model} {rid} already exists")
        pos = bisect.bisect_left(self.ids, rid)
        self.ids.insert(pos, rid)
        for name, col in self.cols.items():
            col.insert(pos, values[name] if name in values else self.default(name))
        for name in values.keys() - self.cols.keys():
            self.column(name)[pos] = values[name]
        return pos

    def extend(self, ids: Sequence[int], columns: Mapping[str, list[Any]]) -> None:
        """Append many rows at once; their ids must all be above the existing ones."""
        if self.ids and ids and ids[0] <= self.ids[-1]:
            raise SimConflict(f"{self.model}: bulk ids must follow {self.ids[-1]}")
        for name in columns.keys() - self.cols.keys():
            self.column(name)
        self.ids.extend(ids)
        for name, col in self.cols.items():
            col.extend(columns[name] if name in columns else [self.default(name)] * len(ids))


# --------------------------------------------------------------------------- models

Compute = Callable[["Store", Row], Any]


@dataclass(frozen=True)
class ModelSpec:
    order: str
    display: Compute
    computed: Mapping[str, Compute] = field(default_factory=dict)
    inherits: tuple[str, str] | None = None  # (parent model, link field), like `_inherits`


def _name(model: str) -> Compute:
    return lambda store, row: store.raw(model, row, "name") or ""


def _code_name(code: Any, name: str) -> str:
    return f"[{code}] {name}" if code else name


def _partner_commercial_row(store: Store, row: Row) -> Row:
    table = store.tables["res.partner"]
    for _ in range(32):
        parent = table.row(store.raw("res.partner", row, "parent_id"))
        if store.raw("res.partner", row, "is_company") or parent is None:
            break
        row = parent
    return row


def _partner_company_name(store: Store, row: Row) -> Any:
    commercial = _partner_commercial_row(store, row)
    return (
        store.raw("res.partner", commercial, "name")
        if store.raw("res.partner", commercial, "is_company")
        else False
    )


def _partner_display(store: Store, row: Row) -> str:
    name = store.raw("res.partner", row, "name") or ""
    parent = store.tables["res.partner"].row(store.raw("res.partner", row, "parent_id"))
    if parent is None or store.raw("res.partner", row, "is_company"):
        return name
    company = _partner_company_name(store, row) or store.raw("res.partner", parent, "name")
    return f"{company}, {name}"


def _product_display(store: Store, row: Row) -> str:
    name = store.getter("product.product", "name")(row) or ""
    return _code_name(store.raw("product.product", row, "default_code"), name)


def _template_display(store: Store, row: Row) -> str:
    name = store.raw("product.template", row, "name") or ""
    return _code_name(store.raw("product.template", row, "default_code"), name)


def _line_display(store: Store, row: Row) -> str:
    order = store.related_raw("sale.order.line", row, "order_id", "name") or ""
    text = (store.raw("sale.order.line", row, "name") or "").split("\n")[0]
    return f"{order} - {text}"


def _state_display(store: Store, row: Row) -> str:
    code = store.related_raw("res.country.state", row, "country_id", "code")
    return f"{store.raw('res.country.state', row, 'name')} ({code})"


def _variants(store: Store, row: Row) -> tuple[int, ...]:
    return store.raw("product.template", row, "product_variant_ids")


MODELS: dict[str, ModelSpec] = {
    "sale.order": ModelSpec(
        "date_order desc, id desc",
        _name("sale.order"),
        {
            "type_name": lambda s, r: (
                "Quotation"
                if s.raw("sale.order", r, "state") in ("draft", "sent", "cancel")
                else "Sales Order"
            ),
        },
    ),
    "sale.order.line": ModelSpec(
        "order_id, sequence, id",
        _line_display,
        {
            "product_template_id": lambda s, r: s.related_raw(
                "sale.order.line", r, "product_id", "product_tmpl_id"
            ),
            "product_type": lambda s, r: s.related_value(
                "sale.order.line", r, "product_id", "type"
            ),
        },
    ),
    "res.partner": ModelSpec(
        "display_name, id desc",
        _partner_display,
        {
            "commercial_partner_id": lambda s, r: s.tables["res.partner"].ids[
                _partner_commercial_row(s, r)
            ],
            "commercial_company_name": _partner_company_name,
            "company_type": lambda s, r: (
                "company" if s.raw("res.partner", r, "is_company") else "person"
            ),
            "country_code": lambda s, r: s.related_raw("res.partner", r, "country_id", "code"),
            "parent_name": lambda s, r: s.related_raw("res.partner", r, "parent_id", "name"),
        },
    ),
    "product.product": ModelSpec(
        "priority desc, default_code, name, id",
        _product_display,
        {
            "is_product_variant": lambda s, r: True,
            "code": lambda s, r: s.raw("product.product", r, "default_code"),
            "lst_price": lambda s, r: s.getter("product.product", "list_price")(r),
        },
        inherits=("product.template", "product_tmpl_id"),
    ),
    "product.template": ModelSpec(
        "priority desc, name",
        _template_display,
        {
            "product_variant_id": lambda s, r: (_variants(s, r) or (False,))[0],
            "product_variant_count": lambda s, r: len(_variants(s, r)),
            "uom_name": lambda s, r: s.related_raw("product.template", r, "uom_id", "name"),
        },
    ),
    "res.currency": ModelSpec("active desc, name", _name("res.currency")),
    "uom.uom": ModelSpec("factor desc, id", _name("uom.uom")),
    "res.country": ModelSpec("name", _name("res.country")),
    "res.country.state": ModelSpec("code", _state_display),
}

#: (child model, many2one) -> (parent model, its one2many), kept in step on create/write.
INVERSES: dict[tuple[str, str], tuple[str, str]] = {
    ("sale.order.line", "order_id"): ("sale.order", "order_line"),
    ("res.partner", "parent_id"): ("res.partner", "child_ids"),
    ("product.product", "product_tmpl_id"): ("product.template", "product_variant_ids"),
    ("res.country.state", "country_id"): ("res.country", "state_ids"),
}

#: Display names of records of models the simulator does not hold.
STUB_NAMES: dict[tuple[str, int], str] = {
    ("res.company", 1): "My Company",
    ("res.users", 1): "OdooBot",
    ("res.users", 2): "Administrator",
    ("product.category", 1): "All",
    ("account.tax", TAX_ID): "15%",
    ("uom.category", 1): "Unit",
    ("product.pricelist", 1): "Public Pricelist (USD)",
    ("crm.team", 1): "Sales",
}


# --------------------------------------------------------------------------- domains

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
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _true(row: Row) -> bool:
    return True


def _false(row: Row) -> bool:
    return False


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
        raise OdooError(
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
        raise OdooError(
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


def check_leaf(token: Any) -> None:
    if not (isinstance(token, str) and token in _ARITY) and not is_leaf(token):
        raise value_error(f"Invalid leaf {token}", "leaf")


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
        return (lambda row: not is_null(get(row))) if op == "!=" else _false
    value = coerce(ftype, right, op)
    compare = _COMPARE[op]
    if op == "!=" and right:
        return lambda row: is_null(current := get(row)) or current != value

    def pred(row: Row) -> bool:
        current = get(row)
        return not is_null(current) and compare(current, value)

    return pred


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

    def __init__(self, store: Store, model: str) -> None:
        self.store = store
        self.model = model

    def compile(self, domain: Any) -> Node:
        tokens = [normalize_leaf(token) for token in distribute_not(normalize_domain(domain))]
        for token in tokens:
            check_leaf(token)
        stack: list[Node] = []
        for token in reversed(tokens):  # Odoo pops leaves from the end of its stack
            if token == "!":
                stack.append(Node(_not(stack.pop().pred), ()))
            elif token in ("&", "|"):
                first, second = stack.pop(), stack.pop()
                if token == "&":
                    stack.append(Node(_and(first.pred, second.pred), first.conj + second.conj))
                else:
                    stack.append(Node(_or(first.pred, second.pred), ()))
            else:
                stack.append(self.leaf(token))
        return stack.pop()

    def leaf(self, leaf: Leaf) -> Node:
        if leaf == TRUE_LEAF:
            return Node(_true, ())
        if leaf == FALSE_LEAF:
            return Node(_false, ())
        left, op, right = leaf
        path = left.split(".", 1)
        info = self.store.field(self.model, path[0])
        if info is None:
            raise value_error(f"Invalid field {self.model}.{path[0]} in leaf {leaf}", "domain")
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
        if ftype in X2MANY:
            return self.x2many(info, get, op, right)
        if ftype == "many2one" and _is_names(right):
            return self.m2o_by_name(info, get, op, right)
        if op == "=?":
            if is_null(right):
                return _true
            op = "="
        if op in ("in", "not in"):
            if not isinstance(right, (list, tuple)):
                raise value_error(f"Invalid domain term {leaf!r}", "domain")
            return in_predicate(ftype, get, op, right)
        if op in LIKE_OPERATORS:
            text = str if ftype in ("char", "text", "html", "selection") else _as_text
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


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _not(pred: Pred) -> Pred:
    return lambda row: not pred(row)


def _and(first: Pred, second: Pred) -> Pred:
    return lambda row: first(row) and second(row)


def _or(first: Pred, second: Pred) -> Pred:
    return lambda row: first(row) or second(row)


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


# --------------------------------------------------------------------------- ordering

_ORDER_RE = re.compile(
    r'^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\s+(desc|asc))?\s*(,|$))+(?<!,)$', re.IGNORECASE
)
OrderTerm = tuple[tuple[str, ...], bool]  # (field path, descending)


def _order_parts(spec: str) -> list[tuple[str, bool]]:
    parts = []
    for part in spec.split(","):
        words = part.split()
        parts.append((words[0].strip('"'), len(words) > 1 and words[1].lower() == "desc"))
    return parts


# --------------------------------------------------------------------------- the database


class Store:
    """The records of every simulated model and the ORM-like operations on them (no locking)."""

    def __init__(self, fields: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        self.fields = fields
        self.tables = {model: Table(model, fields[model]) for model in MODELS}

    # ---- field access

    def field(self, model: str, name: str) -> Mapping[str, Any] | None:
        return self.fields[model].get(name)

    def raw(self, model: str, row: Row, name: str) -> Any:
        table = self.tables[model]
        col = table.cols.get(name)
        return col[row] if col is not None else table.default(name)

    def related_raw(self, model: str, row: Row, link: str, name: str) -> Any:
        relation = self.fields[model][link]["relation"]
        target = self.tables[relation].row(self.raw(model, row, link))
        return False if target is None else self.raw(relation, target, name)

    def related_value(self, model: str, row: Row, link: str, name: str) -> Any:
        relation = self.fields[model][link]["relation"]
        target = self.tables[relation].row(self.raw(model, row, link))
        return False if target is None else self.getter(relation, name)(target)

    def getter(self, model: str, name: str) -> Getter:
        """Row -> stored value (many2one as an id, x2many as a tuple, datetimes as datetime)."""
        spec = MODELS[model]
        if name == "id":
            return self.tables[model].ids.__getitem__
        if name == "display_name":
            return lambda row: spec.display(self, row)
        if name == "__last_update":
            return self.getter(model, "write_date")
        compute = spec.computed.get(name)
        if compute is not None:
            return lambda row: compute(self, row)
        table = self.tables[model]
        col = table.cols.get(name)
        if col is not None:
            return col.__getitem__
        if spec.inherits and name in self.fields[spec.inherits[0]]:
            return self._inherited_getter(model, name)
        default = table.default(name)
        return lambda row: default

    def _inherited_getter(self, model: str, name: str) -> Getter:
        """A field the child takes from its `_inherits` parent (product <- template)."""
        parent_model, link = MODELS[model].inherits or ("", "")
        links = self.tables[model].cols.get(link)
        parent = self.tables[parent_model]
        get = self.getter(parent_model, name)
        default = self.tables[model].default(name)
        if links is None:
            return lambda row: default

        def inherited(row: Row) -> Any:
            target = parent.row(links[row])
            return default if target is None else get(target)

        return inherited

    def path_getter(self, model: str, path: Sequence[str]) -> Getter:
        get = self.getter(model, path[0])
        if len(path) == 1:
            return get
        relation = self.fields[model][path[0]]["relation"]
        table = self.tables[relation]
        sub = self.path_getter(relation, path[1:])

        def follow(row: Row) -> Any:
            target = table.row(get(row))
            return False if target is None else sub(target)

        return follow

    def path_field(self, model: str, path: Sequence[str]) -> Mapping[str, Any]:
        info = self.fields[model][path[0]]
        return info if len(path) == 1 else self.path_field(info["relation"], path[1:])

    def display_name(self, model: str, rid: int) -> str:
        table = self.tables.get(model)
        row = table.row(rid) if table is not None else None
        if row is None:
            return STUB_NAMES.get((model, rid), f"{model},{rid}")
        return MODELS[model].display(self, row)

    def reader(self, model: str, name: str) -> Callable[[Row], Any]:
        """Row -> the JSON value Odoo's `read` answers for the field."""
        info = self.fields[model][name]
        ftype = info["type"]
        get = self.getter(model, name)
        if ftype == "many2one":
            return self._many2one_reader(get, info["relation"])
        if ftype in X2MANY:
            return lambda row: list(get(row))
        if ftype == "datetime":
            return lambda row: _format_datetime(get(row))
        if ftype == "date":
            return lambda row: value.isoformat() if (value := get(row)) else False
        if name in self.tables[model].cols:
            return get  # columns hold normalized values (see `stored_value`)
        if ftype in ("float", "monetary"):
            return lambda row: float(get(row) or 0.0)
        if ftype == "integer":
            return lambda row: int(get(row) or 0)
        if ftype == "boolean":
            return lambda row: bool(get(row))
        return get

    def _many2one_reader(self, get: Getter, relation: str) -> Callable[[Row], Any]:
        names: dict[int, str] = {}  # for one read: many rows share few related records

        def many2one(row: Row) -> Any:
            rid = get(row)
            if not rid:
                return False
            name = names.get(rid)
            if name is None:
                name = names[rid] = self.display_name(relation, rid)
            return [rid, name]

        return many2one

    # ---- search

    def search_rows(
        self,
        model: str,
        domain: Any,
        offset: int | None = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
    ) -> list[Row]:
        node = DomainCompiler(self, model).compile(self._active_domain(model, domain, active_test))
        terms = self.order_terms(model, order)
        rows = id_range(self.tables[model].ids, node.conj)
        start = offset or 0
        stop = start + limit if limit else None
        if terms and terms[0][0] == ("id",):
            ordered = reversed(rows) if terms[0][1] else rows
            return list(itertools.islice(filter(node.pred, ordered), start, stop))
        matched = self.sort_rows(model, list(filter(node.pred, rows)), terms)
        return matched[start:stop]

    def count_rows(
        self, model: str, domain: Any, limit: int | None = None, active_test: bool = True
    ) -> int:
        node = DomainCompiler(self, model).compile(self._active_domain(model, domain, active_test))
        matches = filter(node.pred, id_range(self.tables[model].ids, node.conj))
        return sum(1 for _ in itertools.islice(matches, limit or None))

    def name_search_ids(self, model: str, name: Any, op: str) -> list[int]:
        """Ids whose display name matches, like `_name_search` with `active_test=False`."""
        get = self.getter(model, "display_name")
        if op in ("in", "not in"):
            pred = in_predicate("char", get, op, name)
        elif op in LIKE_OPERATORS:
            pred = like_predicate(get, op, name, str)
        else:
            pred = compare_predicate("char", get, op, name)
        table = self.tables[model]
        return [table.ids[row] for row in range(len(table)) if pred(row)]

    def _active_domain(self, model: str, domain: Any, active_test: bool) -> Any:
        """Hide archived records unless `active_test` is off or the domain names `active`."""
        if not active_test or "active" not in self.fields[model]:
            return domain
        if not isinstance(domain, (list, tuple)):
            return domain
        for item in domain:
            if isinstance(item, (list, tuple)) and item and item[0] == "active":
                return domain
        return [("active", "=", True), *domain]

    def order_terms(self, model: str, order: str | None) -> list[OrderTerm]:
        spec = order or MODELS[model].order
        if not _ORDER_RE.match(spec):
            raise OdooError(
                "odoo.exceptions.UserError",
                f'Invalid "order" specified ({spec}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)",
            )
        terms: list[OrderTerm] = []
        seen: set[tuple[str, str]] = set()
        for name, desc in _order_parts(spec):
            terms += self._expand_order(model, name, desc, (), seen)
        return terms

    def _expand_order(
        self, model: str, name: str, desc: bool, prefix: tuple[str, ...], seen: set[tuple[str, str]]
    ) -> list[OrderTerm]:
        """Odoo orders a many2one by its comodel's `_order` (directions flipped when desc)."""
        info = self.field(model, name)
        if info is None:
            raise value_error(f"Invalid field {name!r} on model {model!r}", "order")
        if not self._sortable(model, name):
            return []  # Odoo 16 logs "cannot be sorted on field" and ignores the term
        relation = info.get("relation")
        if info["type"] != "many2one" or relation not in self.tables or (model, name) in seen:
            return [((*prefix, name), desc)]
        seen.add((model, name))
        terms: list[OrderTerm] = []
        for sub_name, sub_desc in _order_parts(MODELS[relation].order):
            terms += self._expand_order(relation, sub_name, sub_desc != desc, (*prefix, name), seen)
        return terms

    def _sortable(self, model: str, name: str) -> bool:
        info = self.fields[model][name]
        if info["type"] in X2MANY:
            return False
        if info["store"]:
            return True
        inherits = MODELS[model].inherits
        parent = self.field(inherits[0], name) if inherits else None
        return bool(parent and parent["store"])

    def sort_rows(self, model: str, rows: list[Row], terms: Sequence[OrderTerm]) -> list[Row]:
        """Stable multi-key sort; nulls last ascending and first descending, like PostgreSQL."""
        for path, desc in reversed(terms):
            boolean = self.path_field(model, path)["type"] == "boolean"
            rows.sort(key=_sort_key(self.path_getter(model, path), boolean), reverse=desc)
        return rows

    # ---- read

    def check_fields(self, model: str, fields: Any) -> list[str]:
        if not fields:
            return [name for name in self.fields[model] if name != "id"]
        for name in fields:
            if name not in self.fields[model]:
                raise value_error(f"Invalid field {name!r} on model {model!r}", "read")
        return [name for name in dict.fromkeys(fields) if name != "id"]

    def read_rows(self, model: str, rows: Iterable[Row], names: Sequence[str]) -> list[dict]:
        readers = [(name, self.reader(model, name)) for name in names]
        ids = self.tables[model].ids
        result = []
        for row in rows:
            record: dict[str, Any] = {"id": ids[row]}
            for name, read in readers:
                record[name] = read(row)
            result.append(record)
        return result

    # ---- write

    def create(self, model: str, values: Mapping[str, Any], now: datetime, uid: int) -> int:
        table = self._table(model)
        vals = self._stored(model, values)
        rid = vals.pop("id", None) or table.next_id()
        vals = {"create_date": now, "write_date": now, "create_uid": uid, "write_uid": uid, **vals}
        table.insert(rid, vals)
        for name, value in vals.items():
            self._link(model, name, rid, value)
        return rid

    def write(
        self, model: str, ids: Iterable[int], values: Mapping[str, Any], now: datetime, uid: int
    ) -> None:
        table = self._table(model)
        vals = {**self._stored(model, values), "write_date": now, "write_uid": uid}
        vals.pop("id", None)
        for rid in ids:
            row = table.row(rid)
            if row is None:
                raise SimNotFound(f"{model} {rid} does not exist")
            for name, value in vals.items():
                col = table.column(name)
                if (model, name) in INVERSES:
                    self._unlink(model, name, rid, col[row])
                    self._link(model, name, rid, value)
                col[row] = value

    def _table(self, model: str) -> Table:
        table = self.tables.get(model)
        if table is None:
            raise SimError(f"the simulator has no model {model!r}")
        return table

    def _stored(self, model: str, values: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.fields[model])
        if unknown:
            raise SimError(f"unknown fields on {model}: {sorted(unknown)}")
        return {
            name: value if name == "id" else stored_value(self.fields[model][name]["type"], value)
            for name, value in values.items()
        }

    def _link(self, model: str, name: str, rid: int, parent_id: Any) -> None:
        target = INVERSES.get((model, name))
        if target is None or is_null(parent_id):
            return
        parent = self.tables[target[0]]
        row = parent.row(parent_id)
        if row is not None:
            col = parent.column(target[1])
            col[row] = tuple(sorted({*col[row], rid}))

    def _unlink(self, model: str, name: str, rid: int, parent_id: Any) -> None:
        target = INVERSES.get((model, name))
        if target is None or is_null(parent_id):
            return
        parent = self.tables[target[0]]
        row = parent.row(parent_id)
        if row is not None:
            col = parent.column(target[1])
            col[row] = tuple(child for child in col[row] if child != rid)


def _format_datetime(value: Any) -> Any:
    """Odoo answers datetimes truncated to whole seconds."""
    return value.isoformat(" ", "seconds") if value else False


def _sort_key(get: Getter, boolean: bool) -> Callable[[Row], tuple[int, Any]]:
    """Nulls sort after every value (booleans are never null: Odoo orders COALESCE(f, false))."""

    def key(row: Row) -> tuple[int, Any]:
        value = get(row)
        if boolean:
            return (0, bool(value))
        return (1, 0) if is_null(value) else (0, value)

    return key


# --------------------------------------------------------------------------- RPC methods


class BaseModel:
    """The model methods reachable over RPC, with Odoo 16's signatures (errors read alike)."""

    def __init__(
        self, store: Store, model: str, context: Mapping[str, Any], ids: Any = None
    ) -> None:
        self._store = store
        self._model = model
        self._active_test = bool(context.get("active_test", True))
        self._ids = ids

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **read_kwargs: Any,
    ) -> list[dict]:
        rows = self._store.search_rows(
            self._model, domain or [], offset, limit, order, self._active_test
        )
        if not rows:
            return []
        names = [] if fields == ["id"] else self._store.check_fields(self._model, fields)
        return self._store.read_rows(self._model, rows, names)

    def search(
        self,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        count: bool = False,
    ) -> list[int] | int:
        if count:
            return self.search_count(domain, limit)
        rows = self._store.search_rows(self._model, domain, offset, limit, order, self._active_test)
        ids = self._store.tables[self._model].ids
        return [ids[row] for row in rows]

    def search_count(self, domain: Any, limit: int | None = None) -> int:
        return self._store.count_rows(self._model, domain, limit, self._active_test)

    def read(self, fields: Any = None, load: str = "_classic_read") -> list[dict]:
        names = self._store.check_fields(self._model, fields)
        ids = self._ids if isinstance(self._ids, (list, tuple)) else [self._ids]
        table = self._store.tables[self._model]
        rows = [row for row in map(table.row, ids) if row is not None]
        return self._store.read_rows(self._model, rows, names)

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, dict]:
        result = {}
        for name, description in self._store.fields[self._model].items():
            if allfields and name not in allfields:
                continue
            result[name] = _describe(description, attributes)
        return result


def _describe(description: Mapping[str, Any], attributes: Any) -> dict[str, Any]:
    """Keep the asked attributes; Odoo 16 always adds `searchable: false` when it applies."""
    if not attributes:
        return dict(description)
    kept = {key: value for key, value in description.items() if key in attributes}
    if "searchable" in description:
        kept["searchable"] = description["searchable"]
    return kept


MODEL_METHODS = frozenset({"search_read", "search", "search_count", "fields_get"})
RECORD_METHODS = frozenset({"read"})
_PRIVATE = re.compile(r"^(_.*|init)$")


# --------------------------------------------------------------------------- the simulator


class CallRecord(NamedTuple):
    service: str | None
    method: str | None
    model: str | None
    odoo_method: str | None


_GENERATED_TAX = (TAX_ID,)


class OdooSim:
    """An in-memory Odoo database behind `POST /jsonrpc`, plus a control API for tests and demos.

    Thread-safe: the uvicorn thread and test threads share it under one lock.
    """

    def __init__(
        self,
        database: str = "odoo_test",
        login: str = "admin",
        password: str = "admin",
        api_keys: list[str] | None = None,
        uid: int = 2,
        clock: Clock | None = None,
        version: str = "16.0",
    ) -> None:
        if version not in PROFILES:
            raise ValueError(f"unsupported Odoo version {version!r} (have {sorted(PROFILES)})")
        self.profile = PROFILES[version]
        self.database = database
        self.login = login
        self.uid = uid
        self.clock: Clock = clock or utcnow
        self._secrets = frozenset([password, *(api_keys or [])])
        self._lock = threading.RLock()
        self._calls: list[CallRecord] = []
        self.store = Store(load_fields(self.profile.fields_file))
        self.app = self._build_app()

    # ---- call log

    @property
    def calls(self) -> list[CallRecord]:
        """Every JSON-RPC call received, oldest first (failed ones included)."""
        with self._lock:
            return list(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def call_counts(self) -> Counter[CallRecord]:
        with self._lock:
            return Counter(self._calls)

    # ---- JSON-RPC

    def handle_jsonrpc(self, body: bytes | str) -> dict[str, Any]:
        """One `POST /jsonrpc` body -> the response envelope (always HTTP 200, like Odoo)."""
        try:
            request = json.loads(body)
        except ValueError:
            bad = OdooError("werkzeug.exceptions.BadRequest", "400 Bad Request: Invalid JSON data")
            return self._error_envelope(None, bad)
        request = request if isinstance(request, dict) else {}
        params = request.get("params")
        params = params if isinstance(params, dict) else {}
        try:
            result = self.dispatch(params.get("service"), params.get("method"), params.get("args"))
        except OdooError as exc:
            return self._error_envelope(request.get("id"), exc)
        except Exception as exc:
            log.debug("odoo sim: call failed", exc_info=True)
            return self._error_envelope(request.get("id"), python_error(exc))
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}

    def _error_envelope(self, request_id: Any, error: OdooError) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": self.profile.error_code,
                "message": "Odoo Server Error",
                "data": error.data(),
            },
        }

    def dispatch(self, service: Any, method: Any, args: Any) -> Any:
        """`dispatch_rpc(service, method, args)`: raises OdooError like the server would."""
        args = list(args) if isinstance(args, (list, tuple)) else []
        with self._lock:
            self._record(service, method, args)
            if service == "common":
                return self._common(method, args)
            if service == "object":
                return self._object(method, args)
            raise OdooError("builtins.KeyError", repr(service), "common")

    def execute(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        """`execute_kw` as the configured user without HTTP (logged like any call)."""
        call = [self.database, self.uid, next(iter(self._secrets)), model, method]
        return self.dispatch("object", "execute_kw", [*call, list(args), dict(kwargs or {})])

    def _record(self, service: Any, method: Any, args: list[Any]) -> None:
        model = odoo_method = None
        if service == "object" and len(args) > 4:
            model, odoo_method = args[3], args[4]
        self._calls.append(CallRecord(service, method, model, odoo_method))

    def _common(self, method: Any, args: list[Any]) -> Any:
        if method == "version":
            return self.profile.version_payload()
        if method == "authenticate":
            return self._exp_authenticate(*args)
        if method == "login":
            return self._exp_login(*args)
        raise OdooError("builtins.KeyError", repr(f"exp_{method}"), "common")

    def _exp_authenticate(self, db: Any, login: Any, password: Any, user_agent_env: Any) -> Any:
        return self._exp_login(db, login, password)

    def _exp_login(self, db: Any, login: Any, password: Any) -> Any:
        self._check_database(db)
        valid = login == self.login and isinstance(password, str) and password in self._secrets
        return self.uid if valid else False

    def _check_database(self, db: Any) -> None:
        if db != self.database:
            raise OdooError(
                "psycopg2.OperationalError",
                'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{db}" does not exist\n',
                "db",
            )

    def _object(self, method: Any, args: list[Any]) -> Any:
        db, uid, password = args[0], int(args[1]), args[2]
        self._check_database(db)
        if uid != self.uid or not isinstance(password, str) or password not in self._secrets:
            raise access_denied()
        if method == "execute_kw":
            return self._execute_kw(*args[3:])
        if method == "execute":
            return self._execute_kw(args[3], args[4], args[5:])
        raise OdooError("builtins.NameError", f"Method not available {method}")

    def _execute_kw(self, model: Any, name: Any, args: Any, kw: Any = None) -> Any:
        if isinstance(name, str) and _PRIVATE.match(name):
            raise OdooError(
                "odoo.exceptions.AccessError",
                f"Private methods (such as {name}) cannot be called remotely.",
            )
        if model not in self.store.tables:
            raise OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist", "model")
        if name not in MODEL_METHODS and name not in RECORD_METHODS:
            raise OdooError(
                "builtins.AttributeError",
                f"The method '{name}' does not exist on the model '{model}'",
                "method",
            )
        kwargs = dict(kw or {})
        context = kwargs.pop("context", None)
        args = list(args)
        ids = args.pop(0) if name in RECORD_METHODS else None
        recs = BaseModel(self.store, model, context if isinstance(context, dict) else {}, ids)
        return getattr(recs, name)(*args, **kwargs)

    # ---- control API: generic records

    def create(self, model: str, values: Mapping[str, Any]) -> int:
        """Insert a record as given (an explicit `id` and times are kept)."""
        with self._lock:
            return self.store.create(model, values, self.clock(), self.uid)

    def write(self, model: str, ids: Iterable[int], values: Mapping[str, Any]) -> None:
        """Change records; `write_date` becomes the clock's time, like any Odoo write."""
        with self._lock:
            self.store.write(model, list(ids), values, self.clock(), self.uid)

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str] | None = None
    ) -> list[dict]:
        """Odoo's `read` answer, in process (not logged as a call)."""
        with self._lock:
            return BaseModel(self.store, model, {}, list(ids)).read(fields)

    # ---- control API: orders

    def create_order(
        self,
        partner_id: int,
        lines: Sequence[Mapping[str, Any]],
        currency_id: int = 2,
        confirm: bool = True,
        client_order_ref: str | None = None,
        shipping_partner_id: int | None = None,
    ) -> dict[str, Any]:
        """A new quotation (confirmed unless `confirm=False`). Lines: `product_id`, `qty`,
        `price_unit` (default: list price), `discount` (default 0), or `display_type` + `name`.
        """
        with self._lock:
            order_id = self.insert_order(
                {
                    "partner_id": partner_id,
                    "partner_shipping_id": shipping_partner_id or partner_id,
                    "currency_id": currency_id,
                    "client_order_ref": client_order_ref or False,
                },
                lines,
            )
            if confirm:
                self.confirm(order_id)
            return {"id": order_id, "name": self._order_value(order_id, "name")}

    def insert_order(self, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        """Store an order as given (id, name, state and times may be explicit), computing the
        line names and amounts and the order totals. `create_order` is the everyday API.
        """
        with self._lock:
            order = self._order_values(values)
            line_values = [self._line_values(order, spec) for spec in lines]
            order.update(_order_amounts(line_values))
            now = self.clock()
            order_id = self.store.create("sale.order", order, now, self.uid)
            for line in line_values:
                self.store.create("sale.order.line", {**line, "order_id": order_id}, now, self.uid)
            return order_id

    def confirm(self, order_id: int) -> dict[str, Any]:
        """Quotation -> sales order: `state` sale, `date_order` and `write_date` now."""
        with self._lock:
            state = self._order_value(order_id, "state")
            if state not in ("draft", "sent"):
                raise SimConflict(f"sale.order {order_id} is {state!r}; only quotations confirm")
            now = self.clock()
            self._set_state(order_id, "sale", now, {"date_order": now})
            return self._order_summary(order_id)

    def cancel(self, order_id: int) -> dict[str, Any]:
        """Cancel (bumps `write_date`, as in Odoo)."""
        with self._lock:
            self._order_value(order_id, "state")
            self._set_state(order_id, "cancel", self.clock(), {})
            return self._order_summary(order_id)

    def touch(self, order_id: int) -> dict[str, Any]:
        """Bump `write_date` only, as any edit of the order would."""
        with self._lock:
            self._order_value(order_id, "state")
            self.store.write("sale.order", [order_id], {}, self.clock(), self.uid)
            return self._order_summary(order_id)

    def add_generated_orders(
        self, n: int, lines_per_order: int = 5, same_second: bool = False
    ) -> range:
        """Bulk-create `n` confirmed orders for benchmarks; returns their ids.

        Their `write_date`s are just before the clock's now, 1 ms apart, or all inside the
        previous whole second with distinct microseconds when `same_second`.
        """
        if n <= 0:
            return range(0)
        if lines_per_order < 1:
            raise SimError("lines_per_order must be at least 1")
        with self._lock:
            times = _generated_times(self.clock(), n, same_second)
            return _Generator(self.store, self.uid, lines_per_order).add(times)

    def _order_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        order = {
            "state": "draft",
            "currency_id": 2,
            "company_id": 1,
            "user_id": self.uid,
            "pricelist_id": 1,
            "team_id": 1,
            **{key: value for key, value in values.items() if value is not None},
        }
        partner = order.get("partner_id")
        for key in ("partner_id", "partner_invoice_id", "partner_shipping_id"):
            order.setdefault(key, partner)
            self._require("res.partner", order[key])
        self._require("res.currency", order["currency_id"])
        table = self.store.tables["sale.order"]
        order["id"] = order.get("id") or table.next_id()
        order.setdefault("name", f"S{order['id']:05d}")
        created = order.setdefault("create_date", self.clock())
        order.setdefault("write_date", created)
        order.setdefault("date_order", created)
        return order

    def _line_values(self, order: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
        line = {
            "sequence": spec.get("sequence", 10),
            "state": order["state"],
            "currency_id": order["currency_id"],
            "company_id": order["company_id"],
            "order_partner_id": order["partner_id"],
            "salesman_id": order["user_id"],
            "create_date": order["create_date"],
            "write_date": order["write_date"],
        }
        if "id" in spec:
            line["id"] = spec["id"]
        if spec.get("display_type"):
            return {**line, "display_type": spec["display_type"], "name": spec.get("name") or ""}
        product_id = spec.get("product_id")
        row = self._require("product.product", product_id)
        qty = float(spec.get("qty", 1.0))
        price = spec.get("price_unit")
        price = float(
            self.store.getter("product.product", "list_price")(row) if price is None else price
        )
        discount = float(spec.get("discount") or 0.0)
        subtotal, tax, total = line_amounts(qty, price, discount)
        return {
            **line,
            "product_id": product_id,
            "name": spec.get("name") or self.store.display_name("product.product", product_id),
            "product_uom_qty": qty,
            "product_uom": self.store.getter("product.product", "uom_id")(row),
            "price_unit": price,
            "discount": discount,
            "price_subtotal": subtotal,
            "price_tax": tax,
            "price_total": total,
            "tax_id": _GENERATED_TAX,
        }

    def _require(self, model: str, rid: Any) -> Row:
        row = self.store.tables[model].row(rid)
        if row is None:
            raise SimError(f"{model} {rid!r} does not exist")
        return row

    def _order_value(self, order_id: Any, name: str) -> Any:
        row = self.store.tables["sale.order"].row(order_id)
        if row is None:
            raise SimNotFound(f"sale.order {order_id!r} does not exist")
        return self.store.raw("sale.order", row, name)

    def _set_state(self, order_id: int, state: str, now: datetime, extra: dict[str, Any]) -> None:
        self.store.write("sale.order", [order_id], {"state": state, **extra}, now, self.uid)
        lines = self._order_value(order_id, "order_line")
        self.store.write("sale.order.line", lines, {"state": state}, now, self.uid)

    def _order_summary(self, order_id: int) -> dict[str, Any]:
        return {
            "id": order_id,
            "name": self._order_value(order_id, "name"),
            "state": self._order_value(order_id, "state"),
            "write_date": _format_datetime(self._order_value(order_id, "write_date")),
        }

    # ---- HTTP

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/jsonrpc", self._http_jsonrpc, methods=["POST"]),
                Route("/sim/orders", self._http_create_order, methods=["POST"]),
                Route("/sim/orders/generate", self._http_generate, methods=["POST"]),
                Route(
                    "/sim/orders/{order_id:int}/{action}", self._http_order_action, methods=["POST"]
                ),
                Route("/sim/calls", self._http_calls, methods=["GET"]),
                Route("/sim/calls/reset", self._http_reset_calls, methods=["POST"]),
            ]
        )

    async def _http_jsonrpc(self, request: Request) -> Response:
        envelope = self.handle_jsonrpc(await request.body())
        return Response(json.dumps(envelope, ensure_ascii=False), media_type="application/json")

    async def _http_create_order(self, request: Request) -> Response:
        body = await _json_object(request)
        return _control(lambda: self.create_order(**body))

    async def _http_generate(self, request: Request) -> Response:
        body = await _json_object(request)

        def generate() -> dict[str, Any]:
            ids = self.add_generated_orders(**body)
            return {
                "count": len(ids),
                "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None,
            }

        return _control(generate)

    async def _http_order_action(self, request: Request) -> Response:
        actions = {"confirm": self.confirm, "cancel": self.cancel, "touch": self.touch}
        action = actions.get(request.path_params["action"])
        if action is None:
            return JSONResponse({"error": "unknown action"}, status_code=404)
        return _control(lambda: action(request.path_params["order_id"]))

    async def _http_calls(self, request: Request) -> Response:
        counts = self.call_counts()
        return JSONResponse(
            {
                "total": sum(counts.values()),
                "counts": [
                    {**record._asdict(), "count": count} for record, count in counts.items()
                ],
            }
        )

    async def _http_reset_calls(self, request: Request) -> Response:
        self.reset_calls()
        return JSONResponse({"total": 0})


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"__invalid_body__": True}


def _control(call: Callable[[], Any]) -> JSONResponse:
    try:
        return JSONResponse(call())
    except SimError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    except (TypeError, ValueError, KeyError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)


def _order_amounts(lines: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    untaxed = float_round(sum(line.get("price_subtotal", 0.0) for line in lines))
    tax = float_round(sum(line.get("price_tax", 0.0) for line in lines))
    total = float_round(untaxed + tax)
    return {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total}


# --------------------------------------------------------------------------- bulk generation


def _generated_times(now: datetime, n: int, same_second: bool) -> list[datetime]:
    if not same_second:
        start = now - timedelta(milliseconds=n)
        return [start + timedelta(milliseconds=i) for i in range(n)]
    if n > 999_999:
        raise SimError("at most 999,999 orders fit in one second with distinct microseconds")
    second = now.replace(microsecond=0) - timedelta(seconds=1)
    step = 999_999 // n  # from .000001 on: `write_date = <that second>` matches none of them
    return [second + timedelta(microseconds=1 + i * step) for i in range(n)]


def _active_ids(store: Store, model: str) -> list[int]:
    table = store.tables[model]
    active = store.getter(model, "active")
    return [table.ids[row] for row in range(len(table)) if active(row)]


def _sold_product(store: Store, product_id: int) -> tuple[int, str, Any, float]:
    """(id, line name, unit, list price) of a product to put on generated lines."""
    row = store.tables["product.product"].row(product_id)
    uom = store.getter("product.product", "uom_id")(row)
    price = float(store.getter("product.product", "list_price")(row))
    return product_id, store.display_name("product.product", product_id), uom, price


def _repeat(block: Sequence[Any], total: int) -> list[Any]:
    return (list(block) * (total // len(block) + 1))[:total]


class _Generator:
    """Fills the order and line columns straight from a repeating pattern (fast, compact)."""

    def __init__(self, store: Store, uid: int, lines_per_order: int) -> None:
        self.store = store
        self.uid = uid
        self.k = lines_per_order
        self.partners = _active_ids(store, "res.partner")
        self.products = [_sold_product(store, rid) for rid in _active_ids(store, "product.product")]
        if not self.partners or not self.products:
            raise SimError("seed partners and products before generating orders")
        self.period = math.lcm(len(self.products), 3)

    def add(self, times: list[datetime]) -> range:
        n, k = len(times), self.k
        orders = self.store.tables["sale.order"]
        lines = self.store.tables["sale.order.line"]
        first_order, first_line = orders.next_id(), lines.next_id()
        order_ids = range(first_order, first_order + n)
        line_ids = range(first_line, first_line + n * k)
        patterns = [self._pattern(i) for i in range(self.period)]
        partner_ids = _repeat(self.partners, n)
        orders.extend(
            order_ids, self._order_columns(order_ids, first_line, times, partner_ids, patterns)
        )
        lines.extend(line_ids, self._line_columns(order_ids, times, partner_ids, patterns))
        return order_ids

    def _pattern(self, i: int) -> list[tuple[Any, ...]]:
        """Line values of the order at offset `i` of the period."""
        result = []
        for j in range(self.k):
            product_id, name, uom, price = self.products[(i + j) % len(self.products)]
            qty = float(1 + (i + j) % 3)
            result.append((product_id, name, uom, price, qty, *line_amounts(qty, price)))
        return result

    def _order_columns(
        self,
        order_ids: range,
        first_line: int,
        times: list[datetime],
        partner_ids: list[int],
        patterns: list[list[tuple[Any, ...]]],
    ) -> dict[str, list[Any]]:
        n, k, uid = len(order_ids), self.k, self.uid
        amounts = [
            _order_amounts([{"price_subtotal": p[5], "price_tax": p[6]} for p in pattern])
            for pattern in patterns
        ]
        return {
            "name": [f"S{oid:05d}" for oid in order_ids],
            "state": ["sale"] * n,
            "partner_id": partner_ids,
            "partner_invoice_id": partner_ids,
            "partner_shipping_id": partner_ids,
            "currency_id": [2] * n,
            "company_id": [1] * n,
            "user_id": [uid] * n,
            "pricelist_id": [1] * n,
            "team_id": [1] * n,
            "create_uid": [uid] * n,
            "write_uid": [uid] * n,
            "create_date": times,
            "write_date": times,
            "date_order": times,
            "order_line": [
                tuple(range(first_line + i * k, first_line + (i + 1) * k)) for i in range(n)
            ],
            **{
                key: _repeat([amount[key] for amount in amounts], n)
                for key in ("amount_untaxed", "amount_tax", "amount_total")
            },
        }

    def _line_columns(
        self,
        order_ids: range,
        times: list[datetime],
        partner_ids: list[int],
        patterns: list[list[tuple[Any, ...]]],
    ) -> dict[str, list[Any]]:
        n, k, uid = len(order_ids), self.k, self.uid
        total = n * k
        block = [values for pattern in patterns for values in pattern]
        per_line = {
            name: _repeat([values[index] for values in block], total)
            for index, name in enumerate(
                (
                    "product_id",
                    "name",
                    "product_uom",
                    "price_unit",
                    "product_uom_qty",
                    "price_subtotal",
                    "price_tax",
                    "price_total",
                )
            )
        }
        return {
            **per_line,
            "order_id": [oid for oid in order_ids for _ in range(k)],
            "order_partner_id": [pid for pid in partner_ids for _ in range(k)],
            "create_date": [moment for moment in times for _ in range(k)],
            "write_date": [moment for moment in times for _ in range(k)],
            "sequence": [10] * total,
            "state": ["sale"] * total,
            "currency_id": [2] * total,
            "company_id": [1] * total,
            "salesman_id": [uid] * total,
            "create_uid": [uid] * total,
            "write_uid": [uid] * total,
            "tax_id": [_GENERATED_TAX] * total,
        }


# --------------------------------------------------------------------------- standalone


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m poller.sim.odoo", description="Run the Odoo simulator over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069, help="0 picks a free port")
    parser.add_argument(
        "--generated",
        type=int,
        default=0,
        metavar="N",
        help="also bulk-create N confirmed orders (benchmarks)",
    )
    parser.add_argument("--lines-per-order", type=int, default=5)
    parser.add_argument(
        "--same-second",
        action="store_true",
        help="give the generated orders one whole-second write_date",
    )
    parser.add_argument("--database", default="odoo_test")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--api-key", action="append", default=[], dest="api_keys")
    parser.add_argument(
        "--recorded-times",
        action="store_true",
        help="keep the recorded 2026-11-28 times instead of ending at now",
    )
    args = parser.parse_args(argv)
    serve(args)


def serve(args: argparse.Namespace) -> None:
    from poller.sim.seed import seed_shop  # seed imports this module

    sim = OdooSim(args.database, args.login, args.password, args.api_keys)
    seed_shop(sim, anchor=None if args.recorded_times else sim.clock())
    if args.generated:
        sim.add_generated_orders(args.generated, args.lines_per_order, args.same_second)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    print(
        f"Odoo {sim.profile.series} simulator on http://{args.host}:{port} "
        f"(database {args.database!r}, login {args.login!r})",
        flush=True,
    )
    config = uvicorn.Config(sim.app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    from poller.sim import odoo  # run the importable module, not a second `__main__` copy

    odoo.main()
