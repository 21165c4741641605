"""Runs a dead process left behind are marked Crashed: by `poller run`'s sweep, judged by the
runs' heartbeats, and by Prefect's zombie automation, which the poller creates once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from prefect import flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.events import Event
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Pending, Running

from deployments.recovery import (
    ZOMBIE_AUTOMATION,
    RunSeen,
    crash_orphaned_runs,
    ensure_zombie_automation,
    is_orphaned,
    zombie_automation,
)

HEARTBEAT = 4  # seconds: the sweep's silence limit is 12 s
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("run", "orphaned"),
    [
        (RunSeen(StateType.RUNNING, ago(300), last_beat=ago(20)), False),  # beating
        (RunSeen(StateType.RUNNING, ago(300), last_beat=ago(91)), True),  # 3 beats missed
        (RunSeen(StateType.RUNNING, ago(300), last_beat=None), True),  # never beat
        (RunSeen(StateType.RUNNING, ago(10), last_beat=None), False),  # just started
        (RunSeen(StateType.PENDING, ago(10), last_beat=None), False),  # starting
        (RunSeen(StateType.PENDING, ago(61), last_beat=None), True),  # its starter died
        (RunSeen(StateType.SCHEDULED, ago(999), last_beat=None), False),  # not started
    ],
)
def test_a_run_is_orphaned_when_its_heartbeats_stop(run: RunSeen, orphaned: bool) -> None:
    assert is_orphaned(run, NOW, heartbeat_seconds=30) is orphaned


@flow(name="poll-connection")
def poll_connection_stand_in() -> None: ...


@flow(name="someone-elses-flow")
def other_flow() -> None: ...


async def beat(client: PrefectClient, run_id: UUID, flow_name: str = "poll-connection") -> None:
    event = Event(
        event="prefect.flow-run.heartbeat",
        resource={"prefect.resource.id": f"prefect.flow-run.{run_id}"},
        related=[
            {
                "prefect.resource.id": f"prefect.flow.{uuid4()}",
                "prefect.resource.role": "flow",
                "prefect.resource.name": flow_name,
            }
        ],
    )
    response = await client._client.post("/events", json=[event.model_dump(mode="json")])
    response.raise_for_status()


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:.0f}s")


async def state_of(client: PrefectClient, run_id: UUID) -> str:
    run = await client.read_flow_run(run_id)
    return run.state.name if run.state else "none"


@pytest.mark.slow
async def test_the_sweep_crashes_silent_poller_runs_only(fresh_prefect_server: str) -> None:
    with temporary_settings({PREFECT_API_URL: fresh_prefect_server}):
        async with get_client() as client:
            silent = await client.create_flow_run(poll_connection_stand_in, state=Running())
            beating = await client.create_flow_run(poll_connection_stand_in, state=Running())
            starting = await client.create_flow_run(poll_connection_stand_in, state=Pending())
            foreign = await client.create_flow_run(other_flow, state=Running())
            await asyncio.sleep(HEARTBEAT * 3 + 0.5)  # silent for more than 3 periods
            await beat(client, beating.id)
            beaten = time.monotonic()

            # the server stores events in the background: sweep once the beat is readable
            await until(lambda: _heartbeat_readable(client, beating.id), 20, "beat stored")
            print(f"beat readable after {time.monotonic() - beaten:.1f}s")
            crashed = await crash_orphaned_runs(client, heartbeat_seconds=HEARTBEAT)
            states = {
                name: await state_of(client, run.id)
                for name, run in [
                    ("silent", silent),
                    ("beating", beating),
                    ("starting", starting),
                    ("foreign", foreign),
                ]
            }
    assert [run.id for run in crashed] == [silent.id]
    assert states == {
        "silent": "Crashed",
        "beating": "Running",
        "starting": "Pending",  # a starting run has a minute before it counts as lost
        "foreign": "Running",  # not the poller's to judge
    }


async def _heartbeat_readable(client: PrefectClient, run_id: UUID) -> bool:
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    page = await client.read_events(
        filter=EventFilter(
            event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run_id}"]),
        ),
        limit=10,
    )
    return bool(page.events)


@pytest.mark.slow
async def test_the_zombie_automation_is_created_once_and_crashes_a_run_that_stops_beating(
    fresh_prefect_server: str,
) -> None:
    with temporary_settings({PREFECT_API_URL: fresh_prefect_server}):
        async with get_client() as client:
            assert await ensure_zombie_automation(client, heartbeat_seconds=30) is True
            assert await ensure_zombie_automation(client, heartbeat_seconds=30) is False
            assert len(await client.read_automations_by_name(ZOMBIE_AUTOMATION)) == 1

            fast = zombie_automation(heartbeat_seconds=4)  # silent for 12 s: crashed
            fast.name = "poller test: fast zombie automation"
            await client.create_automation(fast)
            await asyncio.sleep(2)  # the triggers service loads new automations
            zombie = await client.create_flow_run(poll_connection_stand_in, state=Running())
            foreign = await client.create_flow_run(other_flow, state=Running())
            await beat(client, zombie.id)
            await beat(client, foreign.id, flow_name="someone-elses-flow")

            async def crashed() -> bool:
                return await state_of(client, zombie.id) == "Crashed"

            await until(crashed, 60, "the automation did not crash the silent run")
            assert await state_of(client, foreign.id) == "Running"
