"""Process-wide wiring: settings, the secret box, the database (upgraded once per process)."""

from __future__ import annotations

from functools import lru_cache

from poller.connections import ConnectionConfig
from poller.crypto import SecretBox
from poller.poll import ConnectionPoller
from poller.settings import Settings, get_settings
from poller.state.engine import create_db_engine, upgrade
from poller.state.store import Store


@lru_cache(maxsize=4)
def store_for(database_url: str, busy_timeout_ms: int = 5000) -> Store:
    engine = create_db_engine(database_url, busy_timeout_ms=busy_timeout_ms)
    upgrade(engine)
    return Store(engine)


def default_store(settings: Settings | None = None) -> Store:
    settings = settings or get_settings()
    return store_for(settings.database_url, settings.sqlite_busy_timeout_ms)


def open_poller(config: ConnectionConfig, settings: Settings | None = None) -> ConnectionPoller:
    """A poller for one run; fails fast with a one-line error when the key is missing or bad."""
    settings = settings or get_settings()
    box = SecretBox(settings.encryption_key)
    check_secrets(box, config)
    return ConnectionPoller(config, store=default_store(settings), box=box, settings=settings)


def check_secrets(box: SecretBox, config: ConnectionConfig) -> None:
    """Fail before any work when the key cannot open the connection's secrets."""
    box.decrypt(config.api_key_encrypted, what=f"the Odoo API key of '{config.name}'")
    box.decrypt(config.webhook_secret_encrypted, what=f"the webhook secret of '{config.name}'")
