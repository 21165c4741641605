"""The operator's day: logs, the retry queue, edit, delete, reset-circuit, backfill."""

from __future__ import annotations

import asyncio
import json

import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from typer.testing import CliRunner

from flows.poll_connection import poll_connection
from poller.breaker import Breaker, CircuitState
from poller.cli import app
from poller.runtime import default_store
from tests.cli.test_connection_commands import remove_connection_blocks
from tests.conftest import API_KEY, ODOO_DATABASE, ODOO_LOGIN

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(prefect_api, poller_settings):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, **env: str):
        return runner.invoke(app, list(args), input=input, env=env or None)

    remove_connection_blocks()
    yield invoke
    remove_connection_blocks()


@pytest.fixture
def added(cli, odoo, stockmaster):
    result = cli(
        "add",
        "acme",
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
        "--no-test",
        POLLER_ODOO_API_KEY=API_KEY,
        POLLER_WEBHOOK_SECRET=stockmaster.secret,
    )
    assert result.exit_code == 0, result.output
    return "acme"


def test_logs_show_each_poll_with_its_flow_run(cli, added, stockmaster) -> None:
    state = asyncio.run(poll_connection(added, return_state=True))
    rows = json.loads(cli("logs", "--json", "-c", added).stdout)
    assert [(r["status"], r["queued"], r["delivered"]) for r in rows] == [("ok", 8, 8)]
    assert rows[0]["flow_run"] == str(state.state_details.flow_run_id)
    table = cli("logs")
    assert table.exit_code == 0 and "acme" in table.output and "ok" in table.output


def test_retry_queue_lists_retries_and_discards(cli, added, stockmaster) -> None:
    stockmaster.receiver.fail(400, count=1)  # dead-lettered at once
    stockmaster.receiver.fail(503, count=100)
    asyncio.run(poll_connection(added))
    queue = json.loads(cli("retries", "--json").stdout)
    statuses = sorted(r["status"] for r in queue)
    assert statuses.count("retrying") + statuses.count("dead") == 8
    dead = [r for r in json.loads(cli("retries", "--json", "--status", "dead").stdout)]
    assert all(r["status"] == "dead" and "HTTP" in r["last_error"] for r in dead)

    victim = queue[0]["id"]
    discarded = cli("discard", str(victim), "--yes")
    assert discarded.exit_code == 0 and "Discarded delivery" in discarded.output
    row = next(d for d in default_store().outbox.deliveries() if d.id == victim)
    assert row.status == "discarded" and "@" in row.discarded_by and row.discarded_at
    again = cli("discard", str(victim), "--yes")
    assert again.exit_code == 2 and "only pending, retrying or dead" in again.output

    stockmaster.receiver.recover()
    retried = cli("retry", "--all")
    assert retried.exit_code == 0 and "7 deliveries due now" in retried.output
    asyncio.run(poll_connection(added))
    assert json.loads(cli("retries", "--json").stdout) == []
    assert len(stockmaster.receiver.unique()) == 7  # the discarded one never went
    assert cli("retry").exit_code == 2  # neither ids nor --all


def test_edit_updates_block_and_deployment_and_revives_a_gone_endpoint(
    cli, added, stockmaster
) -> None:
    stockmaster.receiver.fail(410)
    asyncio.run(poll_connection(added))
    assert json.loads(cli("list", "--json").stdout)[0]["state"] == "webhook gone (410)"
    stockmaster.receiver.recover()
    edited = cli("edit", added, "--webhook-url", stockmaster.url + "/v2", "--interval", "120")
    assert edited.exit_code == 0, edited.output
    assert "no longer counts as gone" in edited.output
    assert "8 failed or dead-lettered deliveries go out with the next poll" in edited.output
    asyncio.run(poll_connection(added))
    assert len(stockmaster.receiver.unique()) == 8
    row = json.loads(cli("list", "--json").stdout)[0]
    assert (row["interval"], row["state"]) == ("120s", "enabled")

    async def schedule() -> float:
        async with get_client() as client:
            deployment = await client.read_deployment_by_name("poll-connection/acme")
        return deployment.schedules[0].schedule.interval.total_seconds()

    assert asyncio.run(schedule()) == 120
    assert cli("edit", added).exit_code == 2  # nothing to change


def test_new_api_key_is_prompted_without_echo_and_tested(cli, added) -> None:
    refused = cli("edit", added, "--api-key", input="rotated-key\n")  # Odoo refuses it
    assert refused.exit_code == 1 and "rotated-key" not in refused.output
    assert "failed its test and was not saved" in refused.output
    result = cli("edit", added, "--api-key", input=f"{API_KEY}\n")  # the key Odoo takes
    assert result.exit_code == 0 and API_KEY not in result.output
    assert "detected again" in result.output


def test_delete_removes_block_and_deployment_but_keeps_history(cli, added) -> None:
    asyncio.run(poll_connection(added))
    assert cli("delete", added, input="n\n").exit_code == 1  # asked, refused
    deleted = cli("delete", added, "--yes")
    assert deleted.exit_code == 0, deleted.output

    async def gone() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name("poll-connection/acme")
            except ObjectNotFound:
                return True
        return False

    assert asyncio.run(gone())
    assert cli("test", added).exit_code == 2  # no such connection any more
    assert (
        len(default_store().outbox.deliveries()) == 10 and default_store().logs.recent()
    )  # 8 + 2 cancelled


def test_reset_circuit_closes_an_open_breaker(cli, added) -> None:
    store = default_store()
    connection_id = store.states.find_connection(added).id
    store.states.save_breaker(connection_id, Breaker(CircuitState.OPEN, 5, 0, store.clock()), -1)
    assert "open" in json.loads(cli("list", "--json").stdout)[0]["breaker"]
    result = cli("reset-circuit", added)
    assert result.exit_code == 0 and "it was open, 5 failure(s)" in result.output
    assert store.states.load_breaker(connection_id)[0] == Breaker()


def test_backfill_replays_history_with_progress_and_resumes(cli, odoo, stockmaster) -> None:
    result = cli(
        "add",
        "late",
        "--odoo-url",
        odoo.url,
        "--database",
        ODOO_DATABASE,
        "--username",
        ODOO_LOGIN,
        "--webhook-url",
        stockmaster.url,
        "--no-test",
        POLLER_ODOO_API_KEY=API_KEY,
        POLLER_WEBHOOK_SECRET=stockmaster.secret,
    )
    assert result.exit_code == 0
    asyncio.run(poll_connection("late"))
    assert stockmaster.receiver.deliveries == []  # added now: older orders are not sent
    assert cli("backfill", "late").exit_code == 1  # nothing to resume
    replayed = cli("backfill", "late", "--since", "2026-11-28")
    assert replayed.exit_code == 0, replayed.output
    assert "orders" in replayed.output and "8 delivered" in replayed.output
    assert len(stockmaster.receiver.unique()) == 8


def test_db_upgrade_builds_the_schema_and_the_zombie_automation_once(cli) -> None:
    from deployments.recovery import ZOMBIE_AUTOMATION

    async def automations() -> int:
        async with get_client() as client:
            return len(await client.read_automations_by_name(ZOMBIE_AUTOMATION))

    first, second = cli("db", "upgrade"), cli("db", "upgrade")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "is at the newest schema" in first.output
    assert f"Prefect automation '{ZOMBIE_AUTOMATION}' is in place." in second.output
    assert asyncio.run(automations()) == 1
