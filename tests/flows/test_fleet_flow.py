"""The fleet-worker flow: one long flow run claims and polls due connections every tick; an
empty poll costs no task run, a poll with work gets named task runs, its artifact and
events."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.fleet import fleet_worker
from poller.blocks import save_connections
from poller.runtime import default_store, store_for
from poller.settings import get_settings
from tests.conftest import BEFORE_SEED, make_config

pytestmark = pytest.mark.slow


async def test_one_flow_run_claims_and_polls_and_only_work_costs_task_runs(
    prefect_api, poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    monkeypatch.setenv("POLLER_FLEET_TICK_SECONDS", "0.2")
    monkeypatch.setenv("POLLER_WORKER_NAME", "flow-test")
    get_settings.cache_clear()
    store_for.cache_clear()
    busy = make_config(poller_settings, odoo, stockmaster, name="busy")
    idle = make_config(poller_settings, odoo, stockmaster, name="idle")
    await save_connections([busy, idle])
    store = default_store()
    store.states.ensure_connection("busy", since=BEFORE_SEED)
    store.states.ensure_connection("idle")  # added now: the seeded orders are older

    state = await fleet_worker(duration_seconds=4, return_state=True)

    assert state.is_completed()
    result = await state.result()
    assert result["worker"] == "flow-test" and result["claimed"] >= 2
    assert len(stockmaster.receiver.unique()) == 8
    async with get_client() as client:
        flow_run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        task_runs = await client.read_task_runs(flow_run_filter=flow_run_filter)
        artifacts = await client.read_latest_artifacts()
    names = {run.name for run in task_runs}
    assert names and all(name.endswith("[busy]") for name in names)
    # the first scan was free
    assert {"batch_fetch[busy]", "queue_page[busy]", "send[busy]"} <= names
    keys = {artifact.key for artifact in artifacts}
    assert {"poll-busy", "poll-fleet"} <= keys and "poll-idle" not in keys
    ids = {row.name: row.id for row in store.states.connections() if row.name in ("busy", "idle")}
    # other tests' blocks share the session's Prefect server: judge these two only
    logs = [log for log in store.logs.recent() if log.connection_id in ids.values()]
    assert {log.connection_id for log in logs} == set(ids.values())
    assert all(log.status == "ok" and log.worker == "flow-test" for log in logs)
    busy_logs = [log for log in logs if log.connection_id == ids["busy"]]
    assert str(state.state_details.flow_run_id) in {log.flow_run_id for log in busy_logs}
    rows = [row for row in store.states.connections() if row.id in ids.values()]
    assert all(row.lease_owner is None and row.next_poll_at for row in rows)
