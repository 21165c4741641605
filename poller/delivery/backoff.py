"""When a failed delivery is tried again. Pure: the caller passes the clock and the randomness.

30 s, 60 s, 120 s, 240 s, 600 s, then every 600 s, each with jitter, until the retry horizon
counted from the first failure; past it the event is dead-lettered.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

SCHEDULE_SECONDS = (30, 60, 120, 240, 600)
JITTER = 0.2


def retry_delay(attempts: int, rng: random.Random, jitter: float = JITTER) -> float:
    """Delay after the `attempts`-th failed attempt (1-based), jittered by +/- `jitter`."""
    base = SCHEDULE_SECONDS[min(max(attempts, 1), len(SCHEDULE_SECONDS)) - 1]
    return base * (1 + rng.uniform(-jitter, jitter))


def next_attempt_at(
    *,
    attempts: int,
    first_queued_at: datetime,
    now: datetime,
    horizon: timedelta,
    rng: random.Random,
    retry_after: float | None = None,
) -> datetime | None:
    """The next attempt time, or None once the horizon is passed (dead-letter)."""
    delay = retry_delay(attempts, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, SCHEDULE_SECONDS[-1] * 6))
    when = now + timedelta(seconds=delay)
    if when - first_queued_at > horizon:
        return None
    return when
