"""prefect.yaml as an operator uses it: `prefect deploy --all` on a fresh Prefect server, then
one `prefect worker start --pool poller --type process` runs a `fleet-worker` flow run to
Completed, and that run polled the simulator's tenants: the receiver holds their orders."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, make_config
from tests.support.fleet_workers import polls_by_tenant, save_blocks, tenant_configs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TENANTS = 5
SEEDED_VERSIONS = 8


def prefect(*args: str, env: dict[str, str], timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


async def bounded_fleet_run(api_url: str) -> str:
    """Pause the fleet's schedule (a scheduled run would last its full three minutes) and
    start one run of 15 seconds, as `prefect deployment run` would."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            deployment = await client.read_deployment_by_name("fleet-worker/fleet")
            await client.pause_deployment(deployment.id)
            for run in await client.read_flow_runs():
                if run.state and run.state.is_scheduled():
                    await client.delete_flow_run(run.id)
            run = await client.create_flow_run_from_deployment(
                deployment.id, parameters={"duration_seconds": 15}
            )
    return str(run.id)


async def read_run(api_url: str, run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            return await client.read_flow_run(run_id)


def test_deploy_all_then_a_process_worker_runs_the_fleet(
    fresh_prefect_server, poller_settings, odoo, stockmaster
) -> None:
    configs = tenant_configs(
        make_config(poller_settings, odoo, stockmaster), odoo.url, TENANTS, interval=60
    )
    save_blocks(configs, fresh_prefect_server)
    store = default_store()
    for config in configs:
        store.states.ensure_connection(config.name, since=BEFORE_SEED, interval_seconds=60)
    env = {
        **os.environ,
        "PREFECT_API_URL": fresh_prefect_server,
        "POLLER_HOME": str(ROOT),
        "POLLER_FLEET_TICK_SECONDS": "0.5",
    }
    prefect("work-pool", "create", "poller", "--type", "process", env=env)
    deployed = prefect("--no-prompt", "deploy", "--all", env=env)
    assert "fleet-worker/fleet" in deployed and "poll-connection/manual" in deployed
    run_id = asyncio.run(bounded_fleet_run(fresh_prefect_server))

    prefect("worker", "start", "--pool", "poller", "--type", "process", "--run-once", env=env)

    run = asyncio.run(read_run(fresh_prefect_server, run_id))
    assert run.state.is_completed(), run.state
    assert len(stockmaster.receiver.unique()) == TENANTS * SEEDED_VERSIONS
    assert sorted(polls_by_tenant(odoo.url)) == [config.name for config in configs]
    ids = {row.id for row in store.states.connections()}
    polled_here = {log.connection_id for log in store.logs.recent() if log.flow_run_id == run_id}
    assert polled_here == ids  # this run's own polls
