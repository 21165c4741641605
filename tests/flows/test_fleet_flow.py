"""The poll-fleet flow: one flow run for every due connection; an empty poll costs no task
run, a poll with work gets named task runs, its artifact and events."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.fleet import poll_fleet, use_fleet
from poller.crypto import SecretBox
from poller.fleet import Fleet
from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, make_config

pytestmark = pytest.mark.slow


async def test_one_flow_run_polls_the_fleet_and_only_work_costs_task_runs(
    prefect_api, poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    fleet = Fleet(poller_settings, store, SecretBox(poller_settings.encryption_key))
    busy = make_config(poller_settings, odoo, stockmaster, name="busy")
    idle = make_config(poller_settings, odoo, stockmaster, name="idle")
    store.ensure_connection("busy", since=BEFORE_SEED)
    store.ensure_connection("idle")  # added now: the seeded orders are older
    await fleet.update([busy, idle])
    use_fleet(fleet)
    try:
        state = await poll_fleet(fleet.due(), connections_count=2, return_state=True)
    finally:
        use_fleet(None)
        await fleet.aclose()
    assert state.is_completed()
    assert await state.result() == {"ok": 2, "failed": 0, "skipped": 0}
    assert len(stockmaster.receiver.unique()) == 8

    async with get_client() as client:
        flow_run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        task_runs = await client.read_task_runs(flow_run_filter=flow_run_filter)
        artifacts = await client.read_latest_artifacts()
    names = {run.name for run in task_runs}
    assert names and all(name.endswith("[busy]") for name in names)
    assert {"batch_fetch[busy]", "map[busy]", "send[busy]"} <= names  # the first scan was free
    keys = {artifact.key for artifact in artifacts}
    assert {"poll-busy", "poll-fleet"} <= keys and "poll-idle" not in keys
    logs = {log.connection_id: log for log in store.sync_logs()}
    ids = {state.name: state.id for state in store.connections()}
    assert logs[ids["idle"]].status == "ok" and logs[ids["idle"]].queued == 0
    assert logs[ids["busy"]].flow_run_id == str(state.state_details.flow_run_id)
