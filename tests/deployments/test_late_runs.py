"""Scheduled runs that came due while nothing started them collapse into the latest one of
each connection; a run someone asked for, and another flow's runs, are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from prefect import flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Scheduled

from deployments.late_runs import DueRun, skip_superseded_runs, superseded

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
A, B = uuid4(), uuid4()


def due(deployment: UUID | None, seconds_ago: float) -> DueRun:
    return DueRun(uuid4(), deployment, NOW - timedelta(seconds=seconds_ago))


def test_all_but_the_latest_due_run_of_each_deployment_are_superseded() -> None:
    a_old, a_mid, a_new = due(A, 30), due(A, 20), due(A, 10)
    b_only = due(B, 25)
    loose = due(None, 40)  # a run of no deployment is not the poller's schedule
    assert sorted(superseded([a_mid, b_only, a_new, loose, a_old])) == sorted([a_old.id, a_mid.id])
    assert superseded([b_only]) == []
    assert superseded([]) == []


@flow(name="poll-connection")
def poll_connection_stand_in(connection: str = "x") -> None: ...


@flow(name="someone-elses-flow")
def other_flow() -> None: ...


async def scheduled_run(
    client: PrefectClient, deployment_id: UUID, seconds_ago: float, *, auto: bool = True
) -> UUID:
    run = await client.create_flow_run_from_deployment(
        deployment_id,
        state=Scheduled(scheduled_time=datetime.now(UTC) - timedelta(seconds=seconds_ago)),
        tags=["auto-scheduled"] if auto else [],
    )
    return run.id


async def deployment_of(client: PrefectClient, flow_object, name: str) -> UUID:
    flow_id = await client.create_flow(flow_object)
    return await client.create_deployment(flow_id=flow_id, name=name)


@pytest.mark.slow
async def test_piled_up_runs_are_skipped_on_a_real_server(fresh_prefect_server: str) -> None:
    with temporary_settings({PREFECT_API_URL: fresh_prefect_server}):
        async with get_client() as client:
            acme = await deployment_of(client, poll_connection_stand_in, "acme")
            globex = await deployment_of(client, poll_connection_stand_in, "globex")
            foreign = await deployment_of(client, other_flow, "foreign")
            acme_runs = [await scheduled_run(client, acme, s) for s in (40, 30, 20)]
            asked_for = await scheduled_run(client, acme, 35, auto=False)
            globex_runs = [await scheduled_run(client, globex, s) for s in (15, 5)]
            upcoming = await scheduled_run(client, globex, -60)  # not due yet
            foreign_runs = [await scheduled_run(client, foreign, s) for s in (30, 20)]

            assert await skip_superseded_runs(client) == 3
            states = {
                run_id: (await client.read_flow_run(run_id)).state
                for run_id in [*acme_runs, asked_for, *globex_runs, upcoming, *foreign_runs]
            }
            assert await skip_superseded_runs(client) == 0  # nothing piles up twice

    names = {run_id: state.name for run_id, state in states.items() if state is not None}
    skipped = [acme_runs[0], acme_runs[1], globex_runs[0]]
    assert all(names[run_id] == "Skipped" for run_id in skipped)
    assert all(states[run_id].is_completed() for run_id in skipped)  # type: ignore[union-attr]
    left_alone = [acme_runs[2], asked_for, globex_runs[1], upcoming, *foreign_runs]
    assert all(names[run_id] in ("Scheduled", "Late") for run_id in left_alone)
