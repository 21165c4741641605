"""`poller run` in fleet mode: every `fleet_tick_seconds` one `poll-fleet` flow run polls the
connections that are due. Ticks overlap freely: a slow tenant never delays the next tick,
and a tenant still being polled is not picked again. Per-connection deployments are served
unscheduled, for manual runs from the UI or `prefect deployment run`."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from rich.console import Console

from deployments.serve import ConnectionServer, stop_on_signals
from flows.fleet import poll_fleet, use_fleet
from poller.blocks import all_connections
from poller.crypto import SecretBox
from poller.fleet import Fleet
from poller.runtime import default_store
from poller.settings import Settings

PRUNE_EVERY = timedelta(hours=1)


async def tick_loop(
    fleet: Fleet, settings: Settings, stop: asyncio.Event, console: Console
) -> None:
    ticks: set[asyncio.Task[object]] = set()
    last_prune = None
    while not stop.is_set():
        due = fleet.due()
        if due:
            fleet.busy.update(due)  # reserved until the tick's flow run is over
            tick = asyncio.create_task(poll_fleet(due, connections_count=len(due)))
            ticks.add(tick)
            tick.add_done_callback(lambda t, names=due: _tick_done(t, names, fleet, ticks, console))
        now = fleet.store.clock()
        if last_prune is None or now - last_prune >= PRUNE_EVERY:
            cutoff = now - timedelta(hours=settings.sync_log_retention_hours)
            fleet.store.prune_sync_logs(cutoff)
            last_prune = now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.fleet_tick_seconds)
    if ticks:
        console.print(f"Waiting for {len(ticks)} fleet tick(s) in flight…")
        await asyncio.gather(*ticks, return_exceptions=True)


def _tick_done(
    tick: asyncio.Task[object],
    names: list[str],
    fleet: Fleet,
    ticks: set[asyncio.Task[object]],
    console: Console,
) -> None:
    ticks.discard(tick)
    fleet.busy.difference_update(names)
    if not tick.cancelled() and tick.exception() is not None:
        console.print(f"[red]a fleet tick failed:[/] {tick.exception()}")


async def run_fleet(console: Console, settings: Settings) -> None:
    fleet = Fleet(settings, default_store(settings), SecretBox(settings.encryption_key))
    use_fleet(fleet)
    server = ConnectionServer(
        console,
        refresh_seconds=settings.connections_refresh_seconds,
        scheduled=False,
        on_configs=fleet.update,
    )
    stop = stop_on_signals()
    # Poll first: applying thousands of per-connection deployments (for manual runs) takes
    # minutes, and `server.serve` does it, from the same list, while the ticks already run.
    configs = await all_connections()
    await fleet.update(configs)
    console.print(
        f"Fleet mode: {len(fleet.pollers)} connections, a tick every "
        f"{settings.fleet_tick_seconds:g}s, {settings.fleet_concurrency} at once."
    )
    ticking = asyncio.create_task(tick_loop(fleet, settings, stop, console))
    try:
        await server.serve(stop, configs)
    finally:
        stop.set()
        await ticking
        await fleet.aclose()
        use_fleet(None)
