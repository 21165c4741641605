"""Backoff across runs: 30/60/120/240/600 s then 600 s, jittered, until the retry horizon."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from poller.delivery.backoff import next_attempt_at, retry_delay
from poller.settings import Settings
from tests.support.clock import FakeClock

FIRST_QUEUED = datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC)
DEFAULT_HORIZON = timedelta(hours=Settings.model_fields["retry_horizon_hours"].default)
EXPECTED_BASE = [30, 60, 120, 240, 600, 600, 600, 600, 600, 600, 600, 600]


class FixedRandom(random.Random):
    """A Random whose `uniform` always lands at a chosen fraction of its range (0..1)."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fraction


NO_JITTER = FixedRandom(0.5)


def test_default_horizon_is_72_hours() -> None:
    assert timedelta(hours=72) == DEFAULT_HORIZON


@pytest.mark.parametrize(("attempts", "base"), list(enumerate(EXPECTED_BASE, start=1)))
def test_delay_schedule_without_jitter(attempts: int, base: int) -> None:
    assert retry_delay(attempts, NO_JITTER) == pytest.approx(base)


@pytest.mark.parametrize(("attempts", "base"), [(1, 30), (5, 600), (100, 600), (10_000, 600)])
def test_delay_is_600_forever_after_the_fifth(attempts: int, base: int) -> None:
    assert retry_delay(attempts, NO_JITTER) == pytest.approx(base)


@pytest.mark.parametrize(("attempts", "base"), list(enumerate(EXPECTED_BASE, start=1)))
def test_seeded_delay_is_within_20_percent(attempts: int, base: int) -> None:
    delay = retry_delay(attempts, random.Random(1234))
    assert 0.8 * base <= delay <= 1.2 * base
    # The same seed gives the same delay: reproducible schedules.
    assert retry_delay(attempts, random.Random(1234)) == delay


def test_jitter_extremes_are_exactly_plus_minus_20_percent() -> None:
    assert retry_delay(3, FixedRandom(0.0)) == pytest.approx(120 * 0.8)
    assert retry_delay(3, FixedRandom(1.0)) == pytest.approx(120 * 1.2)


@pytest.mark.parametrize(("attempts", "base"), list(enumerate(EXPECTED_BASE[:7], start=1)))
def test_delay_bounds_over_many_seeds(attempts: int, base: int) -> None:
    delays = [retry_delay(attempts, random.Random(seed)) for seed in range(2000)]
    assert all(0.8 * base <= d <= 1.2 * base for d in delays)
    # Jitter is real: the delays spread across most of the +/-20% band.
    assert min(delays) < 0.83 * base
    assert max(delays) > 1.17 * base
    assert len({round(d, 6) for d in delays}) > 1900


def test_first_retry_is_scheduled_from_now() -> None:
    clock = FakeClock(FIRST_QUEUED)
    clock.advance(5)
    when = next_attempt_at(
        attempts=1,
        first_queued_at=FIRST_QUEUED,
        now=clock.now,
        horizon=DEFAULT_HORIZON,
        rng=random.Random(7),
    )
    assert when is not None
    assert clock.now + timedelta(seconds=24) <= when <= clock.now + timedelta(seconds=36)


def test_whole_schedule_on_a_fake_clock() -> None:
    clock = FakeClock(FIRST_QUEUED)
    rng = random.Random(99)
    for attempts, base in enumerate(EXPECTED_BASE, start=1):
        when = next_attempt_at(
            attempts=attempts,
            first_queued_at=FIRST_QUEUED,
            now=clock.now,
            horizon=DEFAULT_HORIZON,
            rng=rng,
        )
        assert when is not None
        delay = (when - clock.now).total_seconds()
        assert 0.8 * base <= delay <= 1.2 * base, (attempts, delay)
        clock.now = when


def test_retry_after_raises_the_delay() -> None:
    now = FIRST_QUEUED + timedelta(seconds=10)
    when = next_attempt_at(
        attempts=1,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=random.Random(3),
        retry_after=900,
    )
    assert when == now + timedelta(seconds=900)


def test_retry_after_shorter_than_the_schedule_does_not_lower_it() -> None:
    now = FIRST_QUEUED + timedelta(seconds=10)
    when = next_attempt_at(
        attempts=4,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=NO_JITTER,
        retry_after=5,
    )
    assert when == now + timedelta(seconds=240)


def test_retry_after_zero_keeps_the_schedule() -> None:
    now = FIRST_QUEUED
    when = next_attempt_at(
        attempts=2,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=NO_JITTER,
        retry_after=0.0,
    )
    assert when == now + timedelta(seconds=60)


def test_within_the_horizon_still_schedules() -> None:
    now = FIRST_QUEUED + timedelta(hours=71)
    when = next_attempt_at(
        attempts=40,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=FixedRandom(1.0),
    )
    assert when == now + timedelta(seconds=720)


def test_landing_exactly_on_the_horizon_still_schedules() -> None:
    now = FIRST_QUEUED + DEFAULT_HORIZON - timedelta(seconds=600)
    when = next_attempt_at(
        attempts=6,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=NO_JITTER,
    )
    assert when == FIRST_QUEUED + DEFAULT_HORIZON


def test_past_the_horizon_returns_none() -> None:
    now = FIRST_QUEUED + DEFAULT_HORIZON - timedelta(seconds=599)
    when = next_attempt_at(
        attempts=6,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=NO_JITTER,
    )
    assert when is None


@pytest.mark.parametrize("seed", range(50))
def test_past_the_horizon_is_none_whatever_the_jitter(seed: int) -> None:
    now = FIRST_QUEUED + DEFAULT_HORIZON
    assert (
        next_attempt_at(
            attempts=300,
            first_queued_at=FIRST_QUEUED,
            now=now,
            horizon=DEFAULT_HORIZON,
            rng=random.Random(seed),
        )
        is None
    )


def test_retry_after_can_push_past_the_horizon() -> None:
    now = FIRST_QUEUED + DEFAULT_HORIZON - timedelta(minutes=30)
    when = next_attempt_at(
        attempts=2,
        first_queued_at=FIRST_QUEUED,
        now=now,
        horizon=DEFAULT_HORIZON,
        rng=NO_JITTER,
        retry_after=3600,
    )
    assert when is None


def test_horizon_is_counted_from_first_queue_not_from_now() -> None:
    short = timedelta(hours=1)
    kwargs = {"attempts": 1, "horizon": short, "rng": NO_JITTER}
    now = FIRST_QUEUED + timedelta(minutes=59, seconds=45)
    assert next_attempt_at(first_queued_at=FIRST_QUEUED, now=now, **kwargs) is None
    assert next_attempt_at(first_queued_at=now, now=now, **kwargs) == now + timedelta(seconds=30)
