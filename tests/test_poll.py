"""The poll cycle against real failures of the poller's own database (no Prefect here):
concurrent polls on PostgreSQL, a locked SQLite file, a dropped PostgreSQL connection."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict

import pytest

from poller.clock import utcnow
from poller.cycle import run_cycle
from poller.poll_report import PollReport
from poller.runtime import default_store, open_poller, store_for
from poller.settings import get_settings
from poller.state.store import Store
from tests.conftest import BEFORE_SEED, make_config
from tests.support.clock import FakeClock
from tests.support.tcp_proxy import TcpProxy

SEEDED = {1, 2, 3, 4, 7, 8, 9, 10}


def use_settings(monkeypatch: pytest.MonkeyPatch, **values: str):
    for key, value in values.items():
        monkeypatch.setenv(f"POLLER_{key.upper()}", value)
    get_settings.cache_clear()
    store_for.cache_clear()
    return get_settings()


async def poll(config) -> PollReport:
    poller = open_poller(config)
    try:
        return await run_cycle(poller, poller)
    finally:
        await poller.aclose()


def on_fake_clock(store: Store) -> FakeClock:
    """The store's clock, which judges lease expiry, made one that moves only when told."""
    clock = FakeClock(utcnow())
    store.clock = clock
    return clock


async def let_the_lease_expire(config, clock: FakeClock, lease_seconds: int) -> None:
    """A failed run could not release its lease: it holds until the store's clock passes it."""
    blocked = await poll(config)
    assert (blocked.status, blocked.reason) == (
        "skipped",
        "another run holds this connection's lease",
    )
    clock.advance(lease_seconds + 1)


def webhook_ids_by_order(receiver) -> dict[int, set[str]]:
    ids: dict[int, set[str]] = defaultdict(set)
    for item in receiver.deliveries:
        ids[item.body["order"]["id"]].add(item.webhook_id)
    return ids


@pytest.mark.postgres
async def test_two_polls_started_at_once_on_postgres_process_each_order_once(
    poller_settings, pg_schema_url, odoo, stockmaster, monkeypatch
) -> None:
    settings = use_settings(monkeypatch, database_url=pg_schema_url[0])
    config = make_config(settings, odoo, stockmaster)
    default_store().states.ensure_connection(config.name, since=BEFORE_SEED)
    first, second = await asyncio.gather(poll(config), poll(config))
    statuses = sorted([first.status, second.status])
    assert statuses == ["ok", "skipped"]
    skipped = first if first.status == "skipped" else second
    assert skipped.reason == "another run holds this connection's lease"
    assert len(stockmaster.receiver.deliveries) == len(SEEDED)
    assert set(webhook_ids_by_order(stockmaster.receiver)) == SEEDED


