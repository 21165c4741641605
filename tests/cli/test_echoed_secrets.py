"""A receiver that answers 400 with the request's headers in its body (some gateways and debug
endpoints do) must not carry the webhook secret, nor the Odoo API key, into any store: the
poller database, Prefect's database, or what `poller run`, `poller retries` and `poller logs`
print. Everything runs as a user runs it: the CLI against a Prefect server of its own."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.settings import PREFECT_API_URL, temporary_settings

from deployments.local_server import LocalPrefectServer
from tests.conftest import API_KEY, BEFORE_SEED, ODOO_DATABASE, ODOO_LOGIN

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
POLLER = [sys.executable, "-m", "poller.cli"]
CONFIRMED = 8  # the seeded shop's confirmed orders since BEFORE_SEED


@pytest.fixture
def prefect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPrefectServer]:
    monkeypatch.setenv("PREFECT_SERVER_UI_ENABLED", "false")
    server = LocalPrefectServer(tmp_path / "prefect").start(timeout=180)
    try:
        yield server
    finally:
        server.stop()


def forms(secret: str) -> dict[str, str]:
    """How a secret could sit in a file or a line of text."""
    found = {
        "plain": secret,
        "base64": base64.b64encode(secret.encode()).decode(),
        "hex": secret.encode().hex(),
        "url-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
    }
    if secret.startswith("whsec_"):
        key = secret.removeprefix("whsec_")
        found |= {"key part": key, "key bytes hex": base64.b64decode(key).hex()}
    return found


async def dead_letter_events(api_url: str) -> int:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            page = await client.read_events(
                filter=EventFilter(event=EventNameFilter(name=["poller.delivery.dead_lettered"])),
                limit=50,
            )
    return len(page.events)


def files_of(database: Path) -> dict[str, bytes]:
    paths = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return {str(path): path.read_bytes() for path in paths if path.exists()}


def test_secrets_echoed_by_a_receiver_reach_no_store_and_no_output(
    prefect_home: LocalPrefectServer, odoo, stockmaster, tmp_path: Path
) -> None:
    stockmaster.receiver.fail(400, echo_headers=True)
    poller_db = tmp_path / "poller.db"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_home.api_url,
        "POLLER_DATABASE_URL": f"sqlite:///{poller_db}",
        "POLLER_CONNECTIONS_REFRESH_SECONDS": "2",
        "COLUMNS": "250",
    }

    def poller(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*POLLER, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    env["POLLER_ENCRYPTION_KEY"] = poller("keygen").strip()
    outputs: dict[str, str] = {}
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY)
    secret_file = tmp_path / "secret"
    secret_file.write_text(stockmaster.secret)
    outputs["add"] = poller(
        *("add", "acme", "--odoo-url", odoo.url, "--database", ODOO_DATABASE),
        *("--username", ODOO_LOGIN, "--webhook-url", stockmaster.url),
        *("--since", BEFORE_SEED.date().isoformat(), "--interval", "10"),
        *("--api-key-file", str(key_file), "--webhook-secret-file", str(secret_file)),
    )
    run_log = tmp_path / "poller-run.log"
    serving = subprocess.Popen(
        [*POLLER, "run"],
        cwd=ROOT,
        env=env,
        stdout=run_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while asyncio.run(dead_letter_events(prefect_home.api_url)) < CONFIRMED:
            assert time.monotonic() < deadline, run_log.read_text()
            time.sleep(1)
        outputs["retries"] = poller("retries", "--status", "all")
        outputs["retries --json"] = poller("retries", "--status", "all", "--json")
        outputs["logs"] = poller("logs")
        outputs["logs --json"] = poller("logs", "--json")
        outputs["list --json"] = poller("list", "--json")
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=120)

    assert len(stockmaster.receiver.rejected) == 0  # the 400s were planned failures
    assert "HTTP 400" in outputs["retries"]  # what was looked at holds the echoes
    haystacks = {f"`poller {name}`": text.encode() for name, text in outputs.items()}
    haystacks["`poller run`"] = run_log.read_bytes()
    haystacks |= files_of(poller_db) | files_of(prefect_home.home / "prefect.db")
    secrets = {"API key": API_KEY, "webhook secret": stockmaster.secret}
    leaks = [
        f"the {what} ({form}) is in {where}"
        for what, secret in secrets.items()
        for form, text in forms(secret).items()
        for where, haystack in haystacks.items()
        if text.encode() in haystack
    ]
    assert leaks == []
    assert b"[redacted]" in haystacks[str(poller_db)] + haystacks.get(f"{poller_db}-wal", b"")
