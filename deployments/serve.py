"""`poller run`: serve every enabled connection's deployment from one process.

Connections added while it runs are picked up within `refresh_seconds`. On SIGINT/SIGTERM no
new run starts, runs in flight get `grace_seconds` to finish their sends, and the schedules
are left as they are (never paused or deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from prefect.runner import Runner
from rich.console import Console

from deployments.connections import deployment_name, to_deployment
from poller.blocks import all_connections
from poller.connections import ConnectionConfig
from poller.errors import one_line
from poller.settings import get_settings


class ConnectionServer:
    """Serves the connections' deployments; `scheduled=False` (fleet mode) keeps them for
    manual runs only, and `on_configs` hears of every refreshed connection list."""

    def __init__(
        self,
        console: Console,
        *,
        refresh_seconds: float = 30.0,
        grace_seconds: float = 60.0,
        scheduled: bool = True,
        on_configs: Callable[[list[ConnectionConfig]], Awaitable[None]] | None = None,
    ) -> None:
        self.console = console
        self.refresh_seconds = refresh_seconds
        self.grace_seconds = grace_seconds
        self.scheduled = scheduled
        self.on_configs = on_configs
        self.runner = Runner(name="odoo-order-poller", pause_on_shutdown=False, limit=None)
        self.served: dict[str, ConnectionConfig] = {}
        # A few at a time: a Prefect server on SQLite answers 503 under a burst of applies.
        self._apply_gate = asyncio.Semaphore(4)

    async def refresh(self, configs: list[ConnectionConfig] | None = None) -> None:
        """Serve what was added or changed (in `configs` when the caller just read them).
        A Prefect API that cannot keep up (a server on SQLite answers 503 while busy) delays
        a deployment to the next refresh; it never stops the process, nor the polls of the
        connections already served."""
        if configs is None:
            try:
                configs = await asyncio.to_thread(_read_connections)
            except Exception as exc:  # the API is down or busy: keep serving what we have
                self._warn(f"could not read the connections from Prefect: {one_line(exc)}")
                return
        if self.on_configs is not None:
            await self.on_configs(configs)
        changed = [c for c in configs if c.enabled and self.served.get(c.name) != c]
        outcomes = await asyncio.gather(
            *(self._serve(config) for config in changed), return_exceptions=True
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failures:
            self._warn(
                f"{len(failures)} of {len(changed)} deployment(s) not applied yet: "
                f"{one_line(failures[0])}"
            )
        elif changed and not self.scheduled:
            self.console.print(
                f"{len(self.served)} per-connection deployments ready for manual runs."
            )

    def _warn(self, message: str) -> None:
        self.console.print(
            f"[yellow]{message}; trying again in {self.refresh_seconds:.0f}s[/]",
            markup=True,
            highlight=False,
        )

    async def _serve(self, config: ConnectionConfig) -> None:
        async with self._apply_gate:
            deployment = await to_deployment(config, scheduled=self.scheduled)
            await self.runner.aadd_deployment(deployment)
        verb = "updated" if config.name in self.served else "serving"
        self.served[config.name] = config
        if self.scheduled:
            self.console.print(
                f"{verb} {deployment_name(config.name)} every {config.poll_interval_seconds}s"
            )

    async def serve(
        self, stop: asyncio.Event, configs: list[ConnectionConfig] | None = None
    ) -> None:
        """Refresh until `stop`; the first refresh uses `configs` when given."""
        runner_task = asyncio.create_task(self.runner.start())
        try:
            first = True
            while not stop.is_set():
                # Interruptible: applying thousands of deployments takes minutes, and a
                # SIGTERM must not wait for them.
                if not await _unless_stopped(self.refresh(configs if first else None), stop):
                    break
                if first and not self.served:
                    self.console.print(
                        "No enabled connection yet: add one with `poller add` "
                        f"(checked again every {self.refresh_seconds:.0f}s)."
                    )
                first = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
        finally:
            await self.shutdown(runner_task)

    async def shutdown(self, runner_task: asyncio.Task[Any]) -> None:
        self.runner.stopping = True  # no new runs from here on
        in_flight = _in_flight(self.runner)
        if in_flight:
            self.console.print(
                f"Waiting up to {self.grace_seconds:.0f}s for "
                f"{len(in_flight)} run(s) in flight to finish…"
            )
        deadline = asyncio.get_running_loop().time() + self.grace_seconds
        while _in_flight(self.runner) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
        if self.runner.started:
            await self.runner.astop()
        runner_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner_task
        self.console.print("Stopped; schedules are left as they are.")


def _read_connections() -> list[ConnectionConfig]:
    """Every connection, read on a thread of its own: parsing thousands of block documents
    takes seconds of CPU, which on the event loop would stall fleet mode's ticks."""
    return asyncio.run(all_connections())


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run `work` to its end unless `stop` is set first, which cancels it; whether it ended."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


def _in_flight(runner: Runner) -> set[Any]:
    manager = getattr(runner, "_process_manager", None)
    return manager.flow_run_ids() if manager is not None else set()


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_server(console: Console) -> None:
    refresh = get_settings().connections_refresh_seconds
    await ConnectionServer(console, refresh_seconds=refresh).serve(stop_on_signals())


async def enabled_count() -> int:
    return sum(config.enabled for config in await all_connections())
