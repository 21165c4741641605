"""The PostgreSQL engine survives connections the server dropped: an idle one is pinged
before use and replaced; a busy one fails one transaction, after which the pool is new."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from poller.errors import StateError
from poller.state import engine as engines
from poller.state.store import Store
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.postgres


def _backend_pid(store: Store) -> int:
    with store.db.transaction() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    pg_schema_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection is idle
    engine = engines.create_db_engine(pg_schema_url[0])
    try:
        store = Store(engine)
        dropped = _backend_pid(store)
        _terminate(dropped)
        assert _backend_pid(store) != dropped  # no error: the ping found it dead
    finally:
        engine.dispose()


def test_a_busy_connection_the_server_dropped_fails_one_transaction_only(
    pg_schema_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never pinged
    engine = engines.create_db_engine(pg_schema_url[0])
    try:
        store = Store(engine)
        dropped = _backend_pid(store)
        _terminate(dropped)
        with pytest.raises(StateError, match="poller database error"):
            _backend_pid(store)
        assert _backend_pid(store) != dropped
    finally:
        engine.dispose()
