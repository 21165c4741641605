"""The Prefect server killed and started again under a live `poller run`: polling comes back
by itself, within a refresh and an interval of the server's return, with no restart, and the
runs that came due meanwhile start one process, not one each."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from deployments.local_server import LocalPrefectServer, free_port
from tests.support.cli_process import PollerRun, add_connection, poller_env, wait_for

pytestmark = pytest.mark.slow
INTERVAL = 10
REFRESH = 5
OUTAGE = 45  # long enough for Prefect's Runner to give up on the API (3 failed polls)


def test_polling_comes_back_when_the_prefect_server_does(
    odoo, stockmaster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_SERVER_UI_ENABLED", "false")
    server = LocalPrefectServer(tmp_path / "prefect", port=free_port()).start(timeout=180)
    env = poller_env(server.api_url, tmp_path, connections_refresh_seconds=str(REFRESH))
    add_connection(
        env,
        "acme",
        odoo.url,
        stockmaster.url,
        stockmaster.secret,
        *("--no-test", "--interval", str(INTERVAL)),
    )
    log = tmp_path / "poller-run.log"
    serving = PollerRun(env, log)
    try:
        wait_for(lambda: len(stockmaster.receiver.unique()) == 8, 120, "the first poll", log)
        server.stop()
        stopped_at = datetime.now().astimezone()
        time.sleep(OUTAGE)
        odoo.sim.create_order(9, [{"product_id": 1, "qty": 2}])  # written during the outage
        server.start(timeout=180)
        back_at = datetime.now().astimezone()
        back_in = wait_for(
            lambda: len(stockmaster.receiver.unique()) == 9, 120, "a poll after the outage", log
        )
        print(f"\nPrefect outage of {OUTAGE}s: the next poll delivered {back_in:.1f}s after")
        assert back_in <= REFRESH + INTERVAL, log.read_text()
        started, skipped = _runs_due_while_away(server.api_url, stopped_at, back_at)
        print(f"of the runs due during the outage, {started} started, {skipped} were skipped")
        # the latest at most; without the sweep, each of the 4 or 5 due runs starts a process
        assert started <= 1 and skipped >= 2, log.read_text()
        deployments = httpx.post(f"{server.api_url}/deployments/filter", json={}).json()
        assert [d["concurrency_limit"] for d in deployments] == [None]  # no slot to orphan
        assert serving.running, log.read_text()
    finally:
        serving.stop()
        server.stop()
    said = log.read_text()
    assert "could not read the connections from Prefect: ConnectError" in said
    assert "The Prefect API answers again: a new runner takes the due runs." in said
    assert "Traceback" not in said, said
    assert "Failed the last 3 attempts" not in said, said  # no runner loop gave up


def _runs_due_while_away(api_url: str, since: datetime, until: datetime) -> tuple[int, int]:
    """Of the runs due between `since` and `until`, how many ever went Pending (a process
    started) and how many the sweep skipped, from Prefect's own record of their states."""
    runs = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 200}).json()
    started = skipped = 0
    for run in runs:
        if not since <= datetime.fromisoformat(run["expected_start_time"]) < until:
            continue
        states = httpx.get(f"{api_url}/flow_run_states/", params={"flow_run_id": run["id"]})
        started += any(state["type"] == "PENDING" for state in states.json())
        skipped += run["state_name"] == "Skipped" and "a later run" in run["state"]["message"]
    return started, skipped
