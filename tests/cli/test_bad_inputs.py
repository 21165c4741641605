"""Every bad input gets one clear line: exit code 2, one `error: ...` line on stderr that says
what is wrong and what is allowed, never a traceback, and nothing saved (the connection
blocks, deployments, connection rows and deliveries are as they were). And tables that
survive a pipe.

One connection `acme` is added and polled once for the module (8 deliveries, delivered);
every case runs against it, so that a case that saved something would show.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings
from typer.testing import CliRunner

from flows.poll_connection import poll_connection
from odoo_sim.receiver import Receiver
from odoo_sim.server import BackgroundServer
from poller.blocks import delete_connection_block, list_connection_blocks
from poller.cli import app
from poller.crypto import generate_key
from poller.delivery.signing import generate_webhook_secret
from poller.runtime import default_store, store_for
from poller.settings import get_settings
from tests.cli.test_connection_commands import remove_connection_blocks
from tests.conftest import API_KEY, ODOO_DATABASE, ODOO_LOGIN, running_odoo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
POLLER = [sys.executable, "-m", "poller.cli"]
ODOO = "https://acme.odoo.example"
HOOKS = "https://stockmaster.example/hooks/odoo"
RULE = "1 to 63 lowercase letters, digits and dashes"


def add(name: str = "fresh", **changed: str) -> list[str]:
    """`poller add` with every option good but the `changed` ones (`--no-test`: the case
    must be refused before any test, let alone a save)."""
    options = {
        "--odoo-url": ODOO,
        "--database": ODOO_DATABASE,
        "--username": ODOO_LOGIN,
        "--webhook-url": HOOKS,
        "--since": "2026-11-01",
    }
    options.update({f"--{key.replace('_', '-')}": value for key, value in changed.items()})
    return ["add", "--no-test", *(part for pair in options.items() for part in pair), "--", name]


#: (command line, what the one line must say); DELIVERED stands for a delivered delivery's id
BAD_INPUTS: list[tuple[list[str], str]] = [
    # connection names
    (add("a b"), RULE),
    (add("a/b"), RULE),
    (add("café"), RULE),
    (add("a" * 200), "(200 characters)"),
    (add(""), "connection name '' is not allowed"),
    (add("Acme"), RULE),
    (add("-acme"), RULE),
    (add("acme-"), RULE),
    (add("123"), "not digits alone"),
    (add("a[/]b"), "'a[/]b' is not allowed"),
    (add("acme"), "connection 'acme' exists already. Change it with `poller edit acme`"),
    # URLs
    (add(odoo_url="not a url"), "'--odoo-url': 'not a url' is not an http:// or https:// URL"),
    (add(odoo_url="ftp://odoo.example.com"), "is not an http:// or https:// URL"),
    (add(odoo_url="https://bot:s3cretpw@odoo.example.com"), "carries a user or password"),
    (add(odoo_url="https://odoo.example.com/?db=acme"), "has a ?query"),
    (add(webhook_url="hooks.example.com/in"), "'--webhook-url'"),
    (add(webhook_url="https://u:s3cretpw@hooks.example.com/in"), "carries a user or password"),
    (add(webhook_url="https://hooks.example.com/in#top"), "has a #fragment"),
    # the interval, the transport, --since, the other fields
    (add(interval="-5"), "-5 is out of range: give whole seconds from 5 to 86400"),
    (add(interval="0"), "0 is out of range"),
    (add(interval="4"), "4 is out of range"),
    (add(interval="86401"), "86401 is out of range"),
    (add(interval="99999999999999999999"), "99999999999999999999 is out of range"),
    (add(interval="ten"), "'ten' is not a whole number: give whole seconds from 5 to 86400"),
    (add(transport="soap"), "'soap' is not a transport: give auto, jsonrpc or json2"),
    (add(since="2099-01-01"), "'2099-01-01' is in the future"),
    (add(since="2026-11-01T08:00+99:00"), "is not a date: give an ISO 8601 date"),
    (add(since="yesterday"), "'yesterday' is not a date"),
    (add(since="1900-01-01"), "is before 1970"),
    (add(database=""), "the Odoo database must not be empty"),
    (add(username=" "), "the Odoo login must not be empty"),
    (add(username="bot\tadmin"), "holds a control character"),
    # click's own usage errors, as one line too
    (["add", "fresh", "--intervall", "5"], "No such option: --intervall"),
    (["add"], "Missing argument 'NAME'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    # edit: the same rules, and a connection that must exist
    (["edit", "acme", "--interval", "0"], "0 is out of range"),
    (["edit", "acme", "--odoo-url", "not a url"], "is not an http:// or https:// URL"),
    (["edit", "acme", "--webhook-url", "https://u:s3cretpw@x.example"], "user or password"),
    (["edit", "acme", "--transport", "soap"], "is not a transport"),
    (["edit", "acme", "--database", ""], "must not be empty"),
    (["edit", "acme"], "nothing to change"),
    (["edit", "nope", "--interval", "60"], "no connection named 'nope'"),
    (["edit", "999", "--interval", "60"], "no connection with id 999"),
    # connections that do not exist, or cannot
    (["test", "nope"], "no connection named 'nope'"),
    (["test", "Not A Name"], "no connection can be named 'Not A Name'"),
    (["test", "99999999999999999999"], "no connection has id"),
    (["delete", "nope", "--yes"], "no connection named 'nope'"),
    (["delete", "999", "--yes"], "no connection with id 999"),
    (["reset-circuit", "nope"], "no connection named 'nope'"),
    (["backfill", "nope", "--since", "2026-11-01"], "no connection named 'nope'"),
    (["backfill", "acme", "--since", "2099-01-01"], "is in the future"),
    (["backfill", "acme", "--since", "soon"], "'soon' is not a date"),
    (["logs", "-c", "nope"], "no connection named 'nope'"),
    (["retries", "-c", "nope"], "no connection named 'nope'"),
    # rows, statuses and delivery ids
    (["logs", "--limit", "0"], "0 is out of range: give a number of rows from 1"),
    (["logs", "--limit", "-1"], "-1 is out of range"),
    (["retries", "--limit", "-1"], "-1 is out of range"),
    (["retries", "--status", "bogus"], "'bogus' is not a queue status: give pending, retrying"),
    (["retry", "99999"], "no delivery with id 99999"),
    (["retry", "DELIVERED"], "is delivered: only retrying or dead deliveries can be retried"),
    (["retry", "DELIVERED", "-c", "nope"], "no connection named 'nope'"),
    (["retry"], "name delivery ids or pass --all"),
    (["retry", "DELIVERED", "--all"], "not both"),
    (["retry", "0"], "0 is out of range: give a delivery id"),
    (["discard", "99999", "--yes"], "no delivery with id 99999"),
    (["discard", "DELIVERED", "--yes"], "only pending, retrying or dead deliveries"),
    (["discard", "abc"], "'abc' is not a whole number: give a delivery id"),
    (["run", "--port", "0"], "0 is out of range: give a TCP port"),
    (["demo", "--interval", "1"], "1 is out of range: give whole seconds from 5"),
]


@pytest.fixture(scope="module")
def world(prefect_api: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`acme` added and polled once: a delivered delivery's id."""
    database = tmp_path_factory.mktemp("bad-inputs") / "poller.db"
    secret = generate_webhook_secret()
    receiver = Receiver(secret=secret)
    with (
        pytest.MonkeyPatch.context() as patch,
        running_odoo() as odoo,
        BackgroundServer(receiver.app) as hooks,
    ):
        patch.setenv("POLLER_ENCRYPTION_KEY", generate_key())
        patch.setenv("POLLER_DATABASE_URL", f"sqlite:///{database}")
        patch.setenv("POLLER_ODOO_API_KEY", API_KEY)
        patch.setenv("POLLER_WEBHOOK_SECRET", secret)
        get_settings.cache_clear()
        store_for.cache_clear()
        remove_connection_blocks()
        try:
            added = CliRunner().invoke(
                app,
                [
                    *("add", "acme", "--odoo-url", odoo.url, "--database", ODOO_DATABASE),
                    *("--username", ODOO_LOGIN, "--webhook-url", f"{hooks.url}/in"),
                    *("--since", "2026-11-28"),
                ],
            )
            assert added.exit_code == 0, added.output
            asyncio.run(poll_connection("acme"))
            delivered = [d.id for d in default_store().outbox.deliveries(statuses=["delivered"])]
            assert len(delivered) == 8
            yield int(delivered[0] or 0)
        finally:
            remove_connection_blocks()
            get_settings.cache_clear()
            store_for.cache_clear()


