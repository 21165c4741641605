"""A wrong encryption key under a live `poller run`: the operator rotated the keys without
restarting it, as README "Rotating keys" warns against. Every poll fails at start without
calling Odoo, each is a failed row in `poller logs` and a breaker failure (the circuit opens),
and a restart with the keys the README gives brings the orders back."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from poller.breaker import BreakerPolicy
from tests.support.cli_process import POLLER, ROOT, PollerRun, add_connection, poller_env, wait_for

pytestmark = pytest.mark.slow
INTERVAL = 5
CANNOT_DECRYPT = "POLLER_ENCRYPTION_KEY cannot decrypt"


def poller(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*POLLER, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def runs_started_after(api_url: str, moment: datetime) -> int:
    """Runs that went Pending (a process started) after `moment`, from Prefect's record."""
    runs = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 200}).json()
    return sum(
        any(
            state["type"] == "PENDING" and datetime.fromisoformat(state["timestamp"]) > moment
            for state in httpx.get(
                f"{api_url}/flow_run_states/", params={"flow_run_id": run["id"]}
            ).json()
        )
        for run in runs
    )


def test_a_wrong_key_under_poller_run_shows_in_logs_and_opens_the_breaker(
    fresh_prefect_server: str, odoo, stockmaster, tmp_path: Path
) -> None:
    env = poller_env(fresh_prefect_server, tmp_path)
    old_key = env["POLLER_ENCRYPTION_KEY"]
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
        # step 2 of "Rotating keys" without restarting `poller run`: it holds the old key only
        rotated = {**env, "POLLER_ENCRYPTION_KEY": f"{poller(env, 'keygen').strip()},{old_key}"}
        poller(rotated, "rotate-keys")
        odoo.sim.reset_calls()
        odoo.sim.create_order(9, [{"product_id": 1, "qty": 2}])

        def failed_polls() -> list[dict]:
            rows = json.loads(poller(rotated, "logs", "--connection", "acme", "--json"))
            return [row for row in rows if row["status"] == "failed"]

        def breaker() -> str:
            return json.loads(poller(rotated, "list", "--json"))[0]["breaker"]

        threshold = BreakerPolicy().failure_threshold
        wait_for(lambda: breaker().startswith("open"), 180, "the breaker open", log, every=3)
        failed = failed_polls()
        assert len(failed) >= threshold
        assert all(row["error"].startswith(CANNOT_DECRYPT) for row in failed), failed
        assert odoo.sim.calls == []  # each failed at start, before any Odoo call
        assert len(stockmaster.receiver.unique()) == 8
    finally:
        stopped_at = serving.stop()
    # a stop starts no run: those in flight end, and the next due ones wait for a restart
    assert runs_started_after(fresh_prefect_server, stopped_at + timedelta(seconds=1)) == 0

    # the remedy the README gives: restart with NEW,OLD, then close the circuit by hand
    serving = PollerRun(rotated, log)
    try:
        poller(rotated, "reset-circuit", "acme")
        wait_for(lambda: len(stockmaster.receiver.unique()) == 9, 120, "delivery again", log)
    finally:
        serving.stop()
    said = log.read_text()
    assert "Traceback" not in said, said
    assert CANNOT_DECRYPT in said  # the running poller said it too, in one line a poll
    for key in (old_key, *rotated["POLLER_ENCRYPTION_KEY"].split(",")):
        assert key not in said
