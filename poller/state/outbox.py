"""The outbox: one row per order version, from queued to delivered (or dead, superseded,
discarded), with the idempotency key `(connection, order id, write_date)`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, or_, update
from sqlalchemy import select as core_select  # Core tables; sqlmodel.select is for models
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from poller.cursor import ScanPosition
from poller.errors import StateError
from poller.state.database import Database, describe
from poller.state.models import (
    CONTENT_STATUSES,
    OPEN_STATUSES,
    SUPERSEDABLE,
    ConnectionState,
    Delivery,
    DeliveryStatus,
    table_of,
)
from poller.versions import OrderHistory


@dataclass(frozen=True)
class NewDelivery:
    """One order version to put into the outbox."""

    order_id: int
    order_name: str
    write_date: str
    event_id: str
    event_type: str
    payload: str | None
    content_hash: str | None
    status: DeliveryStatus = DeliveryStatus.PENDING
    last_error: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What one send attempt did to one outbox row."""

    delivery_id: int
    status: DeliveryStatus
    http_status: int | None
    error: str | None
    next_attempt_at: datetime | None


# Built once: constructing SQLAlchemy expressions costs more CPU than running them on SQLite.
_STATE = table_of(ConnectionState)
_DELIVERY = table_of(Delivery)
_KNOWN_VERSIONS = select(_DELIVERY.c.order_id, _DELIVERY.c.write_date).where(
    _DELIVERY.c.connection_id == bindparam("cid"),
    _DELIVERY.c.order_id.in_(bindparam("order_ids", expanding=True)),
)
_DUE = (
    core_select(_DELIVERY)
    .where(_DELIVERY.c.connection_id == bindparam("cid"))
    .where(
        (
            (_DELIVERY.c.status == DeliveryStatus.RETRYING)
            & (_DELIVERY.c.next_attempt_at <= bindparam("now"))
        )
        | (_DELIVERY.c.status == DeliveryStatus.PENDING)
    )
    .order_by(_DELIVERY.c.id)
    .limit(bindparam("limit"))
)
_RECORD_RESULT = (
    update(_DELIVERY)
    .where(_DELIVERY.c.id == bindparam("did"))
    .values(
        status=bindparam("new_status"),
        last_status=bindparam("http_status"),
        last_error=bindparam("error"),
        next_attempt_at=bindparam("next_at"),
        delivered_at=bindparam("delivered"),
        updated_at=bindparam("now"),
        attempts=_DELIVERY.c.attempts + 1,
    )
)
_SUPERSEDE = (
    update(_DELIVERY)
    .where(_DELIVERY.c.connection_id == bindparam("cid"))
    .where(_DELIVERY.c.order_id == bindparam("oid"))
    .where(_DELIVERY.c.write_date < bindparam("newer"))
    .where(or_(*(_DELIVERY.c.status == str(status) for status in SUPERSEDABLE)))
    .values(
        status=DeliveryStatus.SUPERSEDED.value,
        updated_at=bindparam("now"),
        next_attempt_at=None,
        last_error=bindparam("note"),
    )
)
_CHECKPOINT = (
    update(_STATE)
    .where(_STATE.c.id == bindparam("cid"))
    .values(
        scan_lower_bound=bindparam("lower"),
        scan_after_id=bindparam("after"),
        scan_max_write_date=bindparam("newest"),
    )
)
_QUEUE = insert(_DELIVERY).returning(_DELIVERY.c.id, sort_by_parameter_order=True)


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def known_versions(
        self, connection_id: int, stamps: Sequence[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (order id, write_date) pairs are already in the outbox (the idempotency key)."""
        if not stamps:
            return set()
        order_ids = sorted({order_id for order_id, _ in stamps})
        with self.db.transaction() as c:
            rows = c.execute(_KNOWN_VERSIONS, {"cid": connection_id, "order_ids": order_ids}).all()
        return {(order_id, write_date) for order_id, write_date in rows}

    def order_histories(
        self, connection_id: int, order_ids: Sequence[int]
    ) -> dict[int, OrderHistory]:
        """For each order seen before: was a version delivered, and the newest content."""
        if not order_ids:
            return {}
        with self.db.session() as s:
            rows = s.exec(
                select(
                    Delivery.order_id, Delivery.write_date, Delivery.status, Delivery.content_hash
                )
                .where(Delivery.connection_id == connection_id)
                .where(col(Delivery.order_id).in_(list(order_ids)))
                .order_by(col(Delivery.write_date))
            ).all()
        delivered: set[int] = set()
        latest: dict[int, str | None] = {}
        for order_id, _write_date, status, digest in rows:
            if status == DeliveryStatus.DELIVERED:
                delivered.add(order_id)
            if status in CONTENT_STATUSES and digest:
                latest[order_id] = digest
            else:
                latest.setdefault(order_id, None)
        return {
            order_id: OrderHistory(order_id in delivered, digest)
            for order_id, digest in latest.items()
        }

    def enqueue_page(
        self, connection_id: int, deliveries: Sequence[NewDelivery], position: ScanPosition
    ) -> list[int]:
        """Queue a page's order versions and checkpoint the scan, in one transaction; a new
        version supersedes older unsent ones of its order, so versions never overtake."""
        now = self.db.clock()
        rows = [
            {
                "connection_id": connection_id,
                "order_id": d.order_id,
                "order_name": d.order_name,
                "write_date": d.write_date,
                "event_id": d.event_id,
                "event_type": d.event_type,
                "status": str(d.status),
                "payload": d.payload,
                "content_hash": d.content_hash,
                "last_error": d.last_error,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for d in deliveries
        ]
        newer = [
            {
                "cid": connection_id,
                "oid": d.order_id,
                "newer": d.write_date,
                "now": now,
                "note": f"superseded by the version of {d.write_date}",
            }
            for d in deliveries
            if d.status in (DeliveryStatus.PENDING, DeliveryStatus.SKIPPED)
        ]
        checkpoint = {
            "cid": connection_id,
            "lower": position.lower_bound,
            "after": position.after_id,
            "newest": position.max_write_date,
        }
        try:
            with self.db.transaction() as c:
                if newer:
                    c.execute(_SUPERSEDE, newer)
                ids = [row.id for row in c.execute(_QUEUE, rows)] if rows else []
                c.execute(_CHECKPOINT, checkpoint)
        except IntegrityError as exc:
            raise StateError(
                f"an order version of this page is already queued: {describe(exc)}",
                hint="Two polls of one connection overlapped; the lease should prevent this",
            ) from None
        return [
            i for i, d in zip(ids, deliveries, strict=True) if d.status == DeliveryStatus.PENDING
        ]

    def open_deliveries(self, delivery_ids: Sequence[int]) -> list[Delivery]:
        if not delivery_ids:
            return []
        with self.db.session() as s:
            return list(
                s.exec(
                    select(Delivery)
                    .where(col(Delivery.id).in_(list(delivery_ids)))
                    .where(col(Delivery.status).in_(OPEN_STATUSES))
                    .order_by(col(Delivery.id))
                )
            )

    def by_ids(self, delivery_ids: Sequence[int]) -> dict[int, Delivery]:
        """The rows of `delivery_ids` that exist, by id, whatever their status."""
        if not delivery_ids:
            return {}
        with self.db.session() as s:
            rows = s.exec(select(Delivery).where(col(Delivery.id).in_(list(delivery_ids))))
            return {row.id: row for row in rows if row.id is not None}

    def due_retries(self, connection_id: int, now: datetime, limit: int) -> list[Delivery]:
        """Failed deliveries whose next attempt is due, and any left pending by a crashed run,
        oldest first."""
        with self.db.transaction() as c:
            rows = c.execute(_DUE, {"cid": connection_id, "now": now, "limit": limit}).all()
        return [Delivery(**row._mapping) for row in rows]

    def record_results(self, results: Sequence[DeliveryResult]) -> None:
        """Write a batch of send outcomes in one transaction."""
        if not results:
            return
        now = self.db.clock()
        params = [
            {
                "did": r.delivery_id,
                "new_status": str(r.status),
                "http_status": r.http_status,
                "error": r.error,
                "next_at": r.next_attempt_at,
                "now": now,
                "delivered": now if r.status == DeliveryStatus.DELIVERED else None,
            }
            for r in results
        ]
        with self.db.transaction() as c:
            c.execute(_RECORD_RESULT, params)

    def deliveries(
        self,
        connection_id: int | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Delivery]:
        with self.db.session() as s:
            query = select(Delivery).order_by(col(Delivery.id)).limit(limit)
            if connection_id is not None:
                query = query.where(Delivery.connection_id == connection_id)
            if statuses:
                query = query.where(col(Delivery.status).in_(list(statuses)))
            return list(s.exec(query))

    def retry_now(
        self, delivery_ids: Sequence[int] | None = None, connection_id: int | None = None
    ) -> int:
        """Make failed and dead-lettered deliveries due at once; returns how many."""
        now = self.db.clock()
        query = (
            update(Delivery)
            .where(col(Delivery.status).in_([DeliveryStatus.RETRYING, DeliveryStatus.DEAD]))
            .values(status=DeliveryStatus.RETRYING, next_attempt_at=now, updated_at=now)
        )
        if delivery_ids is not None:
            query = query.where(col(Delivery.id).in_(list(delivery_ids)))
        if connection_id is not None:
            query = query.where(col(Delivery.connection_id) == connection_id)
        with self.db.session() as s:
            result = s.exec(query)
            s.commit()
            return int(result.rowcount or 0)

    def discard(self, delivery_id: int, who: str) -> Delivery:
        """Give up on an open or dead delivery; the row stays, marked with who and when."""
        now = self.db.clock()
        with self.db.session() as s:
            row = s.get(Delivery, delivery_id)
            if row is None:
                raise StateError(f"no delivery with id {delivery_id}", hint="See `poller retries`")
            if row.status not in (*OPEN_STATUSES, DeliveryStatus.DEAD):
                raise StateError(
                    f"delivery {delivery_id} is {row.status}; only pending, retrying or dead "
                    "deliveries can be discarded"
                )
            row.status = DeliveryStatus.DISCARDED
            row.discarded_by, row.discarded_at, row.updated_at = who, now, now
            row.next_attempt_at = None
            s.add(row)
            s.commit()
            return row

    def delivery_counts(self) -> dict[tuple[int, str], int]:
        """How many outbox rows each connection has in each status."""
        with self.db.session() as s:
            rows = s.exec(
                select(Delivery.connection_id, Delivery.status, func.count()).group_by(
                    col(Delivery.connection_id), col(Delivery.status)
                )
            ).all()
        return {(connection_id, status): count for connection_id, status, count in rows}
