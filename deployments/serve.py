"""`poller run`: serve every enabled connection's deployment from one process.

Connections added while it runs are picked up within `refresh_seconds`. On SIGINT/SIGTERM no
new run starts, runs in flight get `grace_seconds` to finish their sends, and the schedules
are left as they are (never paused or deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable
from typing import Any

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.runner import Runner
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from rich.console import Console

from deployments.connections import deployment_name
from deployments.heartbeat import use_heartbeats
from deployments.late_runs import skip_superseded_runs
from deployments.recovery import crash_orphaned_runs, crash_unfinished, ensure_zombie_automation
from deployments.runners import Runners
from deployments.writer import DeploymentWriter
from flows.quiet_logs import is_unreachable_api, quiet_unreachable_api_logs
from poller.blocks import all_connections
from poller.connections import ConnectionConfig
from poller.errors import one_line
from poller.fleet import Definitions, block_changes
from poller.settings import get_settings

APPLY_CONCURRENCY = 4
RUNNER_QUERY_SECONDS = 5


class ConnectionServer:
    """Serves the connections' deployments; `scheduled=False` (fleet mode) keeps them for
    manual runs only. Only blocks that changed since the last refresh are parsed."""

    def __init__(
        self,
        console: Console,
        *,
        refresh_seconds: float = 30.0,
        grace_seconds: float = 60.0,
        scheduled: bool = True,
        apply_concurrency: int = APPLY_CONCURRENCY,
    ) -> None:
        self.console = console
        self.refresh_seconds = refresh_seconds
        self.grace_seconds = grace_seconds
        self.scheduled = scheduled
        self.heartbeat_seconds = use_heartbeats()
        quiet_unreachable_api_logs()
        self.runners = Runners(self._new_runner)
        self._api_lost = False
        self._said_none_yet = False
        self.writer = DeploymentWriter()
        self.definitions = Definitions()
        self.served: dict[str, ConnectionConfig] = {}
        # A few at a time by default: a Prefect server on SQLite answers 503 under a burst of
        # applies; one on PostgreSQL takes more (POLLER_DEPLOY_CONCURRENCY).
        self._apply_gate = asyncio.Semaphore(apply_concurrency)
        self._applying: set[asyncio.Task[None]] = set()
        self._unapplied: dict[str, ConnectionConfig] = {}

    async def recover(self, *, first: bool) -> None:
        """Mark Crashed the runs a stopped process left Running or Pending, and skip the
        scheduled runs that piled up while nothing started them (`deployments.late_runs`),
        a line for each when there were any; at the first call, also make sure Prefect's
        zombie automation exists, which crashes the runs of processes that die later."""
        try:
            with impatient_client():
                crashed, skipped = await self._sweep(first=first)
        except Exception as exc:  # the API is down or busy: the next refresh tries again
            self._api_failed(
                f"could not look for runs left by a stopped process: {one_line(exc)}", exc
            )
            return
        if crashed:
            names = ", ".join(sorted(run.name for run in crashed)[:5])
            self.console.print(
                f"Marked {len(crashed)} run(s) left by a stopped process as Crashed "
                f"({names}{', …' if len(crashed) > 5 else ''}); their connections poll again "
                "once their leases expire.",
                highlight=False,
            )
        if skipped:
            self.console.print(
                f"Skipped {skipped} scheduled run(s) that came due while nothing started "
                "them: each connection's latest due run catches up the whole gap.",
                highlight=False,
            )
        self._api_answered()

    async def _sweep(self, *, first: bool) -> tuple[list[FlowRun], int]:
        async with get_client() as client:
            if first:
                await ensure_zombie_automation(client, self.heartbeat_seconds)
            crashed = await crash_orphaned_runs(client, self.heartbeat_seconds)
            skipped = await skip_superseded_runs(client) if self.scheduled else 0
        return crashed, skipped

    async def refresh(self) -> None:
        """Serve what was added or changed. A Prefect API that cannot keep up (a server on
        SQLite answers 503 while busy) delays a deployment to the next refresh; it never
        stops the process, nor the polls of the connections already served."""
        try:
            with impatient_client():
                changes = await block_changes(self.definitions)
        except Exception as exc:  # the API is down or busy: keep serving what we have
            self._api_failed(f"could not read the connections from Prefect: {one_line(exc)}", exc)
            return
        self.definitions.apply(changes)
        for name, why in changes.broken.items():
            self._warn(f"connection '{name}' is not served: its block does not validate: {why}")
        await self.apply([config for _stamp, config in changes.changed.values()])

    async def apply(self, configs: list[ConnectionConfig]) -> None:
        """Serve the enabled `configs` not yet served as they are now, and any that failed
        to apply before."""
        wanted = {**self._unapplied, **{c.name: c for c in configs}}
        changed = [c for c in wanted.values() if c.enabled and self.served.get(c.name) != c]
        # One API client for all: a new client builds a TLS context (~60 ms of CPU), more
        # than writing the deployment.
        async with get_client() as client:
            outcomes = await asyncio.gather(
                *(self._serve(client, config) for config in changed), return_exceptions=True
            )
        self._unapplied = {
            config.name: config
            for config, outcome in zip(changed, outcomes, strict=True)
            if isinstance(outcome, Exception)
        }
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

    def apply_soon(self, configs: list[ConnectionConfig]) -> None:
        """`apply` in the background (a stop cancels it)."""
        task = asyncio.create_task(self.apply(configs))
        self._applying.add(task)
        task.add_done_callback(self._applying.discard)

    def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Serve the deployments handed to `apply` until `stop`, in the background."""
        return asyncio.create_task(self.serve(stop, refresh=False))

    def _api_failed(self, message: str, exc: Exception) -> None:
        """An API that cannot be reached retires the runner (see `deployments.runners`):
        nothing looks for runs until it answers again."""
        self._warn(message)
        if is_unreachable_api(exc) and not self._api_lost:
            self._api_lost = True
            self.runners.retire_current()

    def _api_answered(self) -> None:
        """The first sweep (`recover`) that succeeds after the API was lost starts a new
        runner, once the runs that piled up are skipped: it takes the latest due run of each
        connection."""
        if not self._api_lost:
            return
        self._api_lost = False
        self.runners.keep_running()
        self.console.print("The Prefect API answers again: a new runner takes the due runs.")

    def _warn(self, message: str) -> None:
        self.console.print(
            f"[yellow]{message}; trying again in {self.refresh_seconds:.0f}s[/]",
            markup=True,
            highlight=False,
        )

    async def _serve(self, client: PrefectClient, config: ConnectionConfig) -> None:
        async with self._apply_gate:
            deployment_id = await self.writer.write(client, config, scheduled=self.scheduled)
        self.runners.serve(deployment_id, config.name)
        verb = "updated" if config.name in self.served else "serving"
        self.served[config.name] = config
        if self.scheduled:
            self.console.print(
                f"{verb} {deployment_name(config.name)} every {config.poll_interval_seconds}s"
            )

    def _new_runner(self) -> Runner:
        return Runner(
            name="odoo-order-poller",
            pause_on_shutdown=False,
            limit=None,
            heartbeat_seconds=self.heartbeat_seconds,
            # how soon a due run starts, and a run after a Prefect outage (default 10 s)
            query_seconds=RUNNER_QUERY_SECONDS,
        )

    def _keep_runner_alive(self) -> None:
        """Prefect's Runner stops looking for scheduled runs for good after three failed
        queries in a row: a new one serves every deployment served so far."""
        if not self._api_lost and self.runners.keep_running():
            self._warn("the runner lost the Prefect API and stopped; starting a new one")

    async def serve(self, stop: asyncio.Event, *, refresh: bool = True) -> None:
        """Run the deployments' runs until `stop`, refreshing the connections when `refresh`
        (fleet mode hands them to `apply` itself); a runner that stopped is replaced at the
        next refresh."""
        try:
            # before the runner's first look for runs: it would start every run due
            await _unless_stopped(self.recover(first=True), stop)
            first = True
            while not stop.is_set():
                self._keep_runner_alive()
                if not first:
                    await _unless_stopped(self.recover(first=False), stop)
                first = False
                if not refresh:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
                    continue
                # Interruptible: applying thousands of deployments takes minutes, and a
                # SIGTERM must not wait for them.
                if not await _unless_stopped(self.refresh(), stop):
                    break
                if not self.served and not self._said_none_yet:
                    self._said_none_yet = True
                    self.console.print(
                        "No enabled connection yet: add one with `poller add` "
                        f"(checked again every {self.refresh_seconds:.0f}s)."
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        self.runners.stop_starting_runs()
        for applying in list(self._applying):
            applying.cancel()
        in_flight = self.runners.in_flight()
        if in_flight:
            self.console.print(
                f"Waiting up to {self.grace_seconds:.0f}s for "
                f"{len(in_flight)} run(s) in flight to finish…"
            )
        deadline = asyncio.get_running_loop().time() + self.grace_seconds
        while self.runners.in_flight() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
        left = self.runners.in_flight()
        await self.runners.stop()
        await self._end_unfinished(left)
        self.console.print("Stopped; schedules are left as they are.")

    async def _end_unfinished(self, flow_run_ids: set[Any]) -> None:
        """Runs the grace period did not see finish end Crashed, never left `Running` (their
        pages are checkpointed: the next poll resumes)."""
        if not flow_run_ids:
            return
        try:
            async with get_client() as client:
                ended = await crash_unfinished(client, flow_run_ids)
        except Exception as exc:  # the API is down: the zombie automation will see to them
            self._warn(f"could not mark the unfinished runs Crashed: {one_line(exc)}")
            return
        if ended:
            self.console.print(f"{ended} run(s) did not finish within the grace period: Crashed.")


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


def impatient_client() -> contextlib.AbstractContextManager[Any]:
    """Prefect clients made inside try a refused connection twice, 2 s apart, not for a
    minute (five retries, the wait doubling from 2 s): the refresh's own reads fail fast
    while the API is away, and the next refresh tries again anyway."""
    return temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 1})


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_server(console: Console, stop: asyncio.Event) -> None:
    """Serve until `stop` (set by `deployments.stopping` from SIGTERM/SIGINT: the runner runs
    off the main thread, so Prefect's Runner installs no SIGTERM handler of its own, which
    would cancel every run in flight at once)."""
    settings = get_settings()
    server = ConnectionServer(
        console,
        refresh_seconds=settings.connections_refresh_seconds,
        apply_concurrency=settings.deploy_concurrency,
    )
    await server.serve(stop)


async def enabled_count() -> int:
    return sum(config.enabled for config in await all_connections())
