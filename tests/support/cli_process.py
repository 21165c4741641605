"""`poller` as a user runs it from a shell: a subprocess with its own environment, and a
connection added through `poller add` with its secrets from the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import API_KEY, BEFORE_SEED, ODOO_DATABASE, ODOO_LOGIN

ROOT = Path(__file__).resolve().parents[2]
POLLER = [sys.executable, "-m", "poller.cli"]


def poller_env(api_url: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of one user's `poller` commands: this Prefect API, a SQLite file in
    `folder`, a fresh encryption key, wide output, and `POLLER_<NAME>` for each setting."""
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "POLLER_DATABASE_URL": f"sqlite:///{folder / 'poller.db'}",
        "COLUMNS": "200",
        **{f"POLLER_{name.upper()}": value for name, value in settings.items()},
    }
    keygen = subprocess.run([*POLLER, "keygen"], env=env, capture_output=True, text=True)
    env["POLLER_ENCRYPTION_KEY"] = keygen.stdout.strip()
    return env


def add_connection(
    env: dict[str, str], name: str, odoo_url: str, webhook_url: str, secret: str, *options: str
) -> None:
    """`poller add NAME` for the seeded shop since BEFORE_SEED, the API key and the webhook
    secret from the environment; `options` are added (`--interval`, `--no-test`)."""
    added = subprocess.run(
        [
            *(*POLLER, "add", name, "--odoo-url", odoo_url, "--database", ODOO_DATABASE),
            *("--username", ODOO_LOGIN, "--webhook-url", webhook_url),
            *("--since", BEFORE_SEED.date().isoformat(), *options),
        ],
        cwd=ROOT,
        env={**env, "POLLER_ODOO_API_KEY": API_KEY, "POLLER_WEBHOOK_SECRET": secret},
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stdout + added.stderr


class PollerRun:
    """`poller run` in its own process group, as a shell or systemd starts it, its output
    appended to `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [*POLLER, "run"],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started_at = datetime.now(UTC)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the group: `poller run` and the flow runs it started."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> datetime:
        """SIGTERM to the group, as systemd and Ctrl-C send it, and wait for the exit; when
        the signal was sent."""
        sent = datetime.now(UTC)
        if self.running:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=120)
        return sent


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    log: Path | None = None,
    every: float = 0.2,
) -> float:
    """Wait until `condition()`; how long it took. Fails with `what` and, when given, the
    output of `poller run`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(every)
    said = f"; poller run said:\n{log.read_text()}" if log is not None else ""
    raise AssertionError(f"{what} within {timeout:.0f}s{said}")