def saved() -> dict[str, Any]:
    """Everything a command could save: blocks (with Prefect's stamp of their last save),
    deployments, connection rows and deliveries."""

    async def prefect() -> tuple[dict[str, Any], list[str]]:
        blocks = {b.name: (b.updated, b.data) for b in await list_connection_blocks()}
        async with get_client() as client:
            deployments = sorted(d.name for d in await client.read_deployments())
        return blocks, deployments

    blocks, deployments = asyncio.run(prefect())
    store = default_store()
    return {
        "blocks": blocks,
        "deployments": deployments,
        "connections": [state.model_dump() for state in store.states.connections()],
        "deliveries": [d.model_dump() for d in store.outbox.deliveries()],
    }


@pytest.mark.parametrize(
    ("args", "says"), BAD_INPUTS, ids=[" ".join(args)[:60] for args, _ in BAD_INPUTS]
)
def test_a_bad_input_is_one_line_exit_2_and_saves_nothing(
    world: int, args: list[str], says: str
) -> None:
    args = [str(world) if arg == "DELIVERED" else arg for arg in args]
    before = saved()
    result = CliRunner().invoke(app, args)
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert says in lines[0]
    assert result.stdout.strip() == ""
    assert "s3cretpw" not in output  # a URL's password is never echoed
    assert saved() == before


