"""Time in one place: the poller's aware UTC datetimes, and Odoo's naive UTC strings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_odoo(moment: datetime) -> str:
    """Odoo's `YYYY-MM-DD HH:MM:SS` (UTC, whole seconds) for an aware or naive-UTC moment."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(ODOO_FORMAT)


def from_odoo(text: str) -> datetime:
    return datetime.strptime(text[:19], ODOO_FORMAT).replace(tzinfo=UTC)
