"""Each connection's own row: schedule, the block stamp fleet workers compare, the cached
Odoo session, the poll lease, the scan checkpoint, and the circuit breaker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlalchemy import select as core_select  # Core tables; sqlmodel.select is for models
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from poller.breaker import Breaker, CircuitState
from poller.clock import to_odoo
from poller.errors import ConnectionNotFound
from poller.state.database import Database
from poller.state.models import BreakerRow, ConnectionState, table_of

# Built once: constructing SQLAlchemy expressions costs more CPU than running them on SQLite.
_STATE = table_of(ConnectionState)
_BREAKER = table_of(BreakerRow)
_STATE_BY_ID = core_select(_STATE).where(_STATE.c.id == bindparam("cid"))
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
_BREAKER_BY_ID = core_select(_BREAKER).where(_BREAKER.c.connection_id == bindparam("cid"))


class ConnectionStates:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        with self.db.session() as s:
            row = s.exec(query).first()
            if row is not None:
                return row
            now = self.db.clock()
            row = ConnectionState(
                name=name,
                created_at=now,
                cursor=to_odoo(since or now),
                starts_at=to_odoo(since or now),
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
            with self.db.transaction() as c:
                found = c.execute(_STATE_BY_ID, {"cid": ref}).first()
            if found is not None:
                return ConnectionState(**found._mapping)
        with self.db.session() as s:
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
        with self.db.session() as s:
            return list(s.exec(select(ConnectionState).order_by(col(ConnectionState.id))))

    def _update_connection(self, connection_id: int, **values: object) -> int:
        with self.db.session() as s:
            result = s.exec(
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
        with self.db.transaction() as c:
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
        with self.db.transaction() as c:
            known = set(c.execute(_NAMES_IN, {"names": [p["cname"] for p in params]}).scalars())
        for name, interval, enabled, _stamp in changed:
            if name not in known:  # a block saved without `poller add`: starts from now
                self.ensure_connection(name, interval_seconds=interval, enabled=enabled)
        with self.db.transaction() as c:
            if params:
                c.execute(_SET_SCHEDULE, params)
            if gone:
                c.execute(_SWITCH_OFF, {"names": list(gone)})

    def save_odoo_session(self, connection_id: int, session_json: str | None) -> None:
        self._update_connection(connection_id, session_json=session_json)

    def mark_endpoint_gone(self, connection_id: int, gone: bool) -> None:
        self._update_connection(connection_id, endpoint_gone_at=self.db.clock() if gone else None)

    def acquire_lease(self, connection_id: int, owner: str, ttl_seconds: int) -> bool:
        """Compare-and-set: take the lease when free or expired. True when `owner` holds it."""
        with self.db.transaction() as c:
            return bool(
                c.execute(_TAKE_LEASE, self._lease(connection_id, owner, ttl_seconds)).rowcount
            )

    def take_lease(
        self, connection_id: int, owner: str, ttl_seconds: int
    ) -> ConnectionState | None:
        """`acquire_lease` that also reads the row it leased, in the same statement: a poll
        starts from it. None when another owner holds the lease."""
        params = self._lease(connection_id, owner, ttl_seconds)
        with self.db.transaction() as c:
            row = c.execute(_TAKE_LEASE_RETURNING, params).first()
        return None if row is None else ConnectionState(**row._mapping)

    def _lease(self, connection_id: int, owner: str, ttl_seconds: int) -> dict[str, object]:
        now = self.db.clock()
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
        params = {
            "cid": connection_id,
            "owner": owner,
            "now": self.db.clock(),
            "next": next_poll_at,
        }
        with self.db.transaction() as c:
            c.execute(_RELEASE_LEASE, params)

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

    def load_breaker(self, connection_id: int) -> tuple[Breaker, int]:
        with self.db.transaction() as c:
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
            "updated_at": self.db.clock(),
        }
        with self.db.session() as s:
            if expected_version < 0:
                # the values' types are the columns'; mypy sees only `object` in the dict
                row = BreakerRow(connection_id=connection_id, version=0, **values)  # type: ignore[arg-type]
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:
                    return False
                return True
            result = s.exec(
                update(BreakerRow)
                .where(col(BreakerRow.connection_id) == connection_id)
                .where(col(BreakerRow.version) == expected_version)
                .values(version=expected_version + 1, **values)
            )
            s.commit()
            return bool(result.rowcount)

    def settle_breaker(
        self,
        connection_id: int,
        seen: Breaker,
        version: int,
        change: Callable[[Breaker], Breaker],
    ) -> Breaker:
        """Save `change(seen)`, the outcome of a poll; when another poll of the connection
        saved first, apply the change to what it saved, once: each poll's outcome counts."""
        new = change(seen)
        if new == seen or self.save_breaker(connection_id, new, version):
            return new
        current, current_version = self.load_breaker(connection_id)
        new = change(current)
        self.save_breaker(connection_id, new, current_version)
        return new

    def reset_breaker(self, connection_id: int) -> Breaker:
        """Close the circuit by hand; returns the state it was in."""
        while True:
            breaker, version = self.load_breaker(connection_id)
            if self.save_breaker(connection_id, Breaker(), version):
                return breaker
