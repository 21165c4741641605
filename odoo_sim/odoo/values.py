"""Field values as the simulator stores them and as Odoo compares, rounds and prints them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from odoo_sim.odoo.errors import OdooFault

X2MANY = frozenset({"one2many", "many2many"})
TAX_RATE = 0.15


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


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


def whole_second(value: Any) -> Any:
    """A datetime without its microseconds (anything else unchanged)."""
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def format_datetime(value: Any) -> Any:
    """Odoo answers datetimes truncated to whole seconds."""
    return value.isoformat(" ", "seconds") if value else False


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
    raise OdooFault(
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
        raise OdooFault(
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
            raise OdooFault(
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
