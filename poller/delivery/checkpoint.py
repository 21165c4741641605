"""Send outcomes written as their responses arrive, so a crash re-sends little.

Recording a page's results once at its end meant a kill re-sent every delivery of the page,
accepted or not. Here each response is written at once, together with any others that
arrived in the same turn of the event loop: a batch holds at most the sends in flight, so a
kill leaves at most `send_concurrency` accepted deliveries unrecorded (and so re-sent,
under the same webhook-id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from poller.state.outbox import DeliveryResult

Write = Callable[[Sequence[DeliveryResult]], None]


class Checkpoint:
    def __init__(self, write: Write) -> None:
        self._write = write
        self._pending: list[DeliveryResult] = []

    async def record(self, result: DeliveryResult) -> None:
        """Queue `result` and write it with whatever else arrived in this turn of the loop.

        A failed write raises in the send that triggered it: the step fails and its retry
        sends only the deliveries still open in the database."""
        self._pending.append(result)
        await asyncio.sleep(0)  # let responses that are already in join this batch
        if not self._pending:
            return  # an earlier send of this turn wrote it
        batch, self._pending = self._pending, []
        self._write(batch)
