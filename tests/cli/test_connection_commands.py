"""`poller add`, `edit`, `test`, `list`, `rotate-keys` against a real Prefect API and the
simulator. Secrets never come as argument values: files, stdin, env vars or prompts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from typer.testing import CliRunner

from poller.blocks import delete_connection_block, list_connection_blocks
from poller.cli import app
from poller.crypto import generate_key, secret_box_from_env
from poller.settings import get_settings
from tests.conftest import API_KEY, ODOO_DATABASE, ODOO_LOGIN

pytestmark = pytest.mark.slow


def remove_connection_blocks() -> None:
    """The session's Prefect server is shared and `add` refuses a name that is taken: each
    test starts from no connection, and leaves none."""

    async def remove() -> None:
        for block in await list_connection_blocks():
            await delete_connection_block(block.name)

    asyncio.run(remove())


@pytest.fixture
def cli(prefect_api, poller_settings):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, **env: str):
        return runner.invoke(app, list(args), input=input, env=env or None)

    remove_connection_blocks()
    yield invoke
    remove_connection_blocks()


def add_args(odoo, stockmaster, name: str = "acme") -> list[str]:
    """`poller add` without secrets: each test says where the API key comes from."""
    return [
        "add",
        name,
        "--odoo-url",
        odoo.url,
        "--database",
        ODOO_DATABASE,
        "--username",
        ODOO_LOGIN,
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


def stored_secrets(name: str) -> tuple[str, str]:
    """The connection's API key and webhook secret, decrypted."""
    data, box = block_data(name), secret_box_from_env()
    return box.decrypt(data["api_key_encrypted"]), box.decrypt(data["webhook_secret_encrypted"])


def saved_names(cli) -> set[str]:
    return {row["name"] for row in json.loads(cli("list", "--json").stdout or "[]")}


def test_add_tests_then_saves_ciphertext_and_a_deployment(cli, odoo, stockmaster) -> None:
    result = cli(*add_args(odoo, stockmaster), POLLER_ODOO_API_KEY=API_KEY)
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
    result = cli(*add_args(odoo, stockmaster, name="bad"), POLLER_ODOO_API_KEY="wrong-key")
    assert result.exit_code == 1
    assert "✗ odoo" in result.output and "refused login 'admin'" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: connection 'bad' failed its test and was not saved")
    assert "bad" not in saved_names(cli)


def test_test_and_list_show_the_connection(cli, odoo, stockmaster) -> None:
    assert cli(*add_args(odoo, stockmaster), POLLER_ODOO_API_KEY=API_KEY).exit_code == 0
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
    assert cli(*add_args(odoo, stockmaster), POLLER_ODOO_API_KEY=API_KEY).exit_code == 0
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
    assert unknown.exit_code == 2  # a connection that does not exist: a usage error
    assert unknown.output.strip().startswith("error: no connection named 'nope'")
    monkeypatch.delenv("POLLER_ENCRYPTION_KEY")
    get_settings.cache_clear()
    result = cli("rotate-keys")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) <= 2 and "POLLER_ENCRYPTION_KEY is not set" in result.output


def test_add_reads_the_secrets_from_files(cli, odoo, stockmaster, tmp_path: Path) -> None:
    key_file, secret_file = tmp_path / "odoo.key", tmp_path / "webhook.secret"
    key_file.write_text(API_KEY + "\n")  # as `echo KEY > file` writes it
    secret_file.write_text(f"  {stockmaster.secret}\n")
    result = cli(
        *add_args(odoo, stockmaster, name="from-files"),
        *("--api-key-file", str(key_file), "--webhook-secret-file", str(secret_file)),
    )
    assert result.exit_code == 0, result.output
    assert "✓ odoo" in result.output and "shown once" not in result.output
    assert API_KEY not in result.output and stockmaster.secret not in result.output
    assert stored_secrets("from-files") == (API_KEY, stockmaster.secret)


