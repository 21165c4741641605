"""`poller add`, `test`, `list`, `rotate-keys` against a real Prefect API and the simulator."""

from __future__ import annotations

import asyncio
import json

import pytest
from prefect.client.orchestration import get_client
from typer.testing import CliRunner

from poller.cli import app
from poller.crypto import generate_key
from poller.settings import get_settings
from tests.conftest import API_KEY, ODOO_DATABASE, ODOO_LOGIN

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(prefect_api, poller_settings):
    runner = CliRunner()

    def invoke(*args: str, **env: str):
        return runner.invoke(app, list(args), env=env or None)

    return invoke


def add_args(odoo, stockmaster, name: str = "acme", api_key: str = API_KEY) -> list[str]:
    return [
        "add",
        name,
        "--odoo-url",
        odoo.url,
        "--database",
        ODOO_DATABASE,
        "--username",
        ODOO_LOGIN,
        "--api-key",
        api_key,
        "--webhook-url",
        stockmaster.url,
        "--since",
        "2026-11-28",
    ]


def block_data(name: str) -> dict:
    async def read() -> dict:
        async with get_client() as client:
            document = await client.read_block_document_by_name(name, "odoo-connection")
        return {
            k: v.get_secret_value() if hasattr(v, "get_secret_value") else v
            for k, v in document.data.items()
        }

    return asyncio.run(read())


def test_add_tests_then_saves_ciphertext_and_a_deployment(cli, odoo, stockmaster) -> None:
    result = cli(*add_args(odoo, stockmaster))
    assert result.exit_code == 0, result.output
    assert "✓ odoo     Odoo 16.0 over jsonrpc" in result.output
    assert "8 confirmed orders" in result.output
    assert "deployment poll-connection/acme" in result.output
    secret = result.output.split("shown once; give it to StockMaster):")[1].split()[0]
    assert secret.startswith("whsec_")
    data = block_data("acme")
    assert API_KEY not in json.dumps(data) and secret not in json.dumps(data)
    assert data["api_key_encrypted"].startswith("gAAAAA")

    async def deployment_name() -> str:
        async with get_client() as client:
            return (await client.read_deployment_by_name("poll-connection/acme")).name

    assert asyncio.run(deployment_name()) == "acme"


def test_add_refuses_a_connection_that_fails_its_test(cli, odoo, stockmaster) -> None:
    result = cli(*add_args(odoo, stockmaster, name="bad", api_key="wrong-key"))
    assert result.exit_code == 1
    assert "✗ odoo" in result.output and "refused login 'admin'" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: connection 'bad' failed its test and was not saved")
    listed = cli("list", "--json")
    assert "bad" not in {row["name"] for row in json.loads(listed.stdout or "[]")}


def test_test_and_list_show_the_connection(cli, odoo, stockmaster) -> None:
    assert cli(*add_args(odoo, stockmaster)).exit_code == 0
    checked = cli("test", "acme")
    assert checked.exit_code == 0, checked.output
    assert "orders   8 confirmed orders since 2026-11-27 23:50:00" in checked.output
    assert "webhook" in checked.output
    rows = json.loads(cli("list", "--json").stdout)
    assert [(r["name"], r["breaker"], r["queued"], r["cursor"]) for r in rows] == [
        ("acme", "closed", 0, "2026-11-28 00:00:00")
    ]
    by_id = cli("test", str(rows[0]["id"]))
    assert by_id.exit_code == 0


def test_rotate_keys_re_encrypts_under_the_newest_key(cli, odoo, stockmaster, monkeypatch) -> None:
    assert cli(*add_args(odoo, stockmaster)).exit_code == 0
    old = get_settings().encryption_key
    new = generate_key()
    monkeypatch.setenv("POLLER_ENCRYPTION_KEY", f"{new},{old}")
    get_settings.cache_clear()
    rotated = cli("rotate-keys")
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 2 secret(s) of 1 connection(s)" in rotated.output
    monkeypatch.setenv("POLLER_ENCRYPTION_KEY", new)
    get_settings.cache_clear()
    assert cli("test", "acme").exit_code == 0  # the old key is no longer needed
    again = cli("rotate-keys")
    assert "Re-encrypted 0 secret(s)" in again.output


def test_missing_key_and_unknown_connection_are_one_line_errors(cli, monkeypatch) -> None:
    unknown = cli("test", "nope")
    assert unknown.exit_code == 1
    assert unknown.output.strip().startswith("error: no connection named 'nope'")
    monkeypatch.delenv("POLLER_ENCRYPTION_KEY")
    get_settings.cache_clear()
    result = cli("rotate-keys")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) <= 2 and "POLLER_ENCRYPTION_KEY is not set" in result.output
