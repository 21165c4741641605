"""The circuit breaker state machine (pure), driven by an explicit clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from poller.breaker import (
    Breaker,
    BreakerPolicy,
    CircuitState,
    admit,
    record_failure,
    record_success,
)

POLICY = BreakerPolicy()
T0 = datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail_times(breaker: Breaker, count: int, start: float = 0.0) -> Breaker:
    for i in range(count):
        breaker = record_failure(breaker, at(start + i), POLICY)
    return breaker


def opened_breaker() -> Breaker:
    """Five failures at t=0..4 s: the circuit opened at t=4 s."""
    return fail_times(Breaker(), 5)


def half_open_breaker() -> Breaker:
    admitted = admit(opened_breaker(), at(4 + 120), POLICY)
    assert admitted is not None
    return admitted


def test_default_policy_matches_design() -> None:
    assert (POLICY.failure_threshold, POLICY.open_seconds, POLICY.close_after) == (5, 120.0, 2)


def test_new_breaker_is_closed_and_admits() -> None:
    breaker = Breaker()
    assert breaker.state is CircuitState.CLOSED
    assert admit(breaker, T0, POLICY) == breaker
    assert breaker.probe_due_at(POLICY) is None


def test_four_failures_stay_closed() -> None:
    breaker = fail_times(Breaker(), 4)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.failures == 4
    assert breaker.opened_at is None
    assert admit(breaker, at(5), POLICY) == breaker


def test_fifth_failure_opens_at_that_moment() -> None:
    breaker = fail_times(Breaker(), 4)
    breaker = record_failure(breaker, at(42), POLICY)
    assert breaker.state is CircuitState.OPEN
    assert breaker.failures == 5
    assert breaker.opened_at == at(42)
    assert breaker.probe_due_at(POLICY) == at(42 + 120)


@pytest.mark.parametrize("elapsed", [0, 1, 60, 119, 119.999])
def test_open_skips_until_open_seconds_have_passed(elapsed: float) -> None:
    breaker = opened_breaker()
    assert admit(breaker, at(4 + elapsed), POLICY) is None


@pytest.mark.parametrize("elapsed", [120, 121, 3600])
def test_open_admits_a_half_open_probe_after_open_seconds(elapsed: float) -> None:
    breaker = opened_breaker()
    probe = admit(breaker, at(4 + elapsed), POLICY)
    assert probe is not None
    assert probe.state is CircuitState.HALF_OPEN
    assert probe.successes == 0
    assert probe.opened_at == breaker.opened_at


def test_open_seconds_come_from_the_policy() -> None:
    policy = BreakerPolicy(failure_threshold=1, open_seconds=10)
    breaker = record_failure(Breaker(), T0, policy)
    assert breaker.state is CircuitState.OPEN
    assert admit(breaker, at(9), policy) is None
    probe = admit(breaker, at(10), policy)
    assert probe is not None and probe.state is CircuitState.HALF_OPEN


def test_one_success_in_half_open_is_not_enough() -> None:
    breaker = record_success(half_open_breaker(), POLICY)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.successes == 1


def test_two_successes_in_half_open_close_it() -> None:
    breaker = half_open_breaker()
    breaker = record_success(record_success(breaker, POLICY), POLICY)
    assert breaker == Breaker()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.failures == 0
    assert breaker.opened_at is None


def test_half_open_admits_the_next_poll_as_the_new_probe() -> None:
    breaker = record_success(half_open_breaker(), POLICY)
    assert breaker.probe_started_at is None
    assert admit(breaker, at(4 + 121), POLICY) == replace(breaker, probe_started_at=at(125))


def test_only_one_poll_probes_while_half_open() -> None:
    probing = half_open_breaker()
    assert probing.probe_started_at == at(124)
    assert admit(probing, at(125), POLICY) is None  # a second run while the probe runs
    timed_out = at(124 + POLICY.probe_timeout_seconds)
    assert admit(probing, timed_out, POLICY) == replace(probing, probe_started_at=timed_out)


@pytest.mark.parametrize("successes_first", [0, 1])
def test_failure_in_half_open_reopens_with_a_new_opened_at(successes_first: int) -> None:
    breaker = half_open_breaker()
    for _ in range(successes_first):
        breaker = record_success(breaker, POLICY)
    reopened = record_failure(breaker, at(500), POLICY)
    assert reopened.state is CircuitState.OPEN
    assert reopened.opened_at == at(500)
    assert reopened.successes == 0
    # The new opening starts a new wait: skipped until 120 s after the re-open.
    assert admit(reopened, at(500 + 119), POLICY) is None
    probe = admit(reopened, at(500 + 120), POLICY)
    assert probe is not None and probe.state is CircuitState.HALF_OPEN


def test_success_while_closed_resets_the_failure_count() -> None:
    breaker = fail_times(Breaker(), 4)
    breaker = record_success(breaker, POLICY)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.failures == 0
    # Counting starts over: four more failures do not open it, the fifth does.
    breaker = fail_times(breaker, 4, start=10)
    assert breaker.state is CircuitState.CLOSED
    breaker = record_failure(breaker, at(20), POLICY)
    assert breaker.state is CircuitState.OPEN


def test_breaker_is_immutable_transitions_return_new_values() -> None:
    breaker = fail_times(Breaker(), 3)
    record_failure(breaker, at(10), POLICY)
    record_success(breaker, POLICY)
    assert breaker.failures == 3
    assert breaker.state is CircuitState.CLOSED