def test_add_reads_the_api_key_from_stdin(cli, odoo, stockmaster) -> None:
    result = cli(
        *add_args(odoo, stockmaster, name="from-stdin"),
        *("--api-key-file", "-"),
        input=API_KEY + "\n",
        POLLER_WEBHOOK_SECRET=stockmaster.secret,
    )
    assert result.exit_code == 0, result.output
    assert "✓ odoo" in result.output and API_KEY not in result.output
    assert stored_secrets("from-stdin") == (API_KEY, stockmaster.secret)


def test_add_prompts_for_the_api_key_without_echo(cli, odoo, stockmaster) -> None:
    result = cli(*add_args(odoo, stockmaster, name="prompted"), input=API_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert "Odoo API key:" in result.output and API_KEY not in result.output
    assert stored_secrets("prompted")[0] == API_KEY


@pytest.mark.parametrize(
    ("option", "instead"),
    [("--api-key", "--api-key-file -"), ("--webhook-secret", "--webhook-secret-file -")],
)
def test_add_refuses_a_secret_given_as_an_argument(cli, odoo, stockmaster, option, instead):
    canary = "argv-canary-0b7e"
    for given in ([option, canary], [f"{option}={canary}"]):
        result = cli("add", "argv", *given, input="https://never.prompted\n")
        assert result.exit_code == 2, result.output
        assert canary not in result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "secrets are not taken as arguments" in lines[0]
        assert instead in lines[0] and "Odoo URL" not in result.output  # refused before prompts
    assert "argv" not in saved_names(cli)


def test_add_refuses_an_empty_key_file_and_saves_nothing(
    cli, odoo, stockmaster, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    result = cli(*add_args(odoo, stockmaster, name="empty-key"), "--api-key-file", str(empty))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: the Odoo API key file {empty} is empty. Nothing was saved"
    ]
    missing = cli(
        *add_args(odoo, stockmaster, name="empty-key"),
        *("--api-key-file", str(tmp_path / "nope.key")),
    )
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1
    assert f"cannot read the Odoo API key file {tmp_path / 'nope.key'}" in missing.output
    assert "empty-key" not in saved_names(cli)


def test_only_one_secret_can_come_from_stdin(cli, odoo, stockmaster) -> None:
    result = cli(
        *add_args(odoo, stockmaster, name="both-stdin"),
        *("--api-key-file", "-", "--webhook-secret-file", "-"),
        input=API_KEY + "\n",
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "only one secret can come from stdin" in lines[0]
    assert API_KEY not in result.output and "both-stdin" not in saved_names(cli)


def test_edit_reads_new_secrets_from_a_file_or_stdin(
    cli, odoo, stockmaster, tmp_path: Path
) -> None:
    added = cli(*add_args(odoo, stockmaster), "--no-test", POLLER_ODOO_API_KEY=API_KEY)
    assert added.exit_code == 0, added.output
    piped = cli("edit", "acme", "--webhook-secret-file", "-", input=stockmaster.secret + "\n")
    assert piped.exit_code == 0, piped.output  # tested first: the stored key still works
    assert stored_secrets("acme") == (API_KEY, stockmaster.secret)

    key_file = tmp_path / "rotated.key"
    key_file.write_text("rotated-key-9d2c\n")  # a key this Odoo refuses
    refused = cli("edit", "acme", "--api-key-file", str(key_file))
    assert refused.exit_code == 1 and "failed its test and was not saved" in refused.output
    assert stored_secrets("acme")[0] == API_KEY  # nothing saved
    edited = cli("edit", "acme", "--api-key-file", str(key_file), "--no-test")
    assert edited.exit_code == 0, edited.output
    assert "rotated-key-9d2c" not in edited.output and "detected again" in edited.output
    assert stored_secrets("acme") == ("rotated-key-9d2c", stockmaster.secret)

    valued = cli("edit", "acme", "--api-key", "rotated-key-9d2c")  # the flag takes no value
    assert valued.exit_code == 2 and "rotated-key-9d2c" not in valued.output
    assert "secrets are not taken as arguments" in valued.output
    both = cli("edit", "acme", "--api-key", "--api-key-file", str(key_file))
    assert both.exit_code == 2 and "not both" in both.output
