"""Shared fixtures: real objects over loopback (simulator, receiver, Prefect server, SQLite)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from odoo_sim.odoo import OdooSim
from odoo_sim.receiver import Receiver
from odoo_sim.seed import seed_shop
from odoo_sim.server import BackgroundServer
from poller.connections import ConnectionConfig
from poller.crypto import SecretBox, generate_key
from poller.delivery.signing import generate_webhook_secret
from poller.settings import Settings, get_settings

ODOO_DATABASE = "odoo_test"
ODOO_LOGIN = "admin"
API_KEY = "test-api-key-5f1d0c"
BEFORE_SEED = datetime(2026, 11, 28, tzinfo=UTC)
PG_ADMIN_URL = os.environ.get("POLLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Running:
    url: str


@dataclass
class RunningOdoo(Running):
    sim: OdooSim


@dataclass
class RunningReceiver(Running):
    receiver: Receiver
    secret: str


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


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database in the real PostgreSQL (for a Prefect server of its own); its
    `postgresql+asyncpg://` URL."""
    from sqlalchemy.engine import make_url

    name = f"prefect_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name, query={})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A real Prefect server (SQLite in a temporary folder) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def fresh_prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API URL of a Prefect server of this module's own, empty at first, as a new user's
    is, for subprocesses (`poller run`, benchmarks); no UI, to start faster."""
    from deployments.local_server import LocalPrefectServer

    home = tmp_path_factory.mktemp("prefect")
    with pytest.MonkeyPatch.context() as patch:  # the server inherits this environment
        patch.setenv("PREFECT_UI_ENABLED", "false")
        patch.setenv("PREFECT_SERVER_UI_ENABLED", "false")
        server = LocalPrefectServer(home).start(timeout=180)
    try:
        yield server.api_url
    finally:
        server.stop()


@pytest.fixture
def poller_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh encryption key and a fresh SQLite file for each test."""
    from poller.runtime import store_for

    monkeypatch.setenv("POLLER_ENCRYPTION_KEY", generate_key())
    monkeypatch.setenv("POLLER_DATABASE_URL", f"sqlite:///{tmp_path / 'poller.db'}")
    get_settings.cache_clear()
    store_for.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    store_for.cache_clear()


@contextmanager
def running_odoo(version: str = "16.0") -> Iterator[RunningOdoo]:
    """The recorded shop on a simulated Odoo of `version`, over loopback."""
    sim = OdooSim(database=ODOO_DATABASE, login=ODOO_LOGIN, api_keys=[API_KEY], version=version)
    seed_shop(sim)
    with BackgroundServer(sim.app) as server:
        yield RunningOdoo(url=server.url, sim=sim)


@pytest.fixture
def odoo() -> Iterator[RunningOdoo]:
    with running_odoo() as running:
        yield running


@pytest.fixture
def stockmaster() -> Iterator[RunningReceiver]:
    secret = generate_webhook_secret()
    receiver = Receiver(secret=secret)
    with BackgroundServer(receiver.app) as server:
        yield RunningReceiver(url=f"{server.url}/webhooks", receiver=receiver, secret=secret)


def make_config(
    settings: Settings, odoo: Running, stockmaster: RunningReceiver, name: str = "acme"
) -> ConnectionConfig:
    box = SecretBox(settings.encryption_key)
    return ConnectionConfig(
        name=name,
        odoo_url=odoo.url,  # type: ignore[arg-type]
        database=ODOO_DATABASE,
        username=ODOO_LOGIN,
        api_key_encrypted=box.encrypt(API_KEY),
        webhook_url=stockmaster.url,  # type: ignore[arg-type]
        webhook_secret_encrypted=box.encrypt(stockmaster.secret),
    )


@pytest.fixture
async def connection(
    prefect_api: None,
    poller_settings: Settings,
    odoo: RunningOdoo,
    stockmaster: RunningReceiver,
) -> AsyncIterator[ConnectionConfig]:
    """The seeded shop registered as connection `acme`: its block in Prefect, its state row."""
    from poller.blocks import delete_connection_block, save_connection
    from poller.errors import ConnectionNotFound
    from poller.runtime import default_store

    config = make_config(poller_settings, odoo, stockmaster)
    await save_connection(config)
    default_store(poller_settings).states.ensure_connection(config.name, since=BEFORE_SEED)
    yield config
    # the Prefect server is the session's: a block left behind is a name `poller add` refuses
    with contextlib.suppress(ConnectionNotFound):
        await delete_connection_block(config.name)
