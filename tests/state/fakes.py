"""Test doubles for the state tests: only a clock; the databases are real."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Aware UTC time that only moves when a test says so."""

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
