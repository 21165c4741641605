"""Two processes, each with the real `ConnectionPoller` (`open_poller`), call its
`check_breaker()` at the same instant on a circuit open past its probe time: exactly one is
admitted as the half-open probe, on a SQLite file and on PostgreSQL (a schema of its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from poller.breaker import Breaker, CircuitState
from poller.clock import utcnow
from poller.connections import ConnectionConfig
from poller.crypto import SecretBox, generate_key
from poller.state.store import Store

ROOT = Path(__file__).resolve().parents[2]
PROBERS = ("a", "b")
ROUNDS = 10
#: what the loser hears when both read the open breaker and its compare-and-set lost
LOST_THE_RACE = "another run is probing the half-open circuit"
TIMEOUT = 60.0


def start_prober(
    folder: Path, name: str, env: dict[str, str], rounds: int
) -> subprocess.Popen[bytes]:
    """A separate Python process that builds the poller, then probes once per round."""
    with (folder / f"{name}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.probe_breaker", str(folder), name, str(rounds)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


@pytest.fixture
def probers(tmp_path: Path, db_url: str) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    key = generate_key()
    box = SecretBox(key)
    config = ConnectionConfig(
        name="acme",
        odoo_url="http://127.0.0.1:9",  # type: ignore[arg-type]  # never called
        database="acme",
        username="admin",
        api_key_encrypted=box.encrypt("odoo-key"),
        webhook_url="http://127.0.0.1:9/hook",  # type: ignore[arg-type]
        webhook_secret_encrypted=box.encrypt("webhook-secret"),
    )
    env = {
        "POLLER_DATABASE_URL": db_url,
        "POLLER_ENCRYPTION_KEY": key,
        "PROBE_CONFIG": config.model_dump_json(),
    }
    processes = {name: start_prober(tmp_path, name, env, ROUNDS) for name in PROBERS}
    try:
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()


def wait_for_files(
    folder: Path, suffix: str, processes: dict[str, subprocess.Popen[bytes]]
) -> list[Path]:
    """Each prober's FOLDER/NAME.SUFFIX, once they all exist; fails if a prober died."""
    paths = [folder / f"{name}.{suffix}" for name in PROBERS]
    deadline = time.monotonic() + TIMEOUT
    while not all(path.exists() for path in paths):
        for name, process in processes.items():
            if process.poll() not in (None, 0):
                err = (folder / f"{name}.err").read_text(errors="replace")
                pytest.fail(f"prober {name} exited {process.returncode}:\n{err}")
        assert time.monotonic() < deadline, f"timed out waiting for {suffix}"
        time.sleep(0.005)
    return paths


def test_exactly_one_of_two_processes_probes(
    store: Store, tmp_path: Path, probers: dict[str, subprocess.Popen[bytes]]
) -> None:
    connection_id = int(store.states.ensure_connection("acme").id or 0)
    # opened an hour ago on the probers' (real) clock: the half-open probe is due
    opened = Breaker(CircuitState.OPEN, failures=5, opened_at=utcnow() - timedelta(hours=1))
    refusals: list[str] = []
    for round_ in range(ROUNDS):
        _breaker, version = store.states.load_breaker(connection_id)
        assert store.states.save_breaker(
            connection_id, opened, version
        )  # open (again) for the round
        wait_for_files(tmp_path, f"ready.{round_}", probers)
        (tmp_path / f"go.{round_}").touch()  # release both at once
        paths = wait_for_files(tmp_path, f"result.{round_}", probers)
        results: list[dict[str, Any]] = [json.loads(path.read_text()) for path in paths]
        assert sorted(r["admitted"] for r in results) == [False, True], f"round {round_}: {results}"
        (refused,) = [r for r in results if not r["admitted"]]
        refusals.append(refused["reason"])
        breaker, _version = store.states.load_breaker(connection_id)
        assert breaker.state is CircuitState.HALF_OPEN, f"round {round_}: {breaker}"
        assert breaker.probe_started_at is not None and breaker.probe_started_at > opened.opened_at
    for name, process in probers.items():
        assert process.wait(timeout=TIMEOUT) == 0, (tmp_path / f"{name}.err").read_text()
    # Both read the open breaker before either wrote, in some round at least: the
    # compare-and-set decided (a loser that came late reads "circuit open" instead).
    assert LOST_THE_RACE in refusals, refusals
