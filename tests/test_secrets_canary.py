"""A canary API key and webhook secret go through add, test, polls, failures and retries; then
the Prefect database, the poller database, the logs, artifacts and events are searched for
them. Plaintext secrets may live in memory only."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings
from typer.testing import CliRunner

from flows.poll_connection import poll_connection
from odoo_sim.odoo import OdooSim
from odoo_sim.receiver import Receiver
from odoo_sim.seed import seed_shop
from odoo_sim.server import BackgroundServer
from poller.cli import app
from poller.runtime import default_store

pytestmark = pytest.mark.slow


def database_files(url: str) -> list[Path]:
    path = Path(url.split("///", 1)[1])
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


async def prefect_records() -> str:
    async with get_client() as client:
        artifacts = await client.read_artifacts()
        events = await client.read_events(limit=50)
        runs = await client.read_flow_runs()
        logs = await client.read_logs()
    return json.dumps(
        {
            "artifacts": [a.model_dump(mode="json") for a in artifacts],
            "events": [e.model_dump(mode="json") for e in events.events],
            "runs": [r.model_dump(mode="json") for r in runs],
            "logs": [log.model_dump(mode="json") for log in logs],
        }
    )


def test_canary_secrets_are_nowhere_but_in_memory(
    prefect_api, poller_settings, caplog, capfd
) -> None:
    api_key = f"canary-key-{uuid.uuid4().hex}"
    raw_secret = f"canary-secret-{uuid.uuid4().hex}".encode()
    webhook_secret = "whsec_" + base64.b64encode(raw_secret).decode()
    canaries = [api_key, webhook_secret, webhook_secret.removeprefix("whsec_"), raw_secret.decode()]

    sim = OdooSim(database="acme", login="bot", api_keys=[api_key])
    seed_shop(sim)
    receiver = Receiver(secret=webhook_secret)
    with BackgroundServer(sim.app) as odoo, BackgroundServer(receiver.app) as hooks:
        cli = CliRunner()
        added = cli.invoke(
            app,
            [
                "add",
                "acme",
                "--odoo-url",
                odoo.url,
                "--database",
                "acme",
                "--username",
                "bot",
                "--api-key-file",
                "-",
                "--webhook-url",
                f"{hooks.url}/in",
                "--since",
                "2026-11-28",
            ],
            input=api_key + "\n",  # secrets are never argv values: stdin and the env
            env={"POLLER_WEBHOOK_SECRET": webhook_secret},
        )
        assert added.exit_code == 0, added.output
        assert cli.invoke(app, ["test", "acme"]).exit_code == 0
        receiver.fail(500, count=3)  # three deliveries fail and wait in the retry queue
        assert asyncio.run(poll_connection("acme", return_state=True)).is_completed()
        sim.faults.add("revoked_key")  # the key is refused: an authentication failure
        assert asyncio.run(poll_connection("acme", return_state=True)).is_failed()
        sim.faults.clear()
        store = default_store()
        assert cli.invoke(app, ["retry", "--all"]).exit_code == 0  # the retries are due now
        assert asyncio.run(poll_connection("acme", return_state=True)).is_completed()
        assert len(receiver.unique()) == 8 and store.outbox.deliveries(statuses=["retrying"]) == []
    time.sleep(3)  # the Prefect server persists events in the background

    prefect_db = get_current_settings().server.database.connection_url.get_secret_value()
    files = database_files(prefect_db) + database_files(poller_settings.database_url)
    haystacks = {str(p): p.read_bytes().decode("latin-1") for p in files}
    haystacks["prefect api"] = asyncio.run(prefect_records())
    haystacks["logs"] = caplog.text + "".join(capfd.readouterr())
    for where, text in haystacks.items():
        for canary in canaries:
            assert canary not in text, f"a plaintext secret is in {where}"
    # the search looked where the connection's traces are
    assert "odoo-connection" in haystacks[str(database_files(prefect_db)[0])]
    assert "S00001" in "".join(text for where, text in haystacks.items() if "poller" in where)
    assert "poller.connection.acme" in haystacks["prefect api"]
