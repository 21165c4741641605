"""The Prefect server killed and started again under a live `poller run`: polling comes back
by itself, within a refresh and an interval of the server's return, with no restart."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deployments.local_server import LocalPrefectServer, free_port
from deployments.serve import RUNNER_QUERY_SECONDS
from tests.support.cli_process import POLLER, ROOT, add_connection, poller_env

pytestmark = pytest.mark.slow
INTERVAL = 10
REFRESH = 5
OUTAGE = 45  # long enough for Prefect's Runner to give up on the API (3 failed polls)


def wait_until(condition, timeout: float, what: str, log: Path) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f}s; poller run said:\n{log.read_text()}")


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
    serving = subprocess.Popen(
        [*POLLER, "run"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: len(stockmaster.receiver.unique()) == 8, 120, "the first poll", log)
        server.stop()
        time.sleep(OUTAGE)
        odoo.sim.create_order(9, [{"product_id": 1, "qty": 2}])  # written during the outage
        server.start(timeout=180)
        back_in = wait_until(
            lambda: len(stockmaster.receiver.unique()) == 9, 120, "a poll after the outage", log
        )
        print(f"\nPrefect outage of {OUTAGE}s: the next poll delivered {back_in:.1f}s after")
        # A refresh, an interval, the runner's query period doubled once by its backoff
        # after the failed queries, and a run's own start (about 5 s) come to 40 s; measured
        # 30 to 50 s, as the outage caught the runner between queries or not.
        assert back_in <= REFRESH + INTERVAL + 2 * RUNNER_QUERY_SECONDS + 30
        assert serving.poll() is None, log.read_text()
    finally:
        if serving.poll() is None:
            os.killpg(serving.pid, signal.SIGTERM)
            serving.wait(timeout=120)
        server.stop()
    # The process kept its one-line warnings; a run that Prefect started just as the server
    # went away may print Prefect's own traceback (its engine cannot load the run).
    assert "could not read the connections from Prefect" in log.read_text()
