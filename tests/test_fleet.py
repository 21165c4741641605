"""Fleet mode without Prefect: who is due, and one tenant's trouble stays its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from poller.crypto import SecretBox
from poller.fleet import Fleet, due_connections
from poller.poll import run_cycle
from poller.runtime import default_store
from poller.state.models import ConnectionState
from tests.conftest import BEFORE_SEED, make_config, running_odoo

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def state(name: str, last: datetime | None) -> ConnectionState:
    return ConnectionState(
        name=name, created_at=NOW, cursor="2026-11-28 00:00:00", last_poll_at=last
    )


def test_due_connections_are_the_overdue_ones_most_overdue_first(
    poller_settings, odoo, stockmaster
) -> None:
    configs = {
        name: make_config(poller_settings, odoo, stockmaster, name=name).model_copy(
            update={"poll_interval_seconds": 60}
        )
        for name in ("fresh", "late", "later", "never", "busy", "off")
    }
    configs["off"] = configs["off"].model_copy(update={"enabled": False})
    states = {
        "fresh": state("fresh", NOW - timedelta(seconds=30)),
        "late": state("late", NOW - timedelta(seconds=70)),
        "later": state("later", NOW - timedelta(seconds=200)),
        "busy": state("busy", NOW - timedelta(seconds=500)),
        "off": state("off", NOW - timedelta(seconds=500)),
    }
    assert due_connections(configs, states, NOW, busy={"busy"}) == ["later", "late", "never"]


async def test_a_slow_or_broken_tenant_does_not_hold_back_the_others(
    poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    store = default_store()
    fleet = Fleet(poller_settings, store, SecretBox(poller_settings.encryption_key))
    with running_odoo() as slow_odoo:
        slow_odoo.sim.latency_seconds = 0.4
        configs = [
            make_config(poller_settings, odoo, stockmaster, name="quick"),
            make_config(poller_settings, slow_odoo, stockmaster, name="slow"),
            make_config(poller_settings, odoo, stockmaster, name="broken").model_copy(
                update={"api_key_encrypted": SecretBox(poller_settings.encryption_key).encrypt("x")}
            ),
        ]
        for config in configs:
            store.ensure_connection(config.name, since=BEFORE_SEED)
        await fleet.update(configs)
        finished: dict[str, float] = {}
        started = time.monotonic()

        async def poll_one(poller):
            report = await run_cycle(poller, poller)
            finished[poller.config.name] = time.monotonic() - started
            return report

        reports = {r.connection: r for r in await fleet.poll(fleet.due(), poll_one)}
        await fleet.aclose()
    assert reports["quick"].status == "ok" and reports["quick"].queued == 8
    assert reports["slow"].status == "ok"
    assert reports["broken"].status == "failed" and "refused" in reports["broken"].error
    assert finished["quick"] < finished["slow"] / 3  # the quick one did not wait
    assert fleet.busy == set()
    assert fleet.due() == []  # all just polled: nothing due before their interval


async def test_an_empty_poll_is_one_odoo_call_and_a_few_statements(
    poller_settings, odoo, stockmaster
) -> None:
    """The cost fleet mode rests on: once a tenant's session is known, a poll that finds
    nothing asks Odoo one thing and touches the database a handful of times."""
    from sqlalchemy import event

    store = default_store()
    fleet = Fleet(poller_settings, store, SecretBox(poller_settings.encryption_key))
    config = make_config(poller_settings, odoo, stockmaster)
    store.ensure_connection(config.name, since=BEFORE_SEED)
    await fleet.update([config])

    async def cycle(poller):
        return await run_cycle(poller, poller)

    (first,) = await fleet.poll([config.name], cycle)  # delivers the seeded shop
    assert first.sent.delivered == 8
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    odoo.sim.reset_calls()
    (empty,) = await fleet.poll([config.name], cycle)
    await fleet.aclose()
    assert (empty.status, empty.queued, empty.sent.delivered) == ("ok", 0, 0)
    assert [(c.model, c.odoo_method) for c in odoo.sim.calls] == [("sale.order", "search_read")]
    # the breaker, the lease claimed, the state read, the versions already queued (the scan
    # re-reads a 10-minute overlap), the due retries, the lease released, the sync-log row
    assert len(statements) == 7, statements
    assert not any(s.lstrip().upper().startswith("INSERT INTO DELIVER") for s in statements)


async def test_an_edit_reaches_a_connection_that_was_busy_when_it_came(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    fleet = Fleet(poller_settings, store, SecretBox(poller_settings.encryption_key))
    config = make_config(poller_settings, odoo, stockmaster)
    edited = config.model_copy(update={"poll_interval_seconds": 300})
    await fleet.update([config])
    fleet.busy.add(config.name)
    await fleet.update([edited])
    assert fleet.pollers[config.name].config == config  # never swapped mid-poll
    fleet.busy.clear()
    await fleet.update([edited])  # the next refresh, with nothing changed since
    assert fleet.pollers[config.name].config == edited
    await fleet.aclose()
