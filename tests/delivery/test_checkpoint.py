"""Send outcomes are written as responses arrive, in batches no wider than the sends in
flight."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

from poller.delivery.checkpoint import Checkpoint
from poller.state.models import DeliveryStatus
from poller.state.outbox import DeliveryResult


def delivered(delivery_id: int) -> DeliveryResult:
    return DeliveryResult(delivery_id, DeliveryStatus.DELIVERED, 200, None, None)


async def test_each_response_is_written_before_the_sends_end_and_batches_stay_narrow() -> None:
    batches: list[list[int]] = []
    finished: list[int] = []
    width = 4

    def write(results: Sequence[DeliveryResult]) -> None:
        batches.append([r.delivery_id for r in results])

    checkpoint = Checkpoint(write)
    gate = asyncio.Semaphore(width)
    rng = random.Random(7)

    async def send(delivery_id: int) -> None:
        async with gate:
            await asyncio.sleep(rng.choice([0.0, 0.001, 0.002]))
            await checkpoint.record(delivered(delivery_id))
            finished.append(delivery_id)

    await asyncio.gather(*(send(i) for i in range(40)))
    written = [i for batch in batches for i in batch]
    assert sorted(written) == list(range(40))  # every outcome, once
    assert max(len(batch) for batch in batches) <= width
    assert len(batches) >= 40 // width  # written along the way, not once at the end
    assert any(len(batch) > 1 for batch in batches)  # same-turn responses share a write


async def test_a_failed_write_fails_the_send_that_triggered_it() -> None:
    def write(_results: Sequence[DeliveryResult]) -> None:
        raise RuntimeError("database is locked")

    checkpoint = Checkpoint(write)
    outcomes = await asyncio.gather(
        checkpoint.record(delivered(1)), checkpoint.record(delivered(2)), return_exceptions=True
    )
    assert [type(o) for o in outcomes].count(RuntimeError) == 1
