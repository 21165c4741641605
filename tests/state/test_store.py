"""The Store against real databases: a SQLite file and PostgreSQL (one schema per test)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from poller.breaker import Breaker, CircuitState
from poller.cursor import ScanPosition
from poller.errors import ConnectionNotFound, SchemaError, StateError
from poller.state.engine import create_db_engine, upgrade
from poller.state.models import DeliveryStatus, SyncLog
from poller.state.outbox import DeliveryResult, NewDelivery
from poller.state.store import Store
from poller.versions import OrderHistory
from tests.state.conftest import sqlite_url
from tests.support.clock import FakeClock

TABLES = {"connection_state", "delivery", "sync_log", "breaker", "alembic_version"}
WD1 = "2026-11-28 07:55:01"
WD2 = "2026-11-28 07:58:30"
WD3 = "2026-11-28 08:01:00"


def version(
    order_id: int,
    write_date: str,
    *,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    content_hash: str | None = "h",
    tag: str = "",
) -> NewDelivery:
    return NewDelivery(
        order_id=order_id,
        order_name=f"S{order_id:05d}",
        write_date=write_date,
        event_id=f"ev{tag}-{order_id}-{write_date}",
        event_type="order.confirmed",
        payload=f'{{"order": {order_id}}}',
        content_hash=content_hash,
        status=status,
        last_error="unmappable" if status == DeliveryStatus.QUARANTINED else None,
    )


def position(after_id: int, max_write_date: str, lower: str = "2026-11-28 07:50:00"):
    return ScanPosition(lower, after_id, max_write_date)


def connection_id(store: Store, name: str = "acme") -> int:
    row = store.states.ensure_connection(name)
    assert row.id is not None
    return row.id


def delivery_by_order(store: Store, cid: int) -> dict[tuple[int, str], object]:
    return {(d.order_id, d.write_date): d for d in store.outbox.deliveries(cid)}


# -- schema --------------------------------------------------------------------------------


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == ["0004"]


def test_a_database_from_the_first_release_upgrades_in_place(db_url: str) -> None:
    """Rows written under schema 0001 survive the upgrade and gain the new columns."""
    from alembic import command

    from poller.state.engine import alembic_config

    engine = create_db_engine(db_url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO connection_state (name, created_at, cursor, scan_after_id)"
                " VALUES ('old', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO breaker"
                " (connection_id, state, failures, successes, version, updated_at)"
                " VALUES (1, 'open', 5, 0, 3, '2026-01-01 00:00:00')"
            )
        )
    upgrade(engine)
    store = Store(engine)
    assert store.states.find_connection("old").cursor == "2026-01-01 00:00:00"
    breaker, version = store.states.load_breaker(1)
    assert (breaker.state, breaker.probe_started_at, version) == (CircuitState.OPEN, None, 3)
    columns = {c["name"] for c in inspect(engine).get_columns("delivery")}
    assert {"discarded_by", "discarded_at"} <= columns
    engine.dispose()


def test_store_works_after_repeated_upgrades(engine: Engine, store: Store) -> None:
    cid = connection_id(store)
    upgrade(engine)
    assert store.states.find_connection("acme").id == cid


@pytest.mark.postgres
def test_postgres_tables_live_in_the_test_schema(pg_schema_url: tuple[str, str]) -> None:
    url, schema = pg_schema_url
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            current = conn.execute(text("SELECT current_schema()")).scalar_one()
            tables = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
            found = set(tables)
    finally:
        engine.dispose()
    assert current == schema
    assert found >= TABLES


def test_sqlite_gets_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(sqlite_url(tmp_path), busy_timeout_ms=1234)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 1234
    finally:
        engine.dispose()
    assert (tmp_path / "db" / "poller.db").exists()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    """On SQLite this only holds because of PRAGMA foreign_keys=ON."""
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO breaker (connection_id, state, failures, successes, version,"
                " updated_at) VALUES (999, 'closed', 0, 0, 0, '2026-11-28 08:00:00')"
            )
        )


# -- connections ---------------------------------------------------------------------------


def test_ensure_connection_creates_once_with_cursor_at_since(
    store: Store, clock: FakeClock
) -> None:
    since = datetime(2026, 11, 1, 12, 30, 45, 987_654, tzinfo=UTC)
    row = store.states.ensure_connection("acme", since=since)
    assert row.id is not None
    assert row.name == "acme"
    assert row.cursor == "2026-11-01 12:30:45"
    assert row.created_at == clock.now
    assert row.scan_lower_bound is None
    assert row.lease_owner is None

    clock.advance(3600)
    again = store.states.ensure_connection("acme", since=datetime(2020, 1, 1, tzinfo=UTC))
    assert again.id == row.id
    assert again.cursor == "2026-11-01 12:30:45"
    assert again.created_at == row.created_at
    assert [c.id for c in store.states.connections()] == [row.id]


def test_ensure_connection_defaults_the_cursor_to_now(store: Store, clock: FakeClock) -> None:
    row = store.states.ensure_connection("acme")
    assert row.cursor == "2026-11-28 08:00:00"


def test_ensure_connection_converts_since_to_utc(store: Store) -> None:
    tel_aviv = timezone(timedelta(hours=2))
    row = store.states.ensure_connection(
        "acme", since=datetime(2026, 11, 1, 10, 0, tzinfo=tel_aviv)
    )
    assert row.cursor == "2026-11-01 08:00:00"


def test_datetimes_come_back_aware_utc(store: Store, clock: FakeClock) -> None:
    store.states.ensure_connection("acme")
    row = store.states.find_connection("acme")
    assert row.created_at == clock.now
    assert row.created_at.utcoffset() == timedelta(0)


def test_find_connection_by_name_and_by_id(store: Store) -> None:
    acme = store.states.ensure_connection("acme")
    beta = store.states.ensure_connection("beta")
    assert acme.id != beta.id
    assert store.states.find_connection("acme").id == acme.id
    assert store.states.find_connection("beta").id == beta.id
    assert store.states.find_connection(beta.id).name == "beta"  # type: ignore[arg-type]
    assert store.states.find_connection(str(acme.id)).name == "acme"
    assert [c.name for c in store.states.connections()] == ["acme", "beta"]


@pytest.mark.parametrize("ref", ["nobody", 4242, "4242"])
def test_find_unknown_connection(store: Store, ref: str | int) -> None:
    store.states.ensure_connection("acme")
    with pytest.raises(ConnectionNotFound) as info:
        store.states.find_connection(ref)
    message = str(info.value)
    assert "\n" not in message
    assert str(ref) in message
    assert "poller list" in message


def test_odoo_session_and_endpoint_gone_are_saved(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    store.states.save_odoo_session(cid, '{"uid": 2}')
    store.states.mark_endpoint_gone(cid, True)
    row = store.states.find_connection(cid)
    assert row.session_json == '{"uid": 2}'
    assert row.endpoint_gone_at == clock.now
    store.states.save_odoo_session(cid, None)
    store.states.mark_endpoint_gone(cid, False)
    row = store.states.find_connection(cid)
    assert row.session_json is None
    assert row.endpoint_gone_at is None


# -- idempotency key and outbox ------------------------------------------------------------


def test_known_versions_is_the_idempotency_key(store: Store) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    store.outbox.enqueue_page(acme, [version(1, WD1), version(2, WD2)], position(2, WD2))
    store.outbox.enqueue_page(beta, [version(3, WD1, tag="b")], position(3, WD1))

    asked = [(1, WD1), (1, WD3), (2, WD2), (3, WD1), (4, WD1)]
    known = store.outbox.known_versions(acme, asked)
    assert known & set(asked) == {(1, WD1), (2, WD2)}
    # A new write_date of a queued order is a new version: not known.
    assert (1, WD3) not in known
    # Another connection's order is not this connection's.
    assert (3, WD1) not in known
    assert (3, WD1) in store.outbox.known_versions(beta, asked)
    assert store.outbox.known_versions(acme, []) == set()


def test_enqueue_page_inserts_and_checkpoints(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    page = [
        version(1, WD1),
        version(2, WD2, status=DeliveryStatus.UNCHANGED),
        version(3, WD3, status=DeliveryStatus.QUARANTINED, content_hash=None),
        version(4, WD2),
    ]
    ids = store.outbox.enqueue_page(cid, page, position(4, WD3))

    rows = delivery_by_order(store, cid)
    assert set(rows) == {(1, WD1), (2, WD2), (3, WD3), (4, WD2)}
    # Only the pending ones come back to be sent, in page order.
    assert ids == [rows[(1, WD1)].id, rows[(4, WD2)].id]
    assert rows[(2, WD2)].status == DeliveryStatus.UNCHANGED
    assert rows[(3, WD3)].status == DeliveryStatus.QUARANTINED
    assert rows[(3, WD3)].last_error == "unmappable"
    assert rows[(1, WD1)].event_id == f"ev-1-{WD1}"
    assert rows[(1, WD1)].payload == '{"order": 1}'
    assert rows[(1, WD1)].attempts == 0
    assert rows[(1, WD1)].created_at == clock.now

    state = store.states.find_connection(cid)
    assert state.scan_lower_bound == "2026-11-28 07:50:00"
    assert state.scan_after_id == 4
    assert state.scan_max_write_date == WD3


def test_enqueue_an_empty_page_still_checkpoints(store: Store) -> None:
    cid = connection_id(store)
    assert store.outbox.enqueue_page(cid, [], position(17, WD1)) == []
    state = store.states.find_connection(cid)
    assert (state.scan_after_id, state.scan_max_write_date) == (17, WD1)


def _queue_first_page(store: Store) -> int:
    cid = connection_id(store)
    store.outbox.enqueue_page(cid, [version(1, WD1), version(2, WD2)], position(2, WD2))
    return cid


def _assert_only_first_page(store: Store, cid: int) -> None:
    assert set(delivery_by_order(store, cid)) == {(1, WD1), (2, WD2)}
    state = store.states.find_connection(cid)
    assert state.scan_lower_bound == "2026-11-28 07:50:00"
    assert state.scan_after_id == 2
    assert state.scan_max_write_date == WD2


DUPLICATE_PAGES = {
    "already-queued": [version(5, WD3), version(1, WD1, tag="again")],
    "twice-in-one-page": [version(5, WD3), version(5, WD3, tag="again")],
}


@pytest.mark.parametrize("case", sorted(DUPLICATE_PAGES))
def test_duplicate_version_changes_neither_rows_nor_checkpoint(store: Store, case: str) -> None:
    cid = _queue_first_page(store)
    with pytest.raises((StateError, IntegrityError)):
        store.outbox.enqueue_page(cid, DUPLICATE_PAGES[case], position(9, WD3))
    _assert_only_first_page(store, cid)
    # And the store is usable afterwards.
    assert store.outbox.enqueue_page(cid, [version(5, WD3)], position(9, WD3))


@pytest.mark.parametrize("case", sorted(DUPLICATE_PAGES))
def test_duplicate_version_raises_state_error(store: Store, case: str) -> None:
    cid = _queue_first_page(store)
    with pytest.raises(StateError) as info:
        store.outbox.enqueue_page(cid, DUPLICATE_PAGES[case], position(9, WD3))
    assert "already queued" in str(info.value)
    assert "\n" not in str(info.value)
    _assert_only_first_page(store, cid)


def test_finish_scan_sets_the_cursor_and_clears_the_checkpoint(store: Store) -> None:
    cid = _queue_first_page(store)
    store.states.finish_scan(cid, WD2)
    state = store.states.find_connection(cid)
    assert state.cursor == WD2
    assert state.scan_lower_bound is None
    assert state.scan_after_id == 0
    assert state.scan_max_write_date is None
    # The queued rows stay.
    assert len(store.outbox.deliveries(cid)) == 2


def test_order_histories_give_the_newest_content_and_whether_delivered(store: Store) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    # Newest write_date queued first: the answer follows write_date, not insertion order.
    store.outbox.enqueue_page(
        acme,
        [version(1, WD3, content_hash="one-new"), version(2, WD1, content_hash="two-old")],
        position(2, WD3),
    )
    store.outbox.enqueue_page(
        acme,
        [
            version(1, WD1, content_hash="one-old"),
            version(1, WD2, content_hash="one-mid"),
            # A newer version that could not be mapped has no hash: it does not count.
            version(2, WD3, status=DeliveryStatus.QUARANTINED, content_hash=None),
        ],
        position(2, WD3),
    )
    store.outbox.enqueue_page(
        beta, [version(1, "2030-01-01 00:00:00", content_hash="b", tag="b")], position(1, WD3)
    )

    assert store.outbox.order_histories(acme, [1, 2, 3]) == {
        1: OrderHistory(False, "one-new"),
        2: OrderHistory(False, "two-old"),
    }
    assert store.outbox.order_histories(beta, [1, 2]) == {1: OrderHistory(False, "b")}
    assert store.outbox.order_histories(acme, []) == {}
    one_new = next(d for d in store.outbox.deliveries(acme) if d.content_hash == "one-new")
    store.outbox.record_results(
        [DeliveryResult(one_new.id, DeliveryStatus.DELIVERED, 200, None, None)]
    )
    assert store.outbox.order_histories(acme, [1])[1] == OrderHistory(True, "one-new")


def test_a_newer_version_supersedes_older_unsent_ones(store: Store) -> None:
    acme = connection_id(store, "acme")
    store.outbox.enqueue_page(acme, [version(1, WD1, content_hash="v1")], position(1, WD1))
    first = store.outbox.deliveries(acme)[0]
    store.outbox.record_results(
        [DeliveryResult(first.id, DeliveryStatus.DEAD, 400, "HTTP 400", None)]
    )
    store.outbox.enqueue_page(acme, [version(1, WD2, content_hash="v2")], position(1, WD2))
    by_date = {d.write_date: d for d in store.outbox.deliveries(acme)}
    assert by_date[WD1].status == DeliveryStatus.SUPERSEDED
    assert by_date[WD1].last_error == f"superseded by the version of {WD2}"
    assert by_date[WD2].status == DeliveryStatus.PENDING
    store.outbox.enqueue_page(acme, [version(1, WD3, content_hash="v3")], position(1, WD3))
    statuses = {d.write_date: d.status for d in store.outbox.deliveries(acme)}
    assert statuses == {
        WD1: DeliveryStatus.SUPERSEDED,
        WD2: DeliveryStatus.SUPERSEDED,
        WD3: DeliveryStatus.PENDING,
    }
    assert [d.write_date for d in store.outbox.due_retries(acme, store.clock(), 10)] == [WD3]


# -- sending and retries -------------------------------------------------------------------


def test_record_results_updates_status_attempts_and_delivered_at(
    store: Store, clock: FakeClock
) -> None:
    cid = connection_id(store)
    ids = store.outbox.enqueue_page(
        cid, [version(1, WD1), version(2, WD1), version(3, WD1)], position(3, WD1)
    )
    first_try = clock.advance(10)
    retry_at = first_try + timedelta(seconds=30)
    store.outbox.record_results(
        [
            DeliveryResult(ids[0], DeliveryStatus.DELIVERED, 204, None, None),
            DeliveryResult(ids[1], DeliveryStatus.RETRYING, 503, "HTTP 503", retry_at),
            DeliveryResult(ids[2], DeliveryStatus.DEAD, 422, "HTTP 422: bad sku", None),
        ]
    )
    rows = {d.id: d for d in store.outbox.deliveries(cid)}
    delivered, retrying, dead = rows[ids[0]], rows[ids[1]], rows[ids[2]]
    assert (delivered.status, delivered.attempts, delivered.last_status) == ("delivered", 1, 204)
    assert delivered.delivered_at == first_try
    assert delivered.updated_at == first_try
    assert delivered.last_error is None
    assert (retrying.status, retrying.attempts, retrying.last_error) == ("retrying", 1, "HTTP 503")
    assert retrying.next_attempt_at == retry_at
    assert retrying.delivered_at is None
    assert (dead.status, dead.last_status, dead.last_error) == ("dead", 422, "HTTP 422: bad sku")
    assert dead.delivered_at is None

    second_try = clock.advance(40)
    store.outbox.record_results([DeliveryResult(ids[1], DeliveryStatus.DELIVERED, 200, None, None)])
    retried = next(d for d in store.outbox.deliveries(cid) if d.id == ids[1])
    assert retried.attempts == 2
    assert retried.status == "delivered"
    assert retried.delivered_at == second_try
    assert retried.next_attempt_at is None
    assert retried.last_error is None
    assert retried.created_at == clock.now - timedelta(seconds=50)

    store.outbox.record_results([])  # nothing to do is fine


def test_open_deliveries_returns_only_open_rows(store: Store) -> None:
    cid = connection_id(store)
    ids = store.outbox.enqueue_page(cid, [version(1, WD1), version(2, WD1)], position(2, WD1))
    store.outbox.record_results([DeliveryResult(ids[0], DeliveryStatus.DELIVERED, 200, None, None)])
    assert [d.id for d in store.outbox.open_deliveries(ids)] == [ids[1]]
    assert store.outbox.open_deliveries([]) == []


def test_due_retries(store: Store, clock: FakeClock) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    page = [version(i, WD1) for i in range(1, 8)]
    ids = dict(
        zip(range(1, 8), store.outbox.enqueue_page(acme, page, position(7, WD1)), strict=True)
    )
    store.outbox.enqueue_page(beta, [version(1, WD1, tag="b")], position(1, WD1))
    store.outbox.enqueue_page(
        acme,
        [
            version(8, WD1, status=DeliveryStatus.QUARANTINED, content_hash=None),
            version(9, WD1, status=DeliveryStatus.UNCHANGED),
        ],
        position(9, WD1),
    )
    now = clock.advance(600)
    store.outbox.record_results(
        [
            # order 1 stays pending (a crashed run left it)
            DeliveryResult(ids[2], DeliveryStatus.RETRYING, 503, "x", now - timedelta(seconds=1)),
            DeliveryResult(ids[3], DeliveryStatus.RETRYING, 503, "x", now),
            DeliveryResult(ids[4], DeliveryStatus.RETRYING, 503, "x", now + timedelta(seconds=1)),
            DeliveryResult(ids[5], DeliveryStatus.DELIVERED, 200, None, None),
            DeliveryResult(ids[6], DeliveryStatus.DEAD, 400, "x", None),
            # order 7 was retried long ago and is long due
            DeliveryResult(ids[7], DeliveryStatus.RETRYING, 500, "x", now - timedelta(days=1)),
        ]
    )
    due = store.outbox.due_retries(acme, now, limit=100)
    assert [d.order_id for d in due] == [1, 2, 3, 7]
    assert all(d.connection_id == acme for d in due)
    assert [d.order_id for d in store.outbox.due_retries(acme, now, limit=2)] == [1, 2]
    # Later, order 4 is due too.
    later = now + timedelta(seconds=1)
    assert [d.order_id for d in store.outbox.due_retries(acme, later, limit=100)] == [1, 2, 3, 4, 7]
    # Retries are per connection.
    assert [d.order_id for d in store.outbox.due_retries(beta, later, limit=100)] == [1]


def test_due_retries_compares_times_not_offsets(store: Store, clock: FakeClock) -> None:
    """A due time stored in UTC matches a `now` given in another offset."""
    cid = connection_id(store)
    [row_id] = store.outbox.enqueue_page(cid, [version(1, WD1)], position(1, WD1))
    due_at = clock.now + timedelta(minutes=5)
    store.outbox.record_results([DeliveryResult(row_id, DeliveryStatus.RETRYING, 503, "x", due_at)])
    store.outbox.enqueue_page(cid, [], position(1, WD1))
    plus2 = timezone(timedelta(hours=2))
    assert (
        store.outbox.due_retries(cid, (due_at - timedelta(seconds=1)).astimezone(plus2), 10) == []
    )
    assert [d.id for d in store.outbox.due_retries(cid, due_at.astimezone(plus2), 10)] == [row_id]


# -- lease ---------------------------------------------------------------------------------


def test_lease_blocks_another_owner_until_released(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    row = store.states.find_connection(cid)
    assert row.lease_owner == "A"
    assert row.lease_expires_at == clock.now + timedelta(seconds=60)

    assert not store.states.acquire_lease(cid, "B", ttl_seconds=60)
    assert store.states.find_connection(cid).lease_owner == "A"
    # The same owner can take it again.
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    # Only the owner releases it.
    store.states.release_lease(cid, "B")
    assert store.states.find_connection(cid).lease_owner == "A"
    clock.advance(5)
    store.states.release_lease(cid, "A")
    row = store.states.find_connection(cid)
    assert row.lease_owner is None
    assert row.lease_expires_at is None
    assert row.last_poll_at == clock.now

    assert store.states.acquire_lease(cid, "B", ttl_seconds=60)
    assert not store.states.acquire_lease(cid, "A", ttl_seconds=60)


def test_lease_expires(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    clock.advance(60)
    assert not store.states.acquire_lease(cid, "B", ttl_seconds=60)  # not yet: expiry is exclusive
    clock.advance(1)
    assert store.states.acquire_lease(cid, "B", ttl_seconds=60)
    assert store.states.find_connection(cid).lease_owner == "B"
    assert not store.states.acquire_lease(cid, "A", ttl_seconds=60)


def test_reacquiring_extends_the_lease(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    clock.advance(50)
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    clock.advance(20)  # 70 s after the first take, 20 s after the renewal
    assert not store.states.acquire_lease(cid, "B", ttl_seconds=60)


def test_lease_of_an_unknown_connection_is_not_taken(store: Store) -> None:
    assert not store.states.acquire_lease(4242, "A", ttl_seconds=60)


def test_leases_are_per_connection(store: Store) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    assert store.states.acquire_lease(acme, "A", ttl_seconds=60)
    assert store.states.acquire_lease(beta, "B", ttl_seconds=60)


# -- breaker -------------------------------------------------------------------------------


def test_breaker_compare_and_set(store: Store, clock: FakeClock) -> None:
    cid = connection_id(store)
    assert store.states.load_breaker(cid) == (Breaker(), -1)

    opened = Breaker(CircuitState.OPEN, failures=5, opened_at=clock.now)
    assert store.states.save_breaker(cid, opened, -1)
    assert store.states.load_breaker(cid) == (opened, 0)
    # A second creator lost the race.
    assert not store.states.save_breaker(cid, Breaker(), -1)
    assert store.states.load_breaker(cid) == (opened, 0)

    half = Breaker(CircuitState.HALF_OPEN, failures=5, successes=1, opened_at=clock.now)
    assert store.states.save_breaker(cid, half, 0)
    assert store.states.load_breaker(cid) == (half, 1)
    # Stale version: refused, nothing changes.
    assert not store.states.save_breaker(cid, Breaker(), 0)
    assert store.states.load_breaker(cid) == (half, 1)
    assert store.states.save_breaker(cid, Breaker(), 1)
    assert store.states.load_breaker(cid) == (Breaker(), 2)


def test_two_polls_settling_at_once_both_count(store: Store, clock: FakeClock) -> None:
    """Each poll read the breaker before either saved: the second applies its failure to
    what the first saved, so two failed polls are two failures, not one."""
    cid = connection_id(store)
    seen, version = store.states.load_breaker(cid)

    def failed(current: Breaker) -> Breaker:
        return Breaker(current.state, failures=current.failures + 1)

    first = store.states.settle_breaker(cid, seen, version, failed)
    second = store.states.settle_breaker(cid, seen, version, failed)  # stale: saved first
    assert (first.failures, second.failures) == (1, 2)
    assert store.states.load_breaker(cid) == (Breaker(failures=2), 1)
    unchanged = store.states.settle_breaker(cid, second, 1, lambda current: current)
    assert store.states.load_breaker(cid) == (unchanged, 1)  # nothing to save, nothing saved


def test_breakers_are_per_connection(store: Store, clock: FakeClock) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    opened = Breaker(CircuitState.OPEN, failures=5, opened_at=clock.now)
    assert store.states.save_breaker(acme, opened, -1)
    assert store.states.load_breaker(beta) == (Breaker(), -1)


# -- sync log ------------------------------------------------------------------------------


def sync_log(cid: int, clock: FakeClock, status: str, queued: int) -> SyncLog:
    started = clock.now
    finished = clock.advance(2)
    return SyncLog(
        connection_id=cid,
        flow_run_id="00000000-0000-0000-0000-000000000000",
        started_at=started,
        finished_at=finished,
        duration_ms=2000,
        status=status,
        queued=queued,
        error="boom" if status == "failed" else None,
    )


def test_sync_logs_newest_first(store: Store, clock: FakeClock) -> None:
    acme, beta = connection_id(store, "acme"), connection_id(store, "beta")
    store.logs.add(sync_log(acme, clock, "ok", 1))
    store.logs.add(sync_log(beta, clock, "ok", 9))
    store.logs.add(sync_log(acme, clock, "failed", 2))
    store.logs.add(sync_log(acme, clock, "skipped", 3))

    logs = store.logs.recent(acme)
    assert [(log.status, log.queued) for log in logs] == [("skipped", 3), ("failed", 2), ("ok", 1)]
    assert logs[1].error == "boom"
    assert logs[0].started_at > logs[1].started_at > logs[2].started_at
    assert [log.queued for log in store.logs.recent(acme, limit=2)] == [3, 2]
    assert [log.queued for log in store.logs.recent()] == [3, 2, 9, 1]
    assert [log.queued for log in store.logs.recent(beta)] == [9]


# -- failures become StateError ------------------------------------------------------------


def test_sqlite_locked_database_is_a_one_line_state_error(tmp_path: Path, clock: FakeClock) -> None:
    url = sqlite_url(tmp_path)
    engine = create_db_engine(url, busy_timeout_ms=100)
    upgrade(engine)
    store = Store(engine, clock=clock)
    cid = connection_id(store)

    holder = sqlite3.connect(tmp_path / "db" / "poller.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE connection_state SET cursor = 'held' WHERE id = ?", (cid,))
        with pytest.raises(StateError) as info:
            store.states.acquire_lease(cid, "A", ttl_seconds=60)
        with pytest.raises(StateError) as info_insert:
            store.states.ensure_connection("beta")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    for exc in (info.value, info_insert.value):
        message = str(exc)
        assert "locked" in message
        assert "\n" not in message
        assert "POLLER_SQLITE_BUSY_TIMEOUT_MS" in message
        assert exc.transient
    # The lock is gone: the same writes work and the held change was rolled back.
    assert store.states.acquire_lease(cid, "A", ttl_seconds=60)
    assert store.states.find_connection(cid).cursor == "2026-11-28 08:00:00"
    engine.dispose()


def test_unreachable_postgres_is_a_state_error() -> None:
    engine = create_db_engine("postgresql://postgres:hunter2@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StateError) as info:
            Store(engine).states.find_connection("acme")
        assert "\n" not in str(info.value)
        assert "POLLER_DATABASE_URL" in str(info.value)
        with pytest.raises(StateError) as upgrade_info:
            upgrade(engine)
        assert "hunter2" not in str(upgrade_info.value)
        assert "127.0.0.1:1" in str(upgrade_info.value)
    finally:
        engine.dispose()


@pytest.mark.parametrize("change", ["DROP TABLE breaker", "ALTER TABLE breaker DROP COLUMN state"])
def test_a_schema_this_version_does_not_know_is_not_transient(
    store: Store, engine: Engine, change: str
) -> None:
    """A missing table or column is no outage: retries cannot help, an upgrade can."""
    connection_id = int(store.states.ensure_connection("acme").id or 0)
    with engine.begin() as connection:
        connection.execute(text(change))
    with pytest.raises(SchemaError) as info:
        store.states.load_breaker(connection_id)
    assert not info.value.transient
    assert "poller db upgrade" in str(info.value) and "\n" not in str(info.value)
