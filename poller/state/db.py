"""Engines for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from poller.errors import StateError

MIGRATIONS = Path(__file__).parent / "migrations"
#: a pooled PostgreSQL connection idle this long is pinged before use
PING_AFTER_IDLE_SECONDS = 10.0


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


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; runs at every start)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except Exception as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise StateError(
            f"could not upgrade the poller database at {where}: {type(exc).__name__}: {exc}",
            hint="Check POLLER_DATABASE_URL and that the database is reachable and writable",
        ) from exc
