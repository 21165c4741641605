"""Engines for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

from poller.errors import StateError

MIGRATIONS = Path(__file__).parent / "migrations"
#: a pooled PostgreSQL connection idle this long is pinged before use
PING_AFTER_IDLE_SECONDS = 10.0
#: the name whose hash keys the PostgreSQL advisory lock that serialises schema upgrades
MIGRATION_LOCK_NAME = "odoo-order-poller:migrations"


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def create_db_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle, optimistic for busy
    ones. `pool_pre_ping` pings at every checkout: a round trip per transaction, a third of
    a fleet worker's time. A connection in steady use cannot have been dropped unnoticed for
    long; if the server restarted under it anyway, the failing statement invalidates the
    whole pool, so one transaction fails and the next ones run on new connections."""

    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool replaces the connection and tries again
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _advisory_key(name: str) -> int:
    """A fixed signed 64-bit key for `pg_advisory_lock` (a bigint), so every poller process
    and version agrees on it: the first 8 bytes of the name's SHA-256."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


MIGRATION_LOCK_KEY = _advisory_key(MIGRATION_LOCK_NAME)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection | None]:
    """Hold the cross-process migration lock of this database until the block ends, so two
    processes starting at once never both create the tables. Yields the PostgreSQL connection
    holding the lock (upgrade on it); None for SQLite, which has no such connection."""
    if engine.dialect.name == "postgresql":
        with _pg_advisory_lock(engine) as connection:
            yield connection
    elif engine.dialect.name == "sqlite":
        with _sqlite_file_lock(engine.url):
            yield None
    else:
        yield None


@contextmanager
def _pg_advisory_lock(engine: Engine) -> Iterator[Connection]:
    """A session-level advisory lock: it outlives the migration's transaction, and the server
    drops it with the session, so a process that dies holding it cannot block the others."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()  # out of the transaction the query began; the lock stays
        try:
            yield connection
        finally:
            _pg_advisory_unlock(connection)


def _pg_advisory_unlock(connection: Connection) -> None:
    """Release the lock. A session lock would outlive the connection's return to the pool, so
    when the release fails (a dead connection, say) the connection is closed instead, which
    releases it just as well."""
    try:
        connection.rollback()  # a failed migration leaves the transaction aborted
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
    except Exception:
        connection.invalidate()


@contextmanager
def _sqlite_file_lock(url: URL) -> Iterator[None]:
    """An exclusive `flock` on `<database file>.migrate.lock` (SQLite has no advisory locks;
    the kernel drops a dead process's lock). An in-memory database is one process's own: no
    lock."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        yield
        return
    path = Path(f"{database}.migrate.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; runs at every start), under the
    migration lock, since every process starting at once runs it."""
    try:
        with migration_lock(engine) as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise StateError(
            f"could not upgrade the poller database at {where}: {type(exc).__name__}: {exc}",
            hint="Check POLLER_DATABASE_URL and that the database is reachable and writable",
        ) from exc
