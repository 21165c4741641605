"""`poller delete` then `poller add` of a connection while its poll is in flight under a live
`poller run`: the poll in flight ends in a final state (its deployment is gone, not its run),
no traceback reaches the screen, and the connection added again polls from where it was."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.cli.test_stopping import run_now
from tests.conftest import API_KEY
from tests.support.cli_process import POLLER, ROOT, add_connection, poller_env, wait_for

pytestmark = pytest.mark.slow


async def read_run(api_url: str, run_id) -> FlowRun:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            return await client.read_flow_run(run_id)


async def running_runs(api_url: str) -> list[FlowRun]:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            runs = await client.read_flow_runs(limit=50)
    return [run for run in runs if run.state and run.state.name == "Running"]


def test_delete_and_add_again_while_a_poll_is_in_flight(
    fresh_prefect_server: str, odoo, stockmaster, tmp_path: Path
) -> None:
    odoo.sim.add_generated_orders(300, lines_per_order=1)
    stockmaster.receiver.latency_seconds = 0.05
    env = poller_env(fresh_prefect_server, tmp_path, send_concurrency="2", page_size="50")
    connection = (odoo.url, stockmaster.url, stockmaster.secret)
    add_connection(env, "acme", *connection, *("--no-test", "--interval", "300"))
    serving = subprocess.Popen(
        [*POLLER, "run"],
        cwd=ROOT,
        env={**env, "POLLER_CONNECTIONS_REFRESH_SECONDS": "5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        asyncio.run(run_now(fresh_prefect_server, "acme"))
        wait_for(lambda: len(stockmaster.receiver.unique()) >= 40, 120, "a poll under way")
        [in_flight] = asyncio.run(running_runs(fresh_prefect_server))

        deleted = subprocess.run(
            [*POLLER, "delete", "acme", "--yes"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        add_connection(env, "acme", *connection, *("--no-test", "--interval", "300"))

        def ended() -> bool:
            state = asyncio.run(read_run(fresh_prefect_server, in_flight.id)).state
            return state is not None and state.is_final()

        wait_for(ended, 180, "the poll in flight ended")
        final = asyncio.run(read_run(fresh_prefect_server, in_flight.id)).state
        time.sleep(6)  # a refresh: the connection added again is served
        asyncio.run(run_now(fresh_prefect_server, "acme"))
        wait_for(lambda: len(stockmaster.receiver.unique()) == 308, 300, "the rest delivered")
    finally:
        if serving.poll() is None:
            os.killpg(serving.pid, signal.SIGTERM)
        out, _ = serving.communicate(timeout=120)
    assert final is not None and final.name == "Completed", final
    assert "Traceback" not in out, out
    assert API_KEY not in out
    assert len(stockmaster.receiver.unique()) == 308
