"""Every SQL statement the poller runs. Failures surface as StateError with what to do."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, or_, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from poller.breaker import Breaker, CircuitState
from poller.clock import to_odoo, utcnow
from poller.cursor import ScanPosition
from poller.errors import ConnectionNotFound, SchemaError, StateError
from poller.state.models import (
    CONTENT_STATUSES,
    OPEN_STATUSES,
    SUPERSEDABLE,
    BreakerRow,
    ConnectionState,
    Delivery,
    DeliveryStatus,
    SyncLog,
)
from poller.versions import OrderHistory

T = TypeVar("T")


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


# The statements every poll runs, built once: constructing SQLAlchemy expressions costs more
# CPU than running them on SQLite, and an empty poll should cost a few milliseconds.
_STATE = ConnectionState.__table__  # type: ignore[attr-defined]
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
_BREAKER = BreakerRow.__table__  # type: ignore[attr-defined]
_SYNC_LOG = SyncLog.__table__  # type: ignore[attr-defined]
_STATE_BY_ID = select(_STATE).where(_STATE.c.id == bindparam("cid"))
_TAKE_LEASE = (
    update(_STATE)
    .where(_STATE.c.id == bindparam("cid"))
    .where(
        or_(
            _STATE.c.lease_owner.is_(None),
            _STATE.c.lease_owner == bindparam("owner"),
            _STATE.c.lease_expires_at < bindparam("now"),
        )
    )
    .values(lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"))
)
_TAKE_LEASE_RETURNING = _TAKE_LEASE.returning(*_STATE.c)
_RELEASE_LEASE = (
    update(_STATE)
    .where(_STATE.c.id == bindparam("cid"))
    .where(_STATE.c.lease_owner == bindparam("owner"))
    .values(
        lease_owner=None,
        lease_expires_at=None,
        last_poll_at=bindparam("now"),
        next_poll_at=bindparam("next"),
    )
)
_NAMES_IN = select(_STATE.c.name).where(_STATE.c.name.in_(bindparam("names", expanding=True)))
_SWITCH_OFF = (
    update(_STATE)
    .where(_STATE.c.name.in_(bindparam("names", expanding=True)))
    .values(enabled=False, block_updated=None)
)
_SET_SCHEDULE = (
    update(_STATE)
    .where(_STATE.c.name == bindparam("cname"))
    .where(or_(_STATE.c.block_updated.is_(None), _STATE.c.block_updated != bindparam("stamp")))
    .values(
        poll_interval_seconds=bindparam("interval"),
        enabled=bindparam("on"),
        block_updated=bindparam("stamp"),
        next_poll_at=None,
    )
)
_FORGET_STAMP = update(_STATE).where(_STATE.c.name == bindparam("cname")).values(block_updated=None)
_BREAKER_BY_ID = select(_BREAKER).where(_BREAKER.c.connection_id == bindparam("cid"))
_KNOWN_VERSIONS = select(_DELIVERY.c.order_id, _DELIVERY.c.write_date).where(
    _DELIVERY.c.connection_id == bindparam("cid"),
    _DELIVERY.c.order_id.in_(bindparam("order_ids", expanding=True)),
)
_DUE = (
    select(_DELIVERY)
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


#: SQLSTATE of PostgreSQL's undefined table and undefined column
_SCHEMA_SQLSTATES = frozenset({"42P01", "42703"})
_SQLITE_SCHEMA_ERRORS = ("no such table", "no such column", "has no column named")


def _is_schema_error(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _SCHEMA_SQLSTATES:
        return True
    detail = _describe(exc)
    return isinstance(exc, OperationalError) and any(m in detail for m in _SQLITE_SCHEMA_ERRORS)


def _state_error(exc: DBAPIError) -> StateError:
    detail = _describe(exc)
    if not isinstance(exc, OperationalError):
        return StateError(f"poller database error: {detail}")
    hint = (
        "Another process holds the SQLite database; retry, or raise POLLER_SQLITE_BUSY_TIMEOUT_MS"
        if "locked" in detail
        else "Check that the poller database is reachable (POLLER_DATABASE_URL)"
    )
    return StateError(f"poller database error: {detail}", hint=hint)


def _describe(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


class Store:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A plain connection in one transaction, for the statements built in advance."""
        with self._errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if _is_schema_error(exc):
                raise SchemaError(
                    f"poller database schema error: {_describe(exc)}",
                    hint="Bring the schema up to date with `poller db upgrade`",
                ) from None
            raise _state_error(exc) from None

    # -- connections ---------------------------------------------------------------------

    def ensure_connection(
        self,
        name: str,
        *,
        since: datetime | None = None,
        interval_seconds: int | None = None,
        enabled: bool = True,
    ) -> ConnectionState:
        """The connection's state row, created with its cursor at `since` (default: now).
        Safe against another process creating it at the same moment (fleet workers do):
        the row that won stands."""
        query = select(ConnectionState).where(ConnectionState.name == name)
        with self.session() as s:
            row = s.exec(query).first()
            if row is not None:
                return row
            now = self.clock()
            row = ConnectionState(
                name=name,
                created_at=now,
                cursor=to_odoo(since or now),
                poll_interval_seconds=interval_seconds or 60,
                enabled=enabled,
            )
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return s.exec(query).one()
            s.refresh(row)
            return row

    def find_connection(self, ref: str | int) -> ConnectionState:
        if isinstance(ref, int):
            with self.transaction() as c:
                found = c.execute(_STATE_BY_ID, {"cid": ref}).first()
            if found is not None:
                return ConnectionState(**found._mapping)
        with self.session() as s:
            query = select(ConnectionState)
            if isinstance(ref, int) or str(ref).isdigit():
                query = query.where(ConnectionState.id == int(ref))
            else:
                query = query.where(ConnectionState.name == ref)
            row = s.exec(query).first()
        if row is None:
            what = f"with id {ref}" if str(ref).isdigit() else f"named {ref!r}"
            raise ConnectionNotFound(
                f"no connection {what}", hint="See `poller list` for the connections"
            )
        return row

    def connections(self) -> list[ConnectionState]:
        with self.session() as s:
            return list(s.exec(select(ConnectionState).order_by(ConnectionState.id)))

    def _update_connection(self, connection_id: int, **values: object) -> int:
        with self.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                update(ConnectionState)
                .where(col(ConnectionState.id) == connection_id)
                .values(**values)
            )
            s.commit()
            return int(result.rowcount or 0)

    def set_schedule(self, connection_id: int, *, interval_seconds: int, enabled: bool) -> None:
        """Mirror a connection's interval and switch from its block (fleet claims read them);
        it is due at once, so an edit takes effect with the next tick."""
        self._update_connection(
            connection_id,
            poll_interval_seconds=interval_seconds,
            enabled=enabled,
            next_poll_at=None,
        )

    def forget_definition(self, name: str) -> None:
        """A connection's block was just saved: clear the stamp of it that fleet workers
        compare at each claim, so the next claim reads the block again."""
        with self.transaction() as c:
            c.execute(_FORGET_STAMP, {"cname": name})

    def sync_definitions(
        self, changed: Sequence[tuple[str, int, bool, str]], gone: Sequence[str]
    ) -> None:
        """Mirror changed blocks `(name, interval, enabled, updated stamp)` into the state rows,
        and switch off the rows whose block is gone. Idempotent: every worker may run it; a row
        already at a block's stamp is left alone (a restarted worker changes nothing)."""
        params = [
            {"cname": name, "interval": interval, "on": enabled, "stamp": stamp}
            for name, interval, enabled, stamp in changed
        ]
        with self.transaction() as c:
            known = set(c.execute(_NAMES_IN, {"names": [p["cname"] for p in params]}).scalars())
        for name, interval, enabled, _stamp in changed:
            if name not in known:  # a block saved without `poller add`: starts from now
                self.ensure_connection(name, interval_seconds=interval, enabled=enabled)
        with self.transaction() as c:
            if params:
                c.execute(_SET_SCHEDULE, params)
            if gone:
                c.execute(_SWITCH_OFF, {"names": list(gone)})

    def save_odoo_session(self, connection_id: int, session_json: str | None) -> None:
        self._update_connection(connection_id, session_json=session_json)

    def mark_endpoint_gone(self, connection_id: int, gone: bool) -> None:
        self._update_connection(connection_id, endpoint_gone_at=self.clock() if gone else None)

    # -- lease ---------------------------------------------------------------------------

    def acquire_lease(self, connection_id: int, owner: str, ttl_seconds: int) -> bool:
        """Compare-and-set: take the lease when free or expired. True when `owner` holds it."""
        with self.transaction() as c:
            return bool(
                c.execute(_TAKE_LEASE, self._lease(connection_id, owner, ttl_seconds)).rowcount
            )

    def take_lease(
        self, connection_id: int, owner: str, ttl_seconds: int
    ) -> ConnectionState | None:
        """`acquire_lease` that also reads the row it leased, in the same statement: a poll
        starts from it. None when another owner holds the lease."""
        params = self._lease(connection_id, owner, ttl_seconds)
        with self.transaction() as c:
            row = c.execute(_TAKE_LEASE_RETURNING, params).first()
        return None if row is None else ConnectionState(**row._mapping)

    def _lease(self, connection_id: int, owner: str, ttl_seconds: int) -> dict[str, object]:
        now = self.clock()
        return {
            "cid": connection_id,
            "owner": owner,
            "now": now,
            "until": now + timedelta(seconds=ttl_seconds),
        }

    def release_lease(
        self, connection_id: int, owner: str, next_poll_at: datetime | None = None
    ) -> None:
        """Give the lease back after a poll; the connection is due again at `next_poll_at`."""
        params = {"cid": connection_id, "owner": owner, "now": self.clock(), "next": next_poll_at}
        with self.transaction() as c:
            c.execute(_RELEASE_LEASE, params)

    # -- scan and outbox -----------------------------------------------------------------

    def known_versions(
        self, connection_id: int, stamps: Sequence[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (order id, write_date) pairs are already in the outbox (the idempotency key)."""
        if not stamps:
            return set()
        order_ids = sorted({order_id for order_id, _ in stamps})
        with self.transaction() as c:
            rows = c.execute(_KNOWN_VERSIONS, {"cid": connection_id, "order_ids": order_ids}).all()
        return {(order_id, write_date) for order_id, write_date in rows}

    def order_histories(
        self, connection_id: int, order_ids: Sequence[int]
    ) -> dict[int, OrderHistory]:
        """For each order seen before: was a version delivered, and the newest content."""
        if not order_ids:
            return {}
        with self.session() as s:
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
        now = self.clock()
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
            with self.transaction() as c:
                if newer:
                    c.execute(_SUPERSEDE, newer)
                ids = [row.id for row in c.execute(_QUEUE, rows)] if rows else []
                c.execute(_CHECKPOINT, checkpoint)
        except IntegrityError as exc:
            raise StateError(
                f"an order version of this page is already queued: {_describe(exc)}",
                hint="Two polls of one connection overlapped; the lease should prevent this",
            ) from None
        return [
            i for i, d in zip(ids, deliveries, strict=True) if d.status == DeliveryStatus.PENDING
        ]

    def start_scan_at(self, connection_id: int, lower_bound: str) -> None:
        """Begin a scan (a backfill) at `lower_bound`, replacing any unfinished scan: ids restart
        at 0 under the lower bound, so nothing the unfinished scan had left is skipped."""
        self._update_connection(
            connection_id, scan_lower_bound=lower_bound, scan_after_id=0, scan_max_write_date=None
        )

    def finish_scan(self, connection_id: int, cursor: str) -> None:
        self._update_connection(
            connection_id,
            cursor=cursor,
            scan_lower_bound=None,
            scan_after_id=0,
            scan_max_write_date=None,
        )

    def open_deliveries(self, delivery_ids: Sequence[int]) -> list[Delivery]:
        if not delivery_ids:
            return []
        with self.session() as s:
            return list(
                s.exec(
                    select(Delivery)
                    .where(col(Delivery.id).in_(list(delivery_ids)))
                    .where(col(Delivery.status).in_(OPEN_STATUSES))
                    .order_by(col(Delivery.id))
                )
            )

    def due_retries(self, connection_id: int, now: datetime, limit: int) -> list[Delivery]:
        """Failed deliveries whose next attempt is due, and any left pending by a crashed run,
        oldest first."""
        with self.transaction() as c:
            rows = c.execute(_DUE, {"cid": connection_id, "now": now, "limit": limit}).all()
        return [Delivery(**row._mapping) for row in rows]

    def record_results(self, results: Sequence[DeliveryResult]) -> None:
        """Write a batch of send outcomes in one transaction."""
        if not results:
            return
        now = self.clock()
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
        with self.transaction() as c:
            c.execute(_RECORD_RESULT, params)

    def deliveries(
        self,
        connection_id: int | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Delivery]:
        with self.session() as s:
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
        now = self.clock()
        query = (
            update(Delivery)
            .where(col(Delivery.status).in_([DeliveryStatus.RETRYING, DeliveryStatus.DEAD]))
            .values(status=DeliveryStatus.RETRYING, next_attempt_at=now, updated_at=now)
        )
        if delivery_ids is not None:
            query = query.where(col(Delivery.id).in_(list(delivery_ids)))
        if connection_id is not None:
            query = query.where(col(Delivery.connection_id) == connection_id)
        with self.session() as s:
            result = s.exec(query)  # type: ignore[call-overload]
            s.commit()
            return int(result.rowcount or 0)

    def discard(self, delivery_id: int, who: str) -> Delivery:
        """Give up on an open or dead delivery; the row stays, marked with who and when."""
        now = self.clock()
        with self.session() as s:
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
        with self.session() as s:
            rows = s.exec(
                select(Delivery.connection_id, Delivery.status, func.count()).group_by(
                    col(Delivery.connection_id), col(Delivery.status)
                )
            ).all()
        return {(connection_id, status): count for connection_id, status, count in rows}

    # -- breaker -------------------------------------------------------------------------

    def load_breaker(self, connection_id: int) -> tuple[Breaker, int]:
        with self.transaction() as c:
            row = c.execute(_BREAKER_BY_ID, {"cid": connection_id}).first()
        if row is None:
            return Breaker(), -1
        breaker = Breaker(
            CircuitState(row.state),
            row.failures,
            row.successes,
            row.opened_at,
            row.probe_started_at,
        )
        return breaker, row.version

    def save_breaker(self, connection_id: int, breaker: Breaker, expected_version: int) -> bool:
        """Compare-and-set on the row version; False when another process changed it first."""
        values = {
            "state": breaker.state.value,
            "failures": breaker.failures,
            "successes": breaker.successes,
            "opened_at": breaker.opened_at,
            "probe_started_at": breaker.probe_started_at,
            "updated_at": self.clock(),
        }
        with self.session() as s:
            if expected_version < 0:
                s.add(BreakerRow(connection_id=connection_id, version=0, **values))  # type: ignore[arg-type]
                try:
                    s.commit()
                except IntegrityError:
                    return False
                return True
            result = s.exec(  # type: ignore[call-overload]
                update(BreakerRow)
                .where(col(BreakerRow.connection_id) == connection_id)
                .where(col(BreakerRow.version) == expected_version)
                .values(version=expected_version + 1, **values)
            )
            s.commit()
            return bool(result.rowcount)

    def reset_breaker(self, connection_id: int) -> Breaker:
        """Close the circuit by hand; returns the state it was in."""
        while True:
            breaker, version = self.load_breaker(connection_id)
            if self.save_breaker(connection_id, Breaker(), version):
                return breaker

    # -- sync log ------------------------------------------------------------------------

    def add_sync_log(self, row: SyncLog) -> None:
        values = row.model_dump(exclude={"id"})
        with self.transaction() as c:
            c.execute(insert(_SYNC_LOG), values)

    def prune_sync_logs(self, older_than: datetime) -> int:
        """Delete the rows of successful polls that found nothing, older than `older_than`;
        polls that moved orders, failed or were skipped are kept."""
        query = (
            delete(SyncLog)
            .where(col(SyncLog.status) == "ok")
            .where(col(SyncLog.started_at) < older_than)
            .where(col(SyncLog.queued) == 0)
            .where(col(SyncLog.delivered) == 0)
            .where(col(SyncLog.failed) == 0)
            .where(col(SyncLog.quarantined) == 0)
            .where(col(SyncLog.retried) == 0)
        )
        with self.session() as s:
            result = s.exec(query)  # type: ignore[call-overload]
            s.commit()
            return int(result.rowcount or 0)

    def sync_logs(self, connection_id: int | None = None, limit: int = 50) -> list[SyncLog]:
        with self.session() as s:
            query = select(SyncLog).order_by(col(SyncLog.id).desc()).limit(limit)
            if connection_id is not None:
                query = query.where(SyncLog.connection_id == connection_id)
            return list(s.exec(query))
