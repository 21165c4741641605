"""Every environment setting of the poller, read in one place."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from poller.errors import SettingsError

#: what SQLAlchemy calls the databases the poller runs on (`postgres` is read as PostgreSQL)
DATABASE_DRIVERS = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
DATABASE_URL_FORMS = "give sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def default_database_url() -> str:
    return f"sqlite:///{Path('data') / 'poller.db'}"


def default_worker_name() -> str:
    """host-pid: unique among live workers, and says where to look."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


class Settings(BaseSettings):
    """Tunables with production defaults; only the encryption key is required to run polls."""

    model_config = SettingsConfigDict(env_prefix="POLLER_", extra="ignore")

    encryption_key: str | None = Field(
        default=None,
        description="One or more Fernet keys, comma separated, newest first.",
    )
    database_url: str = Field(default_factory=default_database_url)
    overlap_seconds: int = Field(default=600, ge=0, description="Re-read window behind the cursor.")
    page_size: int = Field(default=200, ge=1, le=5000)
    read_chunk_size: int = Field(default=1000, ge=1, description="Max ids per Odoo read call.")
    send_concurrency: int = Field(default=8, ge=1)
    retry_horizon_hours: float = Field(default=72.0, gt=0)
    odoo_timeout_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    lease_seconds: int = Field(
        default=30,
        ge=5,
        description="How long a poll holds its connection without renewing; renewed every "
        "third of it while the poll runs, so a dead worker's connections are free this soon.",
    )
    manual_run_wait_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long a manual run (UI, `prefect deployment run`) waits for a poll of "
        "the same connection to finish before it gives up; a scheduled run never waits.",
    )
    worker_name: str = Field(
        default_factory=default_worker_name,
        max_length=48,
        description="Names this process in the sync log, leases and events (default host-pid).",
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    task_retries: int = Field(default=3, ge=0, description="Prefect retries per poll step.")
    task_retry_delay_seconds: float = Field(
        default=2.0, ge=0, description="First retry delay; doubles on each retry, with jitter."
    )
    fleet_threshold: int = Field(
        default=50, ge=0, description="`poller run` uses fleet mode above this many connections."
    )
    fleet_tick_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a fleet worker claims due connections (one SQL statement).",
    )
    fleet_concurrency: int = Field(
        default=64, ge=1, description="Connections polled at once in fleet mode."
    )
    fleet_capacity: int = Field(
        default=128,
        ge=1,
        description="Most connections one fleet worker holds claimed (polling or waiting for "
        "one of its `fleet_concurrency` slots); each tick claims up to what is free, so a "
        "worker that falls behind leaves due connections to the others.",
    )
    fleet_relist_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How often a fleet worker reads every connection block again, to see "
        "edits made outside `poller` (the Prefect UI); `poller add`/`edit` reach the workers "
        "at the connection's next claim.",
    )
    fleet_manual_runs: bool = Field(
        default=True,
        description="`poller run --fleet` also serves each connection's deployment, for manual "
        "runs from the UI or `prefect deployment run`.",
    )
    deploy_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Per-connection deployments applied at once; a Prefect server on SQLite "
        "answers 503 to more than a few, one on PostgreSQL takes 16.",
    )
    connections_refresh_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often `poller run` looks for added, edited or deleted connections.",
    )
    sync_log_retention_hours: float = Field(
        default=24.0,
        gt=0,
        description="Empty successful polls are pruned from the sync log after this.",
    )
    retry_after_cap_seconds: float = Field(
        default=60.0, ge=0, description="Longest Retry-After a poll step waits for in one run."
    )

    @field_validator("database_url")
    @classmethod
    def _a_database_the_poller_runs_on(cls, url: str) -> str:
        check_database_url(url)
        return url


def check_database_url(url: str) -> None:
    """A ValueError unless `url` is a SQLite or PostgreSQL URL; the message never repeats the
    URL (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        driver = make_url(url).drivername
    except ArgumentError:
        raise ValueError(f"not a database URL: {DATABASE_URL_FORMS}") from None
    if driver not in DATABASE_DRIVERS:
        raise ValueError(f"{driver!r} is not a database the poller runs on: {DATABASE_URL_FORMS}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(settings_problem(exc), hint=SETTINGS_HINT) from None


SETTINGS_HINT = "Fix the variable, or unset it for its default (README, Configuration)"


def settings_problem(exc: ValidationError) -> str:
    """The first wrong variable and what is wrong with it, without its value (it may be a
    key or a password)."""
    errors = exc.errors(include_input=False, include_url=False)
    first = errors[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    reason = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"POLLER_{field.upper()}: {reason}{more}"
