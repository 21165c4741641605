"""`poller run --fleet`: this process is one fleet worker. Every `fleet_tick_seconds` it claims
the due connections it has room for and polls them, all inside one `fleet-worker` flow run.
Start it on as many machines as needed with the same PREFECT_API_URL and
POLLER_DATABASE_URL: they share the work through the database's claims. Per-connection
deployments are served unscheduled, for manual runs from the UI or `prefect deployment run`.
"""

from __future__ import annotations

import asyncio

from rich.console import Console

from deployments.serve import ConnectionServer
from flows.fleet import InProcess, fleet_worker, run_in_process
from poller.fleet import DefinitionChanges
from poller.settings import Settings


async def run_fleet(
    console: Console, settings: Settings, stop: asyncio.Event, *, manual_runs: bool = True
) -> None:
    """Be a fleet worker until `stop` is set: one `fleet-worker` flow run for the life of this
    process (see `deployments.stopping` for why the caller owns the signals)."""
    server = ConnectionServer(
        console,
        refresh_seconds=settings.connections_refresh_seconds,
        scheduled=False,
        apply_concurrency=settings.deploy_concurrency,
    )

    async def serve_changed(changes: DefinitionChanges) -> None:
        if manual_runs:  # in the background: applying thousands takes minutes
            server.apply_soon([config for _stamp, config in changes.changed.values()])

    run_in_process(
        InProcess(
            stop=stop,
            say=lambda message: console.print(message, markup=True, highlight=False),
            on_changes=serve_changed,
        )
    )
    serving = server.start(stop) if manual_runs else None
    try:
        await fleet_worker(duration_seconds=0)
    finally:
        stop.set()
        run_in_process(None)
        if serving is not None:
            await serving
