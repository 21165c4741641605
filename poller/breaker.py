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
    probe_timeout_seconds: float = 300.0  # a probe that never reported (a crash) is retried


@dataclass(frozen=True)
class Breaker:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    successes: int = 0
    opened_at: datetime | None = None
    probe_started_at: datetime | None = None  # a half-open probe is running since then

    def probe_due_at(self, policy: BreakerPolicy) -> datetime | None:
        if self.state is not CircuitState.OPEN or self.opened_at is None:
            return None
        return self.opened_at + timedelta(seconds=policy.open_seconds)


def admit(breaker: Breaker, now: datetime, policy: BreakerPolicy) -> Breaker | None:
    """The breaker a poll runs under, or None when the poll must be skipped.

    While half-open exactly one poll probes at a time: the one that records its start."""
    if breaker.state is CircuitState.CLOSED:
        return breaker
    if breaker.state is CircuitState.HALF_OPEN:
        started = breaker.probe_started_at
        if started is not None and now < started + timedelta(seconds=policy.probe_timeout_seconds):
            return None
        return replace(breaker, probe_started_at=now)
    due = breaker.probe_due_at(policy)
    if due is not None and now >= due:
        return replace(breaker, state=CircuitState.HALF_OPEN, successes=0, probe_started_at=now)
    return None


def record_success(breaker: Breaker, policy: BreakerPolicy) -> Breaker:
    if breaker.state is CircuitState.HALF_OPEN:
        successes = breaker.successes + 1
        if successes >= policy.close_after:
            return Breaker()
        return replace(breaker, successes=successes, probe_started_at=None)
    return Breaker()


def record_failure(breaker: Breaker, now: datetime, policy: BreakerPolicy) -> Breaker:
    if breaker.state is CircuitState.HALF_OPEN:
        return Breaker(CircuitState.OPEN, failures=breaker.failures + 1, opened_at=now)
    failures = breaker.failures + 1
    if failures >= policy.failure_threshold:
        return Breaker(CircuitState.OPEN, failures=failures, opened_at=now)
    return replace(breaker, failures=failures)


def circuit_change(before: Breaker, after: Breaker) -> str | None:
    if after.state is CircuitState.OPEN and before.state is not CircuitState.OPEN:
        return "opened"
    if after.state is CircuitState.CLOSED and before.state is not CircuitState.CLOSED:
        return "closed"
    return None
