"""`poller run` serves every enabled connection; a run triggered like `prefect deployment run`
completes; SIGTERM stops it gracefully and leaves the schedules alone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings

from poller.blocks import save_connection
from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, make_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if line:
            seen.append(line)
            if needle in line:
                return seen
        elif process.poll() is not None:
            break
    raise AssertionError(f"{needle!r} never appeared:\n{''.join(seen)}")


async def run_deployment_and_wait(name: str, timeout: float = 90) -> str:
    async with get_client() as client:
        deployment = await client.read_deployment_by_name(name)
        flow_run = await client.create_flow_run_from_deployment(deployment.id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            flow_run = await client.read_flow_run(flow_run.id)
            if flow_run.state and flow_run.state.is_final():
                return flow_run.state.name
            await asyncio.sleep(0.5)
    raise AssertionError("the triggered run never finished")


async def deployment_paused(name: str) -> bool:
    async with get_client() as client:
        return (await client.read_deployment_by_name(name)).paused


def test_run_serves_connections_and_stops_gracefully(
    prefect_api, poller_settings, odoo, stockmaster
) -> None:
    config = make_config(poller_settings, odoo, stockmaster)
    asyncio.run(save_connection(config))
    default_store().states.ensure_connection(config.name, since=BEFORE_SEED)
    env = {
        **os.environ,
        "PREFECT_API_URL": get_current_settings().api.url,
        "POLLER_ENCRYPTION_KEY": poller_settings.encryption_key,
        "POLLER_DATABASE_URL": poller_settings.database_url,
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "poller.cli", "run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_line(process, "serving poll-connection/acme every 60s", timeout=60)
        assert asyncio.run(run_deployment_and_wait("poll-connection/acme")) == "Completed"
        assert len(stockmaster.receiver.unique()) == 8
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0
        rest = process.stdout.read() if process.stdout else ""
        assert "Stopped; schedules are left as they are." in rest
    finally:
        if process.poll() is None:
            process.kill()
    assert asyncio.run(deployment_paused("poll-connection/acme")) is False
