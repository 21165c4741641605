"""A fleet worker's loop: every tick, claim what is due and poll it as one batch.

Besides the ticks, on their own clocks: every block is listed, a page at a time, from the
start and then every `fleet_relist_seconds` (only changed blocks are parsed; the claims
whose block was saved since, or is not cached yet, read those blocks in one request), the
worker's leases are renewed in one statement every third of a lease (from a thread: see
`BeatThread`), and old empty sync-log rows are pruned hourly. Batches overlap freely: a slow
tenant never delays the next tick, and a tenant still being polled is held, so it is not
claimed again. How a batch is polled is the caller's (the `fleet-worker` flow polls inside
its run): nothing here calls Prefect (the block listing it is handed does).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from poller.errors import PollerError, one_line
from poller.fleet import DefinitionChanges, Definitions, Fleet, PageChanges
from poller.lease import BeatThread

PollBatch = Callable[[list[str]], Awaitable[object]]
ListPages = Callable[[Definitions], AsyncIterator[PageChanges]]
Say = Callable[[str], None]
PRUNE_EVERY = timedelta(hours=1)


@dataclass
class FleetStats:
    ticks: int = 0
    batches: int = 0
    claimed: int = 0
    failed_batches: int = 0


class FleetLoop:
    def __init__(
        self,
        fleet: Fleet,
        poll_batch: PollBatch,
        list_pages: ListPages,
        *,
        say: Say,
        on_changes: Callable[[DefinitionChanges], Awaitable[None]] | None = None,
    ) -> None:
        self.fleet = fleet
        self.settings = fleet.settings
        self.poll_batch = poll_batch
        self.list_pages = list_pages
        self.say = say
        self.on_changes = on_changes
        self.stats = FleetStats()
        self._batches: set[asyncio.Task[None]] = set()
        self._refreshing: asyncio.Task[None] | None = None

    async def run(self, stop: asyncio.Event, duration: float | None = None) -> FleetStats:
        """Tick until `stop` is set (or `duration` seconds have passed), then wait for the
        batches in flight. Ticks start at once: until the first listing is in, a claim reads
        its own connection's block."""
        clock = time.monotonic
        deadline = clock() + duration if duration else None
        next_refresh = clock()
        next_prune = clock()
        with BeatThread(self.fleet.renew, self.settings.lease_seconds / 3):
            while not stop.is_set() and (deadline is None or clock() < deadline):
                now = clock()
                if now >= next_refresh and self._refreshing is None:
                    self._refreshing = asyncio.create_task(self._background_refresh())
                    next_refresh = now + self.settings.fleet_relist_seconds
                if now >= next_prune:
                    self._guarded(self._prune)
                    next_prune = now + PRUNE_EVERY.total_seconds()
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._next_tick_in())
            await self.drain()
        return self.stats

    def _next_tick_in(self) -> float:
        """A tick plus or minus a quarter, at random: workers whose ticks fell in step would
        otherwise keep taking the same shares of what falls due (the first after each
        other's tick takes most)."""
        return self.settings.fleet_tick_seconds * random.uniform(0.75, 1.25)

    async def tick(self) -> None:
        self.stats.ticks += 1
        try:
            names = await self.fleet.claim()
        except PollerError as exc:
            self.say(f"[yellow]could not claim due connections: {one_line(exc)}[/]")
            return
        if names:
            self.stats.claimed += len(names)
            batch = asyncio.create_task(self._batch(names))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)

    async def _batch(self, names: list[str]) -> None:
        self.stats.batches += 1
        try:
            await self.poll_batch(names)
        except Exception as exc:  # the batch's flow run could not run: its claims go back
            self.stats.failed_batches += 1
            self.say(f"[red]a fleet batch of {len(names)} failed:[/] {one_line(exc)}")
        finally:
            self.fleet.settle(names)

    async def refresh(self) -> None:
        """List every block a page at a time, taking each page's changes as it comes; then
        the connections no page listed (confirmed one by one) are gone."""
        listed: set[str] = set()
        try:
            async for page in self.list_pages(self.fleet.definitions):
                listed |= page.listed
                await self._take(page.changes)
            gone = await self.fleet.confirm_gone(set(self.fleet.definitions.stamps) - listed)
        except Exception as exc:  # the Prefect API is down or busy: keep what is cached
            self.say(
                f"[yellow]could not read the connections from Prefect: {one_line(exc)}; "
                f"trying again in {self.settings.fleet_relist_seconds:.0f}s[/]"
            )
            return
        await self._take(DefinitionChanges(gone=gone))
        for note in self.fleet.notes:
            self.say(f"[yellow]{note}[/]")
        self.fleet.notes.clear()

    async def _take(self, changes: DefinitionChanges) -> None:
        if changes:
            self._guarded(self.fleet.take, changes)
            if self.on_changes is not None:
                await self.on_changes(changes)

    async def _background_refresh(self) -> None:
        try:
            await self.refresh()
        finally:
            self._refreshing = None

    def _prune(self) -> None:
        now = self.fleet.store.clock()
        self.fleet.store.logs.prune(now - timedelta(hours=self.settings.sync_log_retention_hours))

    def _guarded(self, action: Callable[..., object], *args: object) -> None:
        try:
            action(*args)
        except PollerError as exc:
            self.say(f"[yellow]{one_line(exc)}[/]")

    async def drain(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        if self._batches:
            self.say(f"Waiting for {len(self._batches)} fleet batch(es) in flight…")
            await asyncio.gather(*self._batches, return_exceptions=True)
