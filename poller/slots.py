"""When a connection is next due: a fixed grid per connection, spread over its interval.
Pure: no clock of its own, no I/O."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta


def next_slot(
    slot: datetime | None, interval: timedelta, started: datetime, phase: float = 0.0
) -> datetime:
    """When a connection is next due after a poll that began at `started` and served `slot`.

    A fixed rate: neither a poll's length nor a late start pushes the schedule back, and slots
    missed while nobody polled are skipped rather than run back to back. A connection with no
    slot yet (never polled, or its interval just changed) joins the grid of its `phase`, a
    fraction of the interval: spread phases keep thousands of tenants from all falling due in
    the same second, so fleet workers share them tick by tick instead of one taking all."""
    if slot is None or started < slot:
        period = interval.total_seconds()
        offset = (phase % 1.0) * period
        slots = math.floor((started.timestamp() - offset) / period) + 1
        return datetime.fromtimestamp(slots * period + offset, tz=started.tzinfo or UTC)
    return slot + ((started - slot) // interval + 1) * interval


def spread_phase(connection_id: int) -> float:
    """A connection's phase in its interval: consecutive ids land far apart (the golden-ratio
    sequence), so any number of connections is spread evenly."""
    return (connection_id * 0.6180339887498949) % 1.0