@pytest.mark.parametrize(
    "args",
    [add("a b"), ["add", "fresh", "--interval", "x"], ["retries", "--status", "bogus"]],
    ids=["name", "click-type", "status"],
)
def test_the_real_command_answers_one_line_on_stderr(world: int, args: list[str]) -> None:
    """Through `python -m poller.cli`, with stderr a stream of its own."""
    done = subprocess.run([*POLLER, *args], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


BAD_ENVIRONMENTS = [
    ({"POLLER_DATABASE_URL": "garbage"}, "POLLER_DATABASE_URL: not a database URL"),
    ({"POLLER_DATABASE_URL": "mysql://root:s3cretpw@127.0.0.1/test"}, "'mysql' is not a"),
    ({"POLLER_PAGE_SIZE": "many"}, "POLLER_PAGE_SIZE: Input should be a valid integer"),
    ({"POLLER_LEASE_SECONDS": "1"}, "POLLER_LEASE_SECONDS: Input should be greater than"),
]


@pytest.mark.parametrize(
    ("variables", "says"), BAD_ENVIRONMENTS, ids=[says[:30] for _, says in BAD_ENVIRONMENTS]
)
@pytest.mark.parametrize("command", [["logs"], ["retries"], ["db", "upgrade"]])
def test_a_wrong_variable_is_one_line_and_exit_2(
    world: int, command: list[str], variables: dict[str, str], says: str
) -> None:
    """Through `python -m poller.cli`: the environment is input too."""
    done = subprocess.run(
        [*POLLER, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**_env(), **variables},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "s3cretpw" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    return env


def test_a_piped_table_keeps_its_header_words_whole(world: int) -> None:
    """`poller list` into a pipe, no COLUMNS: the table is as wide as it needs, not 80
    columns with `interv`/`al` on two lines; `--json` is unchanged."""
    done = subprocess.run([*POLLER, "list"], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("┃ id"))
    assert lines[header + 1].startswith("┡")  # the header is one line: no word was split
    labels = [cell.strip() for cell in lines[header].strip().strip("┃").split("┃")]
    assert labels == [
        "id",
        "name",
        "odoo",
        "interval",
        "state",
        "breaker",
        "cursor",
        "last poll",
        "lease",
        "queued",
        "dead",
    ]
    assert len(lines[header]) > 80  # wider than the 80 columns a pipe used to get
    rows = subprocess.run(
        [*POLLER, "list", "--json"], cwd=ROOT, capture_output=True, text=True, env=_env()
    )
    assert rows.returncode == 0 and '"name": "acme"' in rows.stdout


def test_a_block_saved_under_older_rules_is_listed_not_a_traceback(world: int) -> None:
    """A block the model now refuses (a day-long interval is the most; edited by hand in the
    Prefect UI, or saved by an older poller) shows in `poller list` as invalid."""
    from prefect.client.schemas.actions import BlockDocumentCreate

    async def create_legacy() -> None:
        async with get_client() as client:
            acme = await client.read_block_document_by_name(
                "acme", "odoo-connection", include_secrets=True
            )
            data = {
                k: v.get_secret_value() if hasattr(v, "get_secret_value") else v
                for k, v in acme.data.items()
            }
            create = BlockDocumentCreate(
                name="legacy",
                data={**data, "poll_interval_seconds": 10**6},
                block_schema_id=acme.block_schema_id,
                block_type_id=acme.block_type_id,
            )
            await client.create_block_document(create, include_secrets=True)

    asyncio.run(create_legacy())
    try:
        result = CliRunner().invoke(app, ["list", "--json"])
        assert result.exit_code == 0, result.output
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert rows["legacy"]["state"].startswith("invalid block")
        assert rows["acme"]["state"] == "enabled"
        tested = CliRunner().invoke(app, ["test", "legacy"])
        assert tested.exit_code == 1 and "poll_interval_seconds" in tested.stderr
    finally:
        asyncio.run(delete_connection_block("legacy"))
