"""`poller` as a user runs it from a shell: a subprocess with its own environment, and a
connection added through `poller add` with its secrets from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
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
