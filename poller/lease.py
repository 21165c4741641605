"""Keeping a lease alive while work runs: a background beat every third of the lease.

A poll that waits on a slow receiver or a slow Odoo for longer than its lease would
otherwise lose its connection to another worker mid-page; with a beat, only a dead process
(which beats no more) loses its leases, and they expire one lease after its last beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable
from types import TracebackType

from poller.errors import PollerError


class Heartbeat:
    """Calls `beat` every `every` seconds in the background while the `async with` runs."""

    def __init__(self, beat: Callable[[], object], every: float) -> None:
        self.beat = beat
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            # A database hiccup is retried at the next beat; the work itself finds out about
            # a lease that is really lost when it renews (LeaseLost).
            with contextlib.suppress(PollerError):
                self.beat()


class BeatThread:
    """Calls `beat` every `every` seconds on a thread of its own while the `with` runs.

    Why a thread: a fleet worker's event loop can be held up for seconds at a time (hundreds
    of polls, a busy Prefect API answering its task runs), and a lease renewed from that loop
    would lapse under a worker that is alive; the thread beats as long as the process lives.
    """

    def __init__(self, beat: Callable[[], object], every: float) -> None:
        self.beat = beat
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-beat", daemon=True)

    def __enter__(self) -> BeatThread:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(PollerError):  # retried at the next beat
                self.beat()


def poll_owner(worker: str) -> str:
    """A lease holder's name: the worker's, plus a nonce, so that two processes given the same
    name by mistake never renew each other's leases."""
    return f"{worker}#{uuid.uuid4().hex[:8]}"