async def test_locked_sqlite_fails_the_run_clearly_and_the_next_run_continues(
    poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    settings = use_settings(
        monkeypatch, page_size="3", lease_seconds="5", sqlite_busy_timeout_ms="200"
    )
    config = make_config(settings, odoo, stockmaster)
    store = default_store()
    clock = on_fake_clock(store)
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    path = settings.database_url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def lock_on_first_delivery(_item) -> None:
        if not locker.in_transaction:
            locker.execute("BEGIN IMMEDIATE")

    stockmaster.receiver.on_delivery = lock_on_first_delivery
    failed = await poll(config)
    assert failed.status == "failed"
    assert failed.error.startswith("poller database error: database is locked")
    assert "\n" not in failed.error
    stockmaster.receiver.on_delivery = None
    locker.execute("ROLLBACK")
    await let_the_lease_expire(config, clock, settings.lease_seconds)

    recovered = await poll(config)
    assert recovered.status == "ok", recovered.error
    ids = webhook_ids_by_order(stockmaster.receiver)
    assert set(ids) == SEEDED
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
    state = store.states.find_connection(config.name)
    assert state.cursor == "2026-11-28 08:20:30" and state.scan_lower_bound is None
    assert store.outbox.deliveries(statuses=["pending", "retrying"]) == []


@pytest.mark.postgres
async def test_dropped_postgres_connection_fails_the_run_and_the_next_run_continues(
    poller_settings, pg_schema_url, odoo, stockmaster, monkeypatch
) -> None:
    proxy = TcpProxy("127.0.0.1", 5432)
    url = pg_schema_url[0].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    settings = use_settings(monkeypatch, database_url=url, page_size="3", lease_seconds="5")
    config = make_config(settings, odoo, stockmaster)
    store = default_store()
    clock = on_fake_clock(store)
    store.states.ensure_connection(config.name, since=BEFORE_SEED)

    def drop_on_first_delivery(_item) -> None:
        proxy.cut()

    stockmaster.receiver.on_delivery = drop_on_first_delivery
    failed = await poll(config)
    assert failed.status == "failed"
    assert failed.error.startswith("poller database error:")
    assert "POLLER_DATABASE_URL" in failed.error and "\n" not in failed.error
    stockmaster.receiver.on_delivery = None
    proxy.restore()
    await let_the_lease_expire(config, clock, settings.lease_seconds)

    recovered = await poll(config)
    assert recovered.status == "ok", recovered.error
    ids = webhook_ids_by_order(stockmaster.receiver)
    assert set(ids) == SEEDED
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
    assert store.states.find_connection(config.name).cursor == "2026-11-28 08:20:30"


async def test_410_gone_stops_deliveries_and_says_so(poller_settings, odoo, stockmaster) -> None:
    config = make_config(poller_settings, odoo, stockmaster)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    stockmaster.receiver.fail(410)
    report = await poll(config)
    assert report.status == "ok" and "answered 410 Gone" in report.summary()
    assert store.states.find_connection(config.name).endpoint_gone_at is not None
    attempts = stockmaster.receiver.failures_served
    stockmaster.receiver.recover()
    odoo.sim.create_order(9, [{"product_id": 1, "qty": 1}])
    again = await poll(config)
    assert stockmaster.receiver.failures_served == attempts and not stockmaster.receiver.deliveries
    assert again.queued == 1 and again.sent.gone
    waiting = store.outbox.deliveries(statuses=["pending", "retrying"])
    assert len(waiting) == 9  # kept until the endpoint is fixed, nothing dead-lettered


def test_next_slot_keeps_a_fixed_grid() -> None:
    from datetime import UTC, datetime, timedelta

    from poller.slots import next_slot

    slot = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    minute = timedelta(seconds=60)
    at = lambda seconds: slot + timedelta(seconds=seconds)  # noqa: E731
    assert next_slot(slot, minute, at(0)) == at(60)
    assert next_slot(slot, minute, at(4.5)) == at(60)  # a late start does not drift
    assert next_slot(slot, minute, at(150)) == at(180)  # missed slots are skipped
    assert next_slot(None, minute, at(7)) == at(60)  # joins the grid of phase 0
    assert next_slot(None, minute, at(7), phase=0.25) == at(15)
    assert next_slot(None, minute, at(15), phase=0.25) == at(75)  # strictly after the start
    assert next_slot(slot, minute, at(-5), phase=0.5) == at(30)  # polled early: re-joins


def test_spread_phases_leave_no_crowded_second() -> None:
    from collections import Counter

    from poller.slots import spread_phase

    seconds = Counter(int(spread_phase(cid) * 60) for cid in range(1, 3001))
    assert len(seconds) == 60 and max(seconds.values()) <= 53  # 50 a second when even


async def test_a_poll_cut_off_mid_page_has_recorded_what_the_receiver_accepted(
    poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    """A kill re-sends at most the sends in flight, not the page: here the poll is cancelled
    half-way through a page of 60 and the receiver's record is compared with the database."""
    settings = use_settings(monkeypatch, page_size="60", send_concurrency="4")
    odoo.sim.add_generated_orders(60, lines_per_order=1)
    stockmaster.receiver.latency_seconds = 0.02
    config = make_config(settings, odoo, stockmaster)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    polling = asyncio.create_task(poll(config))
    while len(stockmaster.receiver.deliveries) < 30:
        await asyncio.sleep(0.005)
    polling.cancel()
    await asyncio.gather(polling, return_exceptions=True)

    accepted = {item.webhook_id for item in stockmaster.receiver.deliveries}
    recorded = {d.event_id for d in store.outbox.deliveries(statuses=["delivered"])}
    assert recorded <= accepted
    assert len(accepted) >= 30 and len(accepted - recorded) <= settings.send_concurrency


@pytest.mark.parametrize(
    "bug",
    [
        pytest.param(("poller.orders.map_address", TypeError("unsupported operand")), id="mapper"),
        pytest.param(
            ("poller.state.outbox.Outbox.order_histories", AttributeError("no attribute 'ids'")),
            id="store",
        ),
    ],
)
async def test_a_bug_in_a_mapper_or_store_call_is_a_failed_poll_not_a_bad_order(
    bug, poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    target, error = bug

    def broken(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(target, broken)
    config = make_config(poller_settings, odoo, stockmaster)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    report = await poll(config)

    assert (report.status, report.error_type) == ("failed", "InternalError")
    assert report.error.startswith(f"internal error: {type(error).__name__}: {error}")
    assert "Traceback" in report.traceback and "broken" in report.traceback
    assert report.quarantined == [] and store.outbox.deliveries(statuses=["quarantined"]) == []
    connection = store.states.find_connection(config.name)
    log = store.logs.recent(connection.id, limit=1)[0]
    assert (log.status, log.error) == ("failed", report.error)
    breaker, _version = store.states.load_breaker(connection.id)
    assert breaker.failures == 1
    assert stockmaster.receiver.deliveries == []


async def test_a_password_in_the_odoo_url_never_reaches_stockmaster(
    poller_settings, odoo, stockmaster
) -> None:
    with_password = odoo.url.replace("http://", "http://bot:s3cretpw@")
    config = make_config(poller_settings, odoo, stockmaster).model_copy(
        update={"odoo_url": with_password}
    )
    default_store().states.ensure_connection(config.name, since=BEFORE_SEED)
    report = await poll(config)
    assert report.status == "ok" and stockmaster.receiver.deliveries
    urls = {item.body["connection"]["odoo_url"] for item in stockmaster.receiver.deliveries}
    assert urls == {odoo.url}


async def test_a_new_connection_delivers_nothing_written_before_it_starts(
    poller_settings, odoo, stockmaster
) -> None:
    """Orders 1-4 were written at 08:19:30, 7-10 at 08:20:29/30: a connection that starts at
    08:20:00 gets 7-10 only, although the scan's overlap (10 minutes) reaches back further."""
    from datetime import UTC, datetime

    config = make_config(poller_settings, odoo, stockmaster)
    starts = datetime(2026, 11, 28, 8, 20, tzinfo=UTC)
    default_store().states.ensure_connection(config.name, since=starts)
    report = await poll(config)
    assert report.status == "ok"
    assert set(webhook_ids_by_order(stockmaster.receiver)) == {7, 8, 9, 10}


async def test_a_poll_whose_deliveries_were_refused_is_not_ok(
    poller_settings, odoo, stockmaster
) -> None:
    config = make_config(poller_settings, odoo, stockmaster)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    stockmaster.receiver.fail(404)  # a wrong webhook URL: every delivery dead-lettered
    report = await poll(config)
    assert (report.status, report.sent.dead) == ("dead-lettered", 8)
    assert "8 dead-lettered" in report.summary()
    log = store.logs.recent(limit=1)[0]
    assert (log.status, log.dead, log.delivered) == ("dead-lettered", 8, 0)
    acme = store.states.find_connection(config.name)
    assert store.states.load_breaker(acme.id)[0].failures == 0  # Odoo is fine
