"""Processes that start at once upgrade the schema one after the other, never racing: two
upgrades released together on a fresh database both succeed, and an upgrade waits while
another process holds the migration lock. On a SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from poller.state.engine import alembic_config, create_db_engine, migration_lock, upgrade

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"connection_state", "delivery", "sync_log", "breaker", "alembic_version"}
TIMEOUT = 60.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database: a new SQLite file, or a new PostgreSQL database
    (not a schema of the shared one: the advisory lock is per database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'poller.db'}"
    url = make_url(request.getfixturevalue("pg_database")).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_url)
    try:
        yield engine
    finally:
        engine.dispose()


def start_upgrade(url: str, ready: Path, go: Path) -> subprocess.Popen[str]:
    """A separate Python process that signals `ready`, waits for `go`, then upgrades."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.migrate_once", url, str(ready), str(go)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for `process`; its exit code and its error output (stdout is unused)."""
    try:
        _out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return process.returncode, err


def versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def assert_at_head(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert versions(engine) == [head]
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_two_processes_upgrading_a_fresh_database_at_once_both_succeed(
    fresh_url: str, engine: Engine, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / "ready-1", tmp_path / "ready-2"]
    processes = [start_upgrade(fresh_url, path, go) for path in ready]
    try:
        wait_until(lambda: all(path.exists() for path in ready), "both processes to be ready")
    finally:
        go.touch()  # release both at once (and never leave them waiting)
    results = [finish(process) for process in processes]
    for code, err in results:
        assert code == 0, err
        for sign in ("Traceback", "duplicate", "already exists", "UniqueViolation"):
            assert sign.lower() not in err.lower(), err
    assert_at_head(engine)


def test_an_upgrade_waits_while_another_process_holds_the_migration_lock(
    fresh_url: str, engine: Engine, tmp_path: Path
) -> None:
    go, ready = tmp_path / "go", tmp_path / "ready"
    go.touch()  # no barrier: the process upgrades as soon as it is ready
    with migration_lock(engine):
        process = start_upgrade(fresh_url, ready, go)
        try:
            wait_until(ready.exists, "the process to be ready")
            if engine.dialect.name == "postgresql":
                wait_until(lambda: waiting_for_advisory_lock(engine), "the process to wait")
            time.sleep(1.0)
            assert process.poll() is None, finish(process)
            assert "alembic_version" not in inspect(engine).get_table_names()
        except BaseException:
            process.kill()
            raise
    code, err = finish(process)
    assert code == 0, err
    assert_at_head(engine)


def test_upgrade_under_the_lock_is_idempotent_in_one_process(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)  # the lock was released: a second upgrade does not wait for ever
    assert_at_head(engine)


def waiting_for_advisory_lock(engine: Engine) -> bool:
    """Whether a session of this database waits for an advisory lock (the upgrade process)."""
    query = text(
        "SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as connection:
        return bool(connection.execute(query).scalar_one())
