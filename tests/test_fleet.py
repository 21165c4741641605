"""A fleet worker without Prefect: it claims what is due, polls it, and one tenant's trouble
stays its own."""

from __future__ import annotations

import time

from poller.crypto import SecretBox
from poller.cycle import run_cycle
from poller.fleet import Fleet
from poller.poll import ConnectionPoller
from poller.poll_report import PollReport
from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, make_config, running_odoo
from tests.support.blocks import define, listing
from tests.support.clock import FakeClock


def fleet_for(settings) -> Fleet:
    return Fleet(settings, default_store(), SecretBox(settings.encryption_key))


async def test_a_slow_or_broken_tenant_does_not_hold_back_the_others(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    fleet = fleet_for(poller_settings)
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
            store.states.ensure_connection(config.name, since=BEFORE_SEED)
        define(fleet, *configs)
        finished: dict[str, float] = {}
        started = time.monotonic()

        async def poll_one(poller):
            report = await run_cycle(poller, poller, owner=fleet.owner)
            finished[poller.config.name] = time.monotonic() - started
            return report

        claimed = await fleet.claim()
        assert sorted(claimed) == ["broken", "quick", "slow"]
        reports = {r.connection: r for r in await fleet.poll(claimed, poll_one)}
        assert await fleet.claim() == []  # all just polled: nothing due before their interval
        fleet.give_back_all()
    assert reports["quick"].status == "ok" and reports["quick"].queued == 8
    assert reports["slow"].status == "ok"
    assert reports["broken"].status == "failed" and "refused" in reports["broken"].error
    assert finished["quick"] < finished["slow"] / 3  # the quick one did not wait
    assert fleet.held == {}
    states = {state.name: state for state in store.states.connections()}
    assert all(state.lease_owner is None for state in states.values())
    logs = store.logs.recent()
    assert {log.worker for log in logs} == {poller_settings.worker_name}


async def test_an_empty_poll_is_one_odoo_call_and_a_few_statements(
    poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    """The cost fleet mode rests on: once a tenant's session is known, a poll that finds
    nothing asks Odoo one thing and touches the database a handful of times."""
    from sqlalchemy import event

    store = default_store()
    fleet = fleet_for(poller_settings)
    config = make_config(poller_settings, odoo, stockmaster).model_copy(
        update={"poll_interval_seconds": 5}
    )
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    define(fleet, config)

    async def cycle(poller):
        return await run_cycle(poller, poller, owner=fleet.owner)

    (first,) = await fleet.poll(await fleet.claim(), cycle)  # delivers the seeded shop
    assert first.sent.delivered == 8
    clock = FakeClock(store.clock())
    clock.advance(6)  # the next slot of a 5-second interval
    monkeypatch.setattr(store, "clock", clock)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    odoo.sim.reset_calls()
    claimed = await fleet.claim()
    assert claimed == [config.name] and len(statements) == 1  # one statement claims
    (empty,) = await fleet.poll(claimed, cycle)
    fleet.give_back_all()
    assert (empty.status, empty.queued, empty.sent.delivered) == ("ok", 0, 0)
    assert [(c.model, c.odoo_method) for c in odoo.sim.calls] == [("sale.order", "search_read")]
    # the claim (which read the state row the poll starts from); then the breaker, the
    # versions already queued (the scan re-reads a 10-minute overlap), the due retries, the
    # lease released, the sync-log row
    assert len(statements) == 6, statements
    assert not any(s.lstrip().upper().startswith("INSERT INTO DELIVER") for s in statements)


async def test_an_edit_reaches_a_connection_that_was_busy_when_it_came(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    fleet = fleet_for(poller_settings)
    config = make_config(poller_settings, odoo, stockmaster)
    edited = config.model_copy(update={"poll_interval_seconds": 300})
    define(fleet, config)
    assert await fleet.claim() == [config.name]
    seen: list[ConnectionPoller] = []

    async def edit_while_polling(poller: ConnectionPoller) -> PollReport:
        define(fleet, edited)  # arrives while the claim is being polled
        seen.append(poller)
        return PollReport(connection=poller.config.name)

    await fleet.poll([config.name], edit_while_polling)
    assert seen[0].config == config  # never swapped under a running poll
    assert store.states.find_connection(config.name).poll_interval_seconds == 300
    assert await fleet.claim() == [config.name]  # the edit made it due again at once
    await fleet.poll([config.name], edit_while_polling)
    assert seen[1].config == edited and seen[1] is not seen[0]
    fleet.give_back_all()


async def test_a_deleted_or_disabled_connection_is_not_claimed(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    fleet = fleet_for(poller_settings)
    kept, deleted, disabled = (
        make_config(poller_settings, odoo, stockmaster, name=name)
        for name in ("kept", "deleted", "disabled")
    )
    define(fleet, kept, deleted, disabled.model_copy(update={"enabled": False}))
    assert sorted(await fleet.claim()) == ["deleted", "kept"]
    fleet.settle(["deleted", "kept"])
    define(fleet, kept)  # `deleted`'s block is gone
    assert await fleet.claim() == ["kept"]
    states = {state.name: state for state in store.states.connections()}
    assert not states["deleted"].enabled and not states["disabled"].enabled
    fleet.give_back_all()


async def test_a_claim_reads_its_block_again_only_after_poller_saved_it(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    config = make_config(poller_settings, odoo, stockmaster)
    edited = config.model_copy(update={"database": "renamed"})
    blocks = {config.name: listing(config)[0]}
    reads: list[str] = []

    async def load_many(names: list[str]):
        reads.extend(names)
        return {name: blocks[name] for name in names if name in blocks}

    fleet = Fleet(
        poller_settings, store, SecretBox(poller_settings.encryption_key), load_many=load_many
    )
    fleet.take(fleet.definitions.diff(blocks.values()))
    assert await fleet.claim() == [config.name] and reads == []  # the stamps agree
    fleet.settle([config.name])

    blocks[config.name] = listing(edited)[0]  # `poller edit`: the block, then the stamp
    store.states.forget_definition(config.name)
    assert await fleet.claim() == [config.name] and reads == [config.name]
    assert fleet.definitions.configs[config.name] == edited
    fleet.settle([config.name])
    assert await fleet.claim() == [config.name] and reads == [config.name]  # read once

    fleet.settle([config.name])
    del blocks[config.name]  # `poller delete`
    store.states.forget_definition(config.name)
    assert await fleet.claim() == []
    assert not store.states.find_connection(config.name).enabled
    fleet.give_back_all()
