"""The Prefect Runner that starts the connections' runs, replaced when it can no longer be
trusted, without cutting short the runs it started.

Why replace it: after a Prefect outage, Prefect 3.9's Runner

- stops looking for scheduled runs for good after three failed queries in a row
  (`critical_service_loop`);
- may sit in its API client's retries of a refused connection (2 + 4 + 8 + 16 + 32 s) and
  query again up to a minute after the server is back;
- has lost its cancellation observer ("Cancellation polling task failed"): a Cancel from
  the UI would do nothing.

A new runner has none of this and queries at once. The one it replaces is retired: it starts
no run, and its runs in flight finish under it (`Runner.astop` would kill them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect.runner import Runner

from deployments.writer import serve_deployment


class Runners:
    """The current runner, which serves every deployment handed to `serve`, and the retired
    ones that still have runs in flight."""

    def __init__(self, make_runner: Callable[[], Runner]) -> None:
        self._make_runner = make_runner
        self.current = make_runner()
        self._task: asyncio.Task[Any] | None = None
        self._retired: dict[asyncio.Task[Any], Runner] = {}
        self._deployments: dict[str, UUID] = {}

    def serve(self, deployment_id: UUID, name: str) -> None:
        serve_deployment(self.current, deployment_id, name)
        self._deployments[name] = deployment_id

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def keep_running(self) -> bool:
        """Start the current runner, or a new one when it stopped by itself; whether it had."""
        if self.running:
            return False
        stopped = self._task is not None
        if self._task is not None:
            _seen(self._task)
            self._fresh_runner()
        self._task = asyncio.create_task(self.current.start())
        return stopped

    def retire_current(self) -> None:
        """The running runner starts no more runs (its runs in flight go on); the next
        `keep_running` starts a new one."""
        if not self.running or self._task is None:
            return
        retire(self.current)
        self._retired[self._task] = self.current
        self._task.add_done_callback(self._forget)
        self._task = None
        self._fresh_runner()

    def in_flight(self) -> set[Any]:
        return set().union(*(_in_flight(runner) for runner in self._all()))

    def stop_starting_runs(self) -> None:
        """No runner starts another run; the runs in flight go on. (`Runner.stopping` alone
        does not do it in Prefect 3.9: its scheduled-run loop reads a flag of its own.)"""
        for runner in self._all():
            retire(runner)

    async def stop(self) -> None:
        """Stop every runner: what is still in flight is killed (see `Runner.astop`)."""
        tasks = [task for task in (self._task, *self._retired) if task is not None]
        for runner in self._all():
            if runner.started:
                with contextlib.suppress(Exception):
                    await runner.astop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _fresh_runner(self) -> None:
        self.current = self._make_runner()
        for name, deployment_id in self._deployments.items():
            serve_deployment(self.current, deployment_id, name)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._retired.pop(task, None)
        _seen(task)

    def _all(self) -> list[Runner]:
        return [self.current, *self._retired.values()]


def retire(runner: Runner) -> None:
    """The runner starts no more runs; its runs in flight finish, then its `start()` returns
    (leaving its context waits for them). Prefect 3.9 has no public call for this:
    `astop()` does it and also kills the runs in flight."""
    runner.stopping = True
    poller = getattr(runner, "_scheduled_run_poller", None)
    if poller is not None:
        poller.stopping = True
    loops = getattr(runner, "_loops_task_group", None)
    if loops is not None:
        loops.cancel_scope.cancel()


def _seen(task: asyncio.Task[Any]) -> None:
    """Retrieve how a runner's task ended: a runner that stopped is replaced, not news."""
    if not task.cancelled():
        task.exception()


def _in_flight(runner: Runner) -> set[Any]:
    manager = getattr(runner, "_process_manager", None)
    return set(manager.flow_run_ids()) if manager is not None else set()
