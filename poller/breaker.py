"""The per-connection circuit breaker as a pure state machine; persistence is in poller.state.

CLOSED -> OPEN after `failure_threshold` consecutive failed polls; OPEN -> HALF_OPEN once
`open_seconds` have passed (the next poll is the probe); HALF_OPEN -> CLOSED after
`close_after` successes; any failure while HALF_OPEN -> OPEN again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5
    open_seconds: float = 120.0
    close_after: int = 2


@dataclass(frozen=True)
class Breaker:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    successes: int = 0
    opened_at: datetime | None = None

    def probe_due_at(self, policy: BreakerPolicy) -> datetime | None:
        if self.state is not CircuitState.OPEN or self.opened_at is None:
            return None
        return self.opened_at + timedelta(seconds=policy.open_seconds)


def admit(breaker: Breaker, now: datetime, policy: BreakerPolicy) -> Breaker | None:
    """The breaker a poll runs under, or None when the poll must be skipped."""
    if breaker.state is not CircuitState.OPEN:
        return breaker
    due = breaker.probe_due_at(policy)
    if due is not None and now >= due:
        return replace(breaker, state=CircuitState.HALF_OPEN, successes=0)
    return None


def record_success(breaker: Breaker, policy: BreakerPolicy) -> Breaker:
    if breaker.state is CircuitState.HALF_OPEN:
        successes = breaker.successes + 1
        if successes >= policy.close_after:
            return Breaker()
        return replace(breaker, successes=successes)
    return Breaker()


def record_failure(breaker: Breaker, now: datetime, policy: BreakerPolicy) -> Breaker:
    if breaker.state is CircuitState.HALF_OPEN:
        return Breaker(CircuitState.OPEN, failures=breaker.failures + 1, opened_at=now)
    failures = breaker.failures + 1
    if failures >= policy.failure_threshold:
        return Breaker(CircuitState.OPEN, failures=failures, opened_at=now)
    return replace(breaker, failures=failures)
