"""Fleet claims: which connections are due, taken by one worker at a time under a lease.

The job-queue pattern of procrastinate, Oban and que: one statement finds the due rows,
locks them `FOR UPDATE SKIP LOCKED` (so concurrent workers take disjoint sets without
waiting on each other) and writes the lease in the same statement. A worker that dies stops
renewing; its leases expire and the rows are due again for everyone else.

Due-ness lives in SQL: enabled, `next_poll_at` passed (NULL: never polled), the lease free or
expired, and the breaker not open (or open long enough for its probe). On SQLite, which has
no row locks, the same statement runs under SQLite's single writer lock, so several workers
on one file still take disjoint sets; they just queue for that lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from poller.breaker import CircuitState
from poller.state.models import BreakerRow, ConnectionState, table_of
from poller.state.store import Store

_STATE = table_of(ConnectionState)
_BREAKER = table_of(BreakerRow)


@dataclass(frozen=True)
class Claim:
    """A connection a worker now holds the lease of, with its state row as claimed: the
    poll starts from it without reading the row again."""

    id: int
    state: ConnectionState

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def block_updated(self) -> str | None:
        return self.state.block_updated

    @property
    def due_at(self) -> datetime | None:
        """The slot this claim serves (None: never polled)."""
        return self.state.next_poll_at


def _claim_statement(limit: int) -> object:
    due = (
        select(_STATE.c.id)
        .select_from(_STATE.outerjoin(_BREAKER, _BREAKER.c.connection_id == _STATE.c.id))
        .where(_STATE.c.enabled.is_(True))
        .where(or_(_STATE.c.next_poll_at.is_(None), _STATE.c.next_poll_at <= bindparam("now")))
        .where(or_(_STATE.c.lease_owner.is_(None), _STATE.c.lease_expires_at < bindparam("now")))
        .where(
            or_(
                _BREAKER.c.state.is_(None),
                _BREAKER.c.state != CircuitState.OPEN.value,
                _BREAKER.c.opened_at <= bindparam("probe_after"),
            )
        )
        .order_by(_STATE.c.next_poll_at.asc().nulls_first(), _STATE.c.id)
        .limit(limit)
        .with_for_update(of=_STATE, skip_locked=True)
    )
    return (
        update(_STATE)
        .where(_STATE.c.id.in_(due.scalar_subquery()))
        .values(lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"))
        .returning(*_STATE.c)
    )


_RENEW = (
    update(_STATE)
    .where(_STATE.c.lease_owner == bindparam("owner"))
    .where(_STATE.c.id.in_(bindparam("ids", expanding=True)))
    .values(lease_expires_at=bindparam("until"))
    .returning(_STATE.c.id)
)
_GIVE_BACK = (
    update(_STATE)
    .where(_STATE.c.id == bindparam("cid"))
    .where(_STATE.c.lease_owner == bindparam("owner"))
    .values(lease_owner=None, lease_expires_at=None, next_poll_at=bindparam("next"))
)


class Claims:
    """One worker's side of the claims: take due connections, renew them, give them back."""

    def __init__(
        self, store: Store, owner: str, *, lease_seconds: int, breaker_open_seconds: float
    ) -> None:
        self.store = store
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.breaker_open = timedelta(seconds=breaker_open_seconds)
        self._statements: dict[int, object] = {}

    def claim_due(self, limit: int, now: datetime | None = None) -> list[Claim]:
        """Up to `limit` due connections, most overdue first, now leased to this worker."""
        if limit <= 0:
            return []
        now = now or self.store.clock()
        statement = self._statements.get(limit)
        if statement is None:
            statement = self._statements[limit] = _claim_statement(limit)
        params = {
            "now": now,
            "probe_after": now - self.breaker_open,
            "owner": self.owner,
            "until": now + self.lease,
        }
        with self.store.db.transaction() as c:
            # a text-free Core statement built per limit; SQLAlchemy's overloads want a literal
            rows = c.execute(statement, params).all()  # type: ignore[call-overload]
        claimed = [Claim(row.id, ConnectionState(**row._mapping)) for row in rows]
        return sorted(claimed, key=lambda claim: claim.id)

    def renew(self, ids: Sequence[int], now: datetime | None = None) -> set[int]:
        """Extend the leases this worker still holds among `ids`; returns those ids."""
        if not ids:
            return set()
        now = now or self.store.clock()
        params = {"owner": self.owner, "ids": list(ids), "until": now + self.lease}
        with self.store.db.transaction() as c:
            return {row.id for row in c.execute(_RENEW, params)}

    def give_back(self, connection_id: int, next_poll_at: datetime | None) -> None:
        """Release a claim that no poll released (skipped, or its definition is gone)."""
        params = {"cid": connection_id, "owner": self.owner, "next": next_poll_at}
        with self.store.db.transaction() as c:
            c.execute(_GIVE_BACK, params)
