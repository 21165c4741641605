"""The README's "Running it for real" path, command by command, as a new user types it:
`poller keygen`, `poller run`, `poller add` against the simulator, `prefect deployment run`,
`poller logs`. Every command is a real subprocess against a fresh Prefect server (a new user
starts with an empty one), the simulator and the receiver over loopback.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import API_KEY, BEFORE_SEED, ODOO_DATABASE, ODOO_LOGIN

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
POLLER = [sys.executable, "-m", "poller.cli"]
PREFECT = str(Path(sys.executable).with_name("prefect"))  # make runs without the venv on PATH


class Output:
    """A process's merged output, read on a thread so that waiting for a line never blocks."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.lines):
                return
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never appeared:\n{''.join(self.lines)}")


def test_a_new_user_adds_a_tenant_polls_it_and_reads_the_log(
    fresh_prefect_server: str, odoo, stockmaster, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PREFECT_API_URL": fresh_prefect_server,
        "POLLER_DATABASE_URL": f"sqlite:///{tmp_path / 'poller.db'}",
        "POLLER_CONNECTIONS_REFRESH_SECONDS": "1",
        "COLUMNS": "250",
    }

    def poller(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*POLLER, *args], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    env["POLLER_ENCRYPTION_KEY"] = poller("keygen").stdout.strip()
    serving = subprocess.Popen(
        [*POLLER, "run"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = Output(serving)
    try:
        output.wait_for("No enabled connection yet", timeout=90)
        added = poller(
            *("add", "acme", "--odoo-url", odoo.url, "--database", ODOO_DATABASE),
            *("--username", ODOO_LOGIN, "--webhook-url", stockmaster.url),
            *("--since", BEFORE_SEED.date().isoformat()),
            POLLER_ODOO_API_KEY=API_KEY,
            POLLER_WEBHOOK_SECRET=stockmaster.secret,
        )
        assert "poll-connection/acme" in added.stdout
        output.wait_for("serving poll-connection/acme every 60s", timeout=60)

        triggered = subprocess.run(
            [PREFECT, "deployment", "run", "poll-connection/acme", "--watch"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr
        assert "Completed" in triggered.stdout
        flow_run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", triggered.stdout)
        assert flow_run_id, triggered.stdout

        polls = json.loads(poller("logs", "-c", "acme", "--json").stdout)
        by_run = {row["flow_run"]: row for row in polls}
        assert by_run[flow_run_id.group(1)]["status"] == "ok"
        assert sum(row["delivered"] for row in polls) == 8  # a scheduled run may have come first
        table = poller("logs", "-c", "acme").stdout
        assert "Polls, newest first" in table and flow_run_id.group(1) in table
    finally:
        serving.send_signal(signal.SIGTERM)
        assert serving.wait(timeout=90) == 0, "".join(output.lines)
    assert len(stockmaster.receiver.unique()) == 8
    assert stockmaster.receiver.redeliveries() == 0
    assert API_KEY not in "".join(output.lines)
