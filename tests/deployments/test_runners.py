"""The runner of `poller run` is replaced when it stopped or the API was lost; a retired
runner starts nothing more and lets its runs in flight finish."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx
import pytest
from prefect.runner import Runner
from rich.console import Console

from deployments import serve
from deployments.runners import Runners, retire
from deployments.serve import ConnectionServer


class Starts:
    """Runners whose `start()` is a stand-in the test ends: which were started, and a way
    to make one stop by itself."""

    def __init__(self) -> None:
        self.made: list[Runner] = []
        self.ends: dict[int, asyncio.Event] = {}

    def make(self) -> Runner:
        runner = Runner(name=f"test-{len(self.made)}", pause_on_shutdown=False)
        end = asyncio.Event()
        self.ends[id(runner)] = end
        runner.start = end.wait  # type: ignore[method-assign]
        self.made.append(runner)
        return runner

    def end(self, runner: Runner) -> None:
        self.ends[id(runner)].set()


def served(runner: Runner) -> set[uuid.UUID]:
    return set(runner._deployment_registry.get_deployment_ids())


async def test_a_runner_that_stopped_is_replaced_by_one_serving_the_same() -> None:
    starts = Starts()
    runners = Runners(starts.make)
    acme, globex = uuid.uuid4(), uuid.uuid4()
    runners.serve(acme, "acme")
    assert runners.keep_running() is False  # the first start
    runners.serve(globex, "globex")
    first = runners.current
    await asyncio.sleep(0)
    assert runners.keep_running() is False and runners.current is first  # still running

    starts.end(first)
    await asyncio.sleep(0.01)
    assert runners.keep_running() is True
    assert runners.current is not first and served(runners.current) == {acme, globex}
    await runners.stop()


async def test_a_retired_runner_starts_nothing_and_is_not_waited_for() -> None:
    starts = Starts()
    runners = Runners(starts.make)
    acme = uuid.uuid4()
    runners.serve(acme, "acme")
    runners.keep_running()
    old = runners.current
    await asyncio.sleep(0)

    runners.retire_current()
    assert old.stopping is True  # starts no more runs
    assert runners.current is not old and not runners.running  # none until asked for
    assert served(runners.current) == {acme}
    runners.keep_running()
    assert runners.running
    starts.end(old)  # its runs in flight finished
    await asyncio.sleep(0.01)
    assert old not in runners._all()
    await runners.stop()


async def test_a_stop_retires_every_runner_before_it_waits_for_their_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts = Starts()
    runners = Runners(starts.make)
    runners.keep_running()
    old = runners.current
    await asyncio.sleep(0)
    runners.retire_current()
    runners.keep_running()
    await asyncio.sleep(0)
    retired: list[Runner] = []
    monkeypatch.setattr("deployments.runners.retire", retired.append)
    runners.stop_starting_runs()
    monkeypatch.undo()
    assert retired == [runners.current, old]
    await runners.stop()


@pytest.mark.slow
async def test_retire_ends_a_real_runner_without_in_flight_runs(prefect_api) -> None:
    """Against the installed Prefect: `retire` reaches into the Runner's loops (no public call
    does this), so a Prefect upgrade that renames them fails here."""
    runner = Runner(name="retire-me", pause_on_shutdown=False, query_seconds=1)
    task = asyncio.create_task(runner.start())
    for _ in range(100):
        if runner.started:
            break
        await asyncio.sleep(0.1)
    assert runner.started
    retire(runner)
    await asyncio.wait_for(task, timeout=20)
    assert runner.stopping and not runner.started


async def test_a_lost_api_retires_the_runner_and_its_return_starts_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = io.StringIO()
    starts = Starts()
    server = ConnectionServer(Console(file=output, width=200), refresh_seconds=3)
    server.runners = Runners(starts.make)
    server.runners.keep_running()
    first = server.runners.current
    await asyncio.sleep(0)

    async def unreachable(_definitions):
        raise httpx.ConnectError("All connection attempts failed")

    monkeypatch.setattr(serve, "block_changes", unreachable)
    await server.refresh()
    assert first.stopping and not server.runners.running  # nothing looks for runs
    server._keep_runner_alive()
    assert not server.runners.running  # not while the API is away

    async def sweep(*, first: bool):
        return [], 4

    monkeypatch.setattr(server, "_sweep", sweep)
    await server.recover(first=False)
    assert server.runners.running and server.runners.current is not first
    said = output.getvalue()
    assert said.index("Skipped 4 scheduled run(s)") < said.index("The Prefect API answers again")
    await server.runners.stop()


async def test_a_busy_api_keeps_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 is an answer: the runner's own loop rides it out."""
    starts = Starts()
    server = ConnectionServer(Console(file=io.StringIO()), refresh_seconds=3)
    server.runners = Runners(starts.make)
    server.runners.keep_running()
    first = server.runners.current

    async def busy(_definitions):
        request = httpx.Request("GET", "http://prefect/api/block_documents/filter")
        raise httpx.HTTPStatusError(
            "503", request=request, response=httpx.Response(503, request=request)
        )

    monkeypatch.setattr(serve, "block_changes", busy)
    await server.refresh()
    assert server.runners.running and server.runners.current is first
    await server.runners.stop()
