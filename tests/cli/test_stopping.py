"""`poller run` stopped the way systemd or Ctrl-C stop it, SIGTERM to the whole process group,
in the middle of a poll: the run in flight finishes the page in hand and ends, nothing is
left `Running`, and no traceback reaches the screen."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.support.cli_process import POLLER, ROOT, add_connection, poller_env

pytestmark = pytest.mark.slow
GRACE = 60  # ConnectionServer's grace period for runs in flight


async def run_now(api_url: str, name: str) -> None:
    """A manual run, as `prefect deployment run` makes one (the schedule's first slot may be
    minutes away)."""
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            deployment = await client.read_deployment_by_name(f"poll-connection/{name}")
            await client.create_flow_run_from_deployment(deployment.id)


async def runs_of(api_url: str, name: str) -> list[FlowRun]:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
            )


def test_sigterm_to_the_group_mid_poll_ends_every_run_and_prints_no_traceback(
    fresh_prefect_server: str, odoo, stockmaster, tmp_path: Path
) -> None:
    odoo.sim.add_generated_orders(400, lines_per_order=1)
    stockmaster.receiver.latency_seconds = 0.05
    env = poller_env(fresh_prefect_server, tmp_path, send_concurrency="2", page_size="50")
    add_connection(
        env,
        "stopper",
        odoo.url,
        stockmaster.url,
        stockmaster.secret,
        *("--no-test", "--interval", "300"),
    )
    serving = subprocess.Popen(
        [*POLLER, "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        asyncio.run(run_now(fresh_prefect_server, "stopper"))
        deadline = time.monotonic() + 120
        while len(stockmaster.receiver.unique()) < 60:  # a few pages into the backlog
            assert time.monotonic() < deadline and serving.poll() is None, "no poll started"
            time.sleep(0.1)
        os.killpg(serving.pid, signal.SIGTERM)
        stopped_at = time.monotonic()
        out, err = serving.communicate(timeout=GRACE + 60)
    finally:
        if serving.poll() is None:
            os.killpg(serving.pid, signal.SIGKILL)
    took = time.monotonic() - stopped_at
    runs = asyncio.run(runs_of(fresh_prefect_server, "stopper"))
    states = sorted(run.state.name for run in runs if run.state)
    print(f"\nSIGTERM: exited {serving.returncode} after {took:.1f}s; runs: {states}")
    assert serving.returncode == 0, out + err
    assert took < GRACE + 30
    assert "Traceback" not in out + err, out + err
    assert "Stopped; schedules are left as they are." in out
    ended = [run for run in runs if run.state and run.state.type.value in ("RUNNING", "PENDING")]
    assert ended == [], states
    polled = [run for run in runs if run.state and run.state.name != "Scheduled"]
    assert polled and all(run.state.name in ("Completed", "Cancelled", "Crashed") for run in polled)
    # the poll in flight stopped after its page: less than the whole backlog was sent
    assert len(stockmaster.receiver.unique()) < 408
