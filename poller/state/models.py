"""The poller's tables. Datetimes are aware UTC; Odoo's own timestamps stay Odoo strings.

`delivery` is the outbox, the idempotency record and the retry queue in one table: a row per
`(connection, order id, write_date)`, whose status says where that order version stands.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued, not yet attempted
    RETRYING = "retrying"  # failed at least once, next_attempt_at says when
    DELIVERED = "delivered"
    DEAD = "dead"  # dead-lettered: 4xx or past the retry horizon; `poller retry` replays it
    DISCARDED = "discarded"  # an operator gave up on it; kept for the record
    QUARANTINED = "quarantined"  # could not be mapped; last_error holds why
    UNCHANGED = "unchanged"  # a new write_date with nothing StockMaster sees changed; not sent
    SUPERSEDED = "superseded"  # a newer version of the order was queued before this one went
    SKIPPED = "skipped"  # nothing to send (an order cancelled before it was ever delivered)


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# Versions a newer version replaces: never sent after it, so versions never overtake.
SUPERSEDABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.DEAD)
# Versions whose content StockMaster has or will have: the base for "did it change?".
CONTENT_STATUSES = (
    DeliveryStatus.PENDING,
    DeliveryStatus.RETRYING,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.DEAD,
    DeliveryStatus.UNCHANGED,
)


class ConnectionState(SQLModel, table=True):
    """A connection's polling state. `poll_interval_seconds` and `enabled` mirror its block so
    that which connections are due is one indexed query (fleet claims), and `block_updated`
    is the block version they were taken from."""

    __tablename__ = "connection_state"
    __table_args__ = (Index("ix_connection_state_due", "enabled", "next_poll_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=63)
    created_at: datetime
    cursor: str = Field(max_length=19, description="Largest write_date seen (Odoo clock).")
    starts_at: str | None = Field(
        default=None,
        max_length=19,
        description="Where the connection's history starts (when added, or its --since): the "
        "overlap behind the cursor never reaches before it (Odoo clock).",
    )
    scan_lower_bound: str | None = Field(default=None, max_length=19)
    scan_after_id: int = 0
    scan_max_write_date: str | None = Field(default=None, max_length=19)
    session_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    endpoint_gone_at: datetime | None = None
    last_poll_at: datetime | None = None
    poll_interval_seconds: int = 60
    enabled: bool = True
    next_poll_at: datetime | None = None
    block_updated: str | None = Field(default=None, max_length=40)


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("connection_id", "order_id", "write_date", name="uq_delivery_version"),
        Index("ix_delivery_due", "connection_id", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection_state.id", ondelete="CASCADE")
    order_id: int
    order_name: str = Field(default="", max_length=64)
    write_date: str = Field(max_length=19)
    event_id: str = Field(unique=True, max_length=64)
    event_type: str = Field(max_length=32)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_hash: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None = None
    discarded_by: str | None = Field(default=None, max_length=64)
    discarded_at: datetime | None = None


class SyncLog(SQLModel, table=True):
    __tablename__ = "sync_log"
    __table_args__ = (Index("ix_sync_log_connection_started", "connection_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection_state.id", ondelete="CASCADE")
    flow_run_id: str | None = Field(default=None, max_length=36)
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    status: str = Field(max_length=16)  # ok | dead-lettered | failed | skipped
    orders_seen: int = 0
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    quarantined: int = 0
    retried: int = 0
    odoo_calls: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    worker: str | None = Field(default=None, max_length=64)


class BreakerRow(SQLModel, table=True):
    __tablename__ = "breaker"

    connection_id: int = Field(
        foreign_key="connection_state.id", primary_key=True, ondelete="CASCADE"
    )
    state: str = Field(default="closed", max_length=16)
    failures: int = 0
    successes: int = 0
    opened_at: datetime | None = None
    probe_started_at: datetime | None = None
    version: int = 0
    updated_at: datetime


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table, for statements built once at import."""
    # SQLModel sets __table__ on every `table=True` class; its stubs do not declare it.
    return model.__table__  # type: ignore[attr-defined,no-any-return]
