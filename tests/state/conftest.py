"""Real databases for the store: a SQLite file and a fresh schema in the real PostgreSQL.

Every test gets its own database (a file in tmp_path, or a schema `t_<uuid>` reached through
`search_path`), migrated with `upgrade`, so parallel runs never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from poller.state.db import create_db_engine, upgrade
from poller.state.store import Store
from tests.support.clock import FakeClock

PG_ADMIN_URL = os.environ.get("POLLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'poller.db'}"


@pytest.fixture
def pg_schema_url() -> Iterator[tuple[str, str]]:
    """A fresh schema in the real PostgreSQL and a URL whose search_path points at it."""
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    try:
        yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url, _schema = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 28, 8, 0, 0, 123_456, tzinfo=UTC))


@pytest.fixture
def store(engine: Engine, clock: FakeClock) -> Store:
    return Store(engine, clock=clock)
