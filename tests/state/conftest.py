"""Real databases for the store: a SQLite file and a fresh schema in the real PostgreSQL.

Every test gets its own database (a file in tmp_path, or a schema `t_<uuid>` reached through
`search_path`), migrated with `upgrade`, so parallel runs never collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from poller.state.engine import create_db_engine, upgrade
from poller.state.store import Store
from tests.support.clock import FakeClock


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'poller.db'}"


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
