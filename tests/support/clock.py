"""The one fake clock of the tests: it only moves when a test says so.

Call it for `now` as it was started (aware for the poller's store, naive for the simulated
Odoo); `aware` and `naive` give the same moment in the other form, so one clock can drive
both sides of a test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def aware(self) -> datetime:
        """Now as an aware UTC datetime (the poller's clock); a naive start is read as UTC."""
        return self.now.astimezone(UTC) if self.now.tzinfo else self.now.replace(tzinfo=UTC)

    def naive(self) -> datetime:
        """Now as a naive UTC datetime (the simulated Odoo's clock)."""
        return self.aware().replace(tzinfo=None)
