"""One poll of one connection, as steps that the Prefect flow runs as tasks.

`ConnectionPoller` owns the rules of each step; `run_cycle` owns their order (DESIGN.md,
"One poll"). The flow in `flows/` hands `run_cycle` task-wrapped steps; tests and benchmarks
hand it the poller itself.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx

from poller.breaker import (
    Breaker,
    BreakerPolicy,
    CircuitState,
    admit,
    record_failure,
    record_success,
)
from poller.clock import utcnow
from poller.connections import ConnectionConfig
from poller.contract import ConnectionRef, WebhookPayload
from poller.crypto import SecretBox
from poller.cursor import ScanPosition, finished_cursor, start_scan
from poller.delivery.backoff import next_attempt_at
from poller.delivery.checkpoint import Checkpoint
from poller.delivery.classify import Outcome, Verdict
from poller.delivery.sender import post_event
from poller.delivery.signing import signed_headers
from poller.errors import InternalError, LeaseLost, PollerError, StateError
from poller.http_clients import odoo_client, webhook_client
from poller.lease import Heartbeat
from poller.odoo.client import OdooClient, OdooSession
from poller.odoo.errors import OdooAuthError, OdooMissingError
from poller.odoo.reader import OdooBundle, OrderStamp, fetch_bundle, scan_page
from poller.orders import MappingContext, content_hash, map_page
from poller.redact import Redactor, strip_userinfo
from poller.settings import Settings
from poller.state.models import ConnectionState, Delivery, DeliveryStatus, SyncLog
from poller.state.outbox import DeliveryResult, NewDelivery
from poller.state.store import Store
from poller.versions import OrderHistory, decide

#: how often a run waiting for a connection's lease asks again
LEASE_WAIT_STEP_SECONDS = 1.0


class ScanPage:
    """One page of the scan. A plain class on purpose: Prefect does not walk into it."""

    def __init__(self, stamps: list[OrderStamp], fresh: list[OrderStamp], limit: int) -> None:
        self.stamps = stamps
        self.fresh = fresh
        self.is_last = len(stamps) < limit

    def position_after(self, position: ScanPosition) -> ScanPosition:
        if not self.stamps:
            return position
        return position.advanced(self.stamps[-1].id, [s.write_date for s in self.stamps])


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    gone: bool = False
    delivered_orders: list[str] = field(default_factory=list)
    dead_orders: list[str] = field(default_factory=list)  # "S00042: HTTP 400: ..."

    def add(self, other: SendReport) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead += other.dead
        self.gone = self.gone or other.gone
        self.delivered_orders += other.delivered_orders
        self.dead_orders += other.dead_orders


@dataclass
class EnqueueReport:
    delivery_ids: list[int] = field(default_factory=list)
    queued: int = 0
    unchanged: int = 0
    quarantined: list[str] = field(default_factory=list)


@dataclass
class Admission:
    admitted: bool
    reason: str | None = None


@dataclass
class PollReport:
    connection: str
    status: str = "ok"  # ok | failed | skipped
    reason: str | None = None
    orders_seen: int = 0
    queued: int = 0
    unchanged: int = 0
    quarantined: list[str] = field(default_factory=list)
    sent: SendReport = field(default_factory=SendReport)
    retried: SendReport = field(default_factory=SendReport)
    odoo_calls: int = 0
    error: str | None = None
    error_type: str | None = None
    circuit: str | None = None  # "opened" or "closed" when this run moved the breaker
    worker: str | None = None  # the process that ran the poll (POLLER_WORKER_NAME)
    traceback: str | None = None  # of an internal error, for the run's log

    def fail(self, exc: Exception, redact: Redactor) -> None:
        """Fail the poll with `exc`; anything but a PollerError is a bug in the poller,
        recorded as an internal error with its traceback."""
        error = exc if isinstance(exc, PollerError) else InternalError.wrapping(exc)
        self.status, self.error_type = "failed", type(error).__name__
        self.error = redact(str(error))
        if isinstance(error, InternalError):
            self.traceback = redact(error.traceback)

    def summary(self) -> str:
        if self.status == "skipped":
            return f"{self.connection}: skipped ({self.reason})"
        if self.status == "failed":
            return f"{self.connection}: failed ({self.error})"
        return (
            f"{self.connection}: {self.orders_seen} orders scanned, {self.queued} queued, "
            f"{self.sent.delivered + self.retried.delivered} delivered, "
            f"{self.sent.failed + self.retried.failed} to retry, "
            f"{self.sent.dead + self.retried.dead} dead-lettered, "
            f"{len(self.quarantined)} quarantined, {self.odoo_calls} Odoo calls"
            + (
                "; the webhook endpoint answered 410 Gone: deliveries are stopped until "
                "its URL is changed (`poller edit`)"
                if self.sent.gone or self.retried.gone
                else ""
            )
        )

    def table(self) -> list[dict[str, object]]:
        """The run's counts as rows, for the Prefect artifact."""
        return [
            {"what": "orders scanned", "count": self.orders_seen},
            {"what": "queued", "count": self.queued},
            {"what": "unchanged (not sent)", "count": self.unchanged},
            {"what": "delivered", "count": self.sent.delivered},
            {"what": "retries delivered", "count": self.retried.delivered},
            {"what": "failed, will retry", "count": self.sent.failed + self.retried.failed},
            {"what": "dead-lettered", "count": self.sent.dead + self.retried.dead},
            {"what": "quarantined", "count": len(self.quarantined)},
            {"what": "Odoo calls", "count": self.odoo_calls},
        ]


class PollSteps(Protocol):
    async def check_breaker(self) -> Admission: ...
    async def authenticate(self) -> OdooSession: ...
    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage: ...
    async def batch_fetch(self, session: OdooSession, page: ScanPage) -> OdooBundle: ...
    async def map(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> EnqueueReport: ...
    async def send(self, delivery_ids: list[int]) -> SendReport: ...
    async def process_retries(self) -> SendReport: ...


Step = TypeVar("Step", bound=Callable[..., Awaitable[Any]])


def redacted_errors(step: Step) -> Step:
    """A step's exception leaves with its text redacted: Prefect logs a failed task's
    exception (and stores the log) before the poll's own code sees it."""

    @functools.wraps(step)
    async def guarded(self: ConnectionPoller, *args: Any, **kwargs: Any) -> Any:
        try:
            return await step(self, *args, **kwargs)
        except Exception as exc:
            raise self.redact.exception(exc) from None

    return guarded  # type: ignore[return-value]  # same signature as `step`


class ConnectionPoller:
    """Everything one poll of one connection needs, held for the length of the poll.

    Secrets are decrypted inside the steps that use them and live only in this object's
    memory: the Odoo key inside the OdooClient, the webhook secret for one send step.
    """

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        store: Store,
        box: SecretBox,
        settings: Settings,
        breaker_policy: BreakerPolicy | None = None,
        rng: random.Random | None = None,
        state: ConnectionState | None = None,
    ) -> None:
        """`state` comes from a fleet worker, which has the row from its claim; otherwise
        the poller reads (or creates) it."""
        self.config = config
        self.store = store
        self.box = box
        self.settings = settings
        self.policy = breaker_policy or BreakerPolicy()
        self.rng = rng or random.Random()
        # Signatures carry real time (receivers check freshness); the store's clock, which
        # tests move, schedules retries and the breaker.
        self.wall_clock = utcnow
        self.state: ConnectionState = state or store.states.ensure_connection(
            config.name,
            interval_seconds=config.poll_interval_seconds,
            enabled=config.enabled,
        )
        self.owner = poll_owner(settings.worker_name)
        # Per-connection runs keep their own lease alive; a fleet worker renews all of its
        # claims in one statement instead.
        self.renews_own_lease = True
        self._poll_started = store.clock()
        self.scheduled_for: datetime | None = None  # the slot a fleet claim is for
        self.released = False
        self._breaker: tuple[Breaker, int] | None = None
        self._odoo_http = odoo_client(settings)
        self._hook_http: httpx.AsyncClient | None = None  # opened at the first send
        self._claimed: ConnectionState | None = None  # leased beforehand by a fleet worker
        self._leased_at = 0.0
        self._checkpointed = False
        self._odoo: OdooClient | None = None
        # knows each secret from the moment it is decrypted
        self.redact = Redactor()

    def begin_poll(self, owner: str | None = None) -> None:
        """Forget the last poll: a poller object may serve many polls (fleet mode). `owner`
        is the lease holder when the lease was claimed for this poll beforehand."""
        self.owner = owner or poll_owner(self.settings.worker_name)
        self._poll_started = self.store.clock()
        self.released = False
        self._breaker = None
        self._odoo = None
        self._checkpointed = False

    def has_due_retries(self) -> bool:
        return bool(self.store.outbox.due_retries(self.connection_id, self.store.clock(), limit=1))

    @property
    def connection_id(self) -> int:
        if self.state.id is None:  # rows come from the database, which numbers them
            raise StateError(f"connection '{self.config.name}' has a state row without an id")
        return self.state.id

    @property
    def odoo_calls(self) -> int:
        return self._odoo.calls if self._odoo else 0

    async def aclose(self) -> None:
        if self._hook_http is not None:
            await self._hook_http.aclose()
            self._hook_http = None
        await self._odoo_http.aclose()

    def hook_http(self) -> httpx.AsyncClient:
        if self._hook_http is None:
            self._hook_http = webhook_client(self.settings)
        return self._hook_http

    # -- breaker and lease ---------------------------------------------------------------

    @redacted_errors
    async def check_breaker(self) -> Admission:
        breaker, version = self.store.states.load_breaker(self.connection_id)
        admitted = admit(breaker, self.store.clock(), self.policy)
        if admitted is None:
            due = breaker.probe_due_at(self.policy)
            return Admission(
                False,
                f"circuit open since {breaker.opened_at:%H:%M:%S}Z; next probe at {due:%H:%M:%S}Z"
                if due
                else "circuit open",
            )
        if admitted != breaker:
            if not self.store.states.save_breaker(self.connection_id, admitted, version):
                return Admission(False, "another run is probing the half-open circuit")
            version += 1
        self._breaker = (admitted, version)
        return Admission(True)

    def settle_breaker(self, succeeded: bool, report: PollReport | None = None) -> Breaker:
        breaker, version = self._breaker or self.store.states.load_breaker(self.connection_id)
        new = self._settle(breaker, version, succeeded)
        if report is not None:
            report.circuit = circuit_change(breaker, new)
        return new

    def _settle(self, breaker: Breaker, version: int, succeeded: bool) -> Breaker:
        now = self.store.clock()
        new = (
            record_success(breaker, self.policy)
            if succeeded
            else record_failure(breaker, now, self.policy)
        )
        if new != breaker and not self.store.states.save_breaker(self.connection_id, new, version):
            current, current_version = self.store.states.load_breaker(self.connection_id)
            new = (
                record_success(current, self.policy)
                if succeeded
                else record_failure(current, now, self.policy)
            )
            self.store.states.save_breaker(self.connection_id, new, current_version)
        return new

    def hand_over(self, claimed: ConnectionState) -> None:
        """The next poll's lease was claimed by a fleet worker (under the owner it passes to
        `run_cycle`), and `claimed` is the row as it was claimed: the poll starts from it."""
        self._claimed = claimed
        self.scheduled_for = claimed.next_poll_at

    def claim(self) -> bool:
        """Take the lease, reading the connection's state in the same statement (or take
        what a fleet worker claimed for this poll)."""
        state = self._claimed or self.store.states.take_lease(
            self.connection_id, self.owner, self.settings.lease_seconds
        )
        self._claimed = None
        if state is None:
            return False
        self._leased_at = time.monotonic()
        self.state = state
        return True

    async def claim_waiting(self, patience: float) -> bool:
        """`claim`, waiting up to `patience` seconds for a poll in progress to give the lease
        back: a manual run queues behind a scheduled one instead of being skipped."""
        deadline = time.monotonic() + patience
        while not self.claim():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(LEASE_WAIT_STEP_SECONDS)
        return True

    def renew_lease(self) -> None:
        """Extend this run's lease once a third of it has passed; a run that lost it (it was
        slower than the lease) stops."""
        if time.monotonic() - self._leased_at < self.settings.lease_seconds / 3:
            return
        if not self.keep_lease():
            raise LeaseLost(
                f"connection '{self.config.name}': another run took over the lease",
                hint="The process stalled for longer than POLLER_LEASE_SECONDS; raise it",
            )

    def keep_lease(self) -> bool:
        """Extend the lease now; False when another run holds it."""
        if self.store.states.acquire_lease(
            self.connection_id, self.owner, self.settings.lease_seconds
        ):
            self._leased_at = time.monotonic()
            return True
        return False

    def lease_heartbeat(self) -> Heartbeat:
        return Heartbeat(self.keep_lease, self.settings.lease_seconds / 3)

    def release(self) -> None:
        """Give the lease back; the connection is next due at its next slot."""
        interval = timedelta(seconds=self.config.poll_interval_seconds)
        phase = spread_phase(self.connection_id)
        due = next_slot(self.scheduled_for, interval, self._poll_started, phase)
        self.store.states.release_lease(self.connection_id, self.owner, due)
        self.scheduled_for = None
        self.released = True

    # -- Odoo ----------------------------------------------------------------------------

    @redacted_errors
    async def authenticate(self) -> OdooSession:
        """Decrypt the key, then reuse the cached session or detect version, uid and fields."""
        key = self.box.decrypt(self.config.api_key_encrypted, what="the Odoo API key")
        self.redact.add(key)
        self._odoo = OdooClient(
            self._odoo_http,
            url=self.config.odoo_base_url,
            database=self.config.database,
            login=self.config.username,
            secret=key,
            connection=self.config.name,
            transport=self.config.transport,
            read_chunk_size=self.settings.read_chunk_size,
        )
        cached_json = self.state.session_json
        cached = OdooSession.model_validate_json(cached_json) if cached_json else None
        session = await self._odoo.open_session(cached, self.store.clock())
        if session != cached:
            self.state.session_json = session.model_dump_json()
            self.store.states.save_odoo_session(self.connection_id, self.state.session_json)
        return session

    def forget_odoo_session(self) -> None:
        self.store.states.save_odoo_session(self.connection_id, None)

    def odoo_client(self) -> OdooClient:
        if self._odoo is None:
            raise RuntimeError("authenticate must run before Odoo is read")
        return self._odoo

    def scan_start(self) -> ScanPosition:
        state = self.state
        return start_scan(
            state.cursor,
            self.settings.overlap_seconds,
            resume_lower_bound=state.scan_lower_bound,
            resume_after_id=state.scan_after_id,
            resume_max_write_date=state.scan_max_write_date,
        )

    @redacted_errors
    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage:
        limit = self.settings.page_size
        stamps = await scan_page(
            self.odoo_client(), session.fields, position.lower_bound, position.after_id, limit
        )
        known = self.store.outbox.known_versions(
            self.connection_id, [(s.id, s.write_date) for s in stamps]
        )
        fresh = [s for s in stamps if (s.id, s.write_date) not in known]
        return ScanPage(stamps, fresh, limit)

    @redacted_errors
    async def batch_fetch(self, session: OdooSession, page: ScanPage) -> OdooBundle:
        return await fetch_bundle(self.odoo_client(), session.fields, [s.id for s in page.fresh])

    def finish_scan(self, position: ScanPosition) -> None:
        cursor = finished_cursor(self.state.cursor, position)
        if (
            cursor == self.state.cursor
            and not self._checkpointed
            and not self.state.scan_lower_bound
        ):
            return  # an empty poll: nothing moved, nothing to write
        self.store.states.finish_scan(self.connection_id, cursor)
        self.state.cursor, self.state.scan_lower_bound = cursor, None

    # -- map and enqueue -----------------------------------------------------------------

    def mapping_context(self, session: OdooSession) -> MappingContext:
        ref = ConnectionRef(
            id=self.connection_id,
            name=self.config.name,
            # StockMaster needs no password to know which Odoo an order comes from
            odoo_url=strip_userinfo(self.config.odoo_base_url, replacement=""),
            database=self.config.database,
            odoo_version=session.version.serie,
        )
        return MappingContext(connection=ref, fields=session.fields)

    @redacted_errors
    async def map(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> EnqueueReport:
        """Map the page and queue it with the scan checkpoint in one transaction."""
        mapped = map_page(bundle, self.mapping_context(session), page.fresh)
        histories = self.store.outbox.order_histories(
            self.connection_id, [p.order.id for p in mapped.payloads]
        )
        report = EnqueueReport()
        rows = [self._new_delivery(p, histories.get(p.order.id), report) for p in mapped.payloads]
        for q in mapped.quarantined:
            rows.append(
                NewDelivery(
                    order_id=q.order_id,
                    order_name="",
                    write_date=q.write_date,
                    event_id=f"quarantined:{self.connection_id}:{q.order_id}:{q.write_date}",
                    event_type="quarantined",
                    payload=None,
                    content_hash=None,
                    status=DeliveryStatus.QUARANTINED,
                    last_error=self.redact(q.reason),
                )
            )
            report.quarantined.append(f"order {q.order_id}: {self.redact(q.reason)}")
        report.delivery_ids = self.store.outbox.enqueue_page(
            self.connection_id, rows, page.position_after(position)
        )
        self._checkpointed = True
        return report

    def _new_delivery(
        self, payload: WebhookPayload, history: OrderHistory | None, report: EnqueueReport
    ) -> NewDelivery:
        digest = content_hash(payload)
        decision = decide(payload.order.state, digest, history)
        payload = payload.model_copy(update={"event": decision.event})
        if decision.status == DeliveryStatus.PENDING:
            report.queued += 1
        else:
            report.unchanged += 1
        return NewDelivery(
            order_id=payload.order.id,
            order_name=payload.order.name,
            write_date=_odoo_write_date(payload),
            event_id=payload.event_id,
            event_type=payload.event,
            payload=payload.model_dump_json(),
            content_hash=digest,
            status=decision.status,
            last_error=decision.note,
        )

    # -- send ----------------------------------------------------------------------------

    @redacted_errors
    async def send(self, delivery_ids: list[int]) -> SendReport:
        return await self._deliver(self.store.outbox.open_deliveries(delivery_ids))

    @redacted_errors
    async def process_retries(self) -> SendReport:
        due = self.store.outbox.due_retries(self.connection_id, self.store.clock(), limit=1000)
        return await self._deliver(due)

    async def _deliver(self, rows: list[Delivery]) -> SendReport:
        report = SendReport()
        if not rows:
            return report
        if self.state.endpoint_gone_at is not None:
            report.gone = True
            return report
        secret = self.box.decrypt(self.config.webhook_secret_encrypted, what="the webhook secret")
        self.redact.add(secret)
        gate = asyncio.Semaphore(self.settings.send_concurrency)

        async def one(row: Delivery) -> DeliveryResult:
            async with gate:
                headers = signed_headers(
                    event_id=row.event_id,
                    body=row.payload or "",
                    secret=secret,
                    connection_id=self.connection_id,
                    now=self.wall_clock(),
                )
                outcome = await post_event(
                    self.hook_http(),
                    str(self.config.webhook_url),
                    row.payload or "",
                    headers,
                    redact=self.redact,
                )
                result = self._result(row, outcome, self.store.clock())
                await checkpoint.record(result)
                return result

        checkpoint = Checkpoint(self.store.outbox.record_results)
        results = await asyncio.gather(*(one(row) for row in rows))
        for row, result in zip(rows, results, strict=True):
            if result.status == DeliveryStatus.DELIVERED:
                report.delivered += 1
                report.delivered_orders.append(row.order_name)
            elif result.status == DeliveryStatus.DEAD:
                report.dead += 1
                report.dead_orders.append(f"{row.order_name}: {result.error}")
            else:
                report.failed += 1
        if any(r.error and r.error.startswith("HTTP 410") for r in results):
            report.gone = True
            self.store.states.mark_endpoint_gone(self.connection_id, True)
            self.state.endpoint_gone_at = self.store.clock()
        return report

    def _result(self, row: Delivery, outcome: Outcome, now: datetime) -> DeliveryResult:
        if row.id is None:  # rows come from the database, which numbers them
            raise StateError(f"connection '{self.config.name}': a delivery row without an id")
        if outcome.verdict is Verdict.DELIVERED:
            return DeliveryResult(row.id, DeliveryStatus.DELIVERED, outcome.status, None, None)
        if outcome.verdict is Verdict.DEAD:
            return DeliveryResult(row.id, DeliveryStatus.DEAD, outcome.status, outcome.error, None)
        if outcome.verdict is Verdict.GONE:
            return DeliveryResult(
                row.id, DeliveryStatus.RETRYING, outcome.status, outcome.error, now
            )
        when = next_attempt_at(
            attempts=row.attempts + 1,
            first_queued_at=row.created_at,
            now=now,
            horizon=timedelta(hours=self.settings.retry_horizon_hours),
            rng=self.rng,
            retry_after=outcome.retry_after,
        )
        if when is None:
            error = f"retry horizon passed; last error: {outcome.error}"
            return DeliveryResult(row.id, DeliveryStatus.DEAD, outcome.status, error, None)
        return DeliveryResult(row.id, DeliveryStatus.RETRYING, outcome.status, outcome.error, when)

    # -- record --------------------------------------------------------------------------

    def record(self, report: PollReport, started_at: datetime, flow_run_id: str | None) -> None:
        finished = self.store.clock()
        self.store.logs.add(
            SyncLog(
                connection_id=self.connection_id,
                flow_run_id=flow_run_id,
                started_at=started_at,
                finished_at=finished,
                duration_ms=int((finished - started_at).total_seconds() * 1000),
                status=report.status,
                orders_seen=report.orders_seen,
                queued=report.queued,
                delivered=report.sent.delivered + report.retried.delivered,
                failed=report.sent.failed + report.retried.failed,
                quarantined=len(report.quarantined),
                retried=report.retried.delivered + report.retried.failed + report.retried.dead,
                odoo_calls=report.odoo_calls,
                error=report.error or report.reason,
                worker=self.settings.worker_name,
            )
        )


def next_slot(
    slot: datetime | None, interval: timedelta, started: datetime, phase: float = 0.0
) -> datetime:
    """When a connection is next due after a poll that began at `started` and served `slot`.

    A fixed rate: neither a poll's length nor a late start pushes the schedule back, and slots
    missed while nobody polled are skipped rather than run back to back. A connection with no
    slot yet (never polled, or its interval just changed) joins the grid of its `phase`, a
    fraction of the interval: spread phases keep thousands of tenants from all falling due in
    the same second, so fleet workers share them tick by tick instead of one taking all."""
    if slot is None or started < slot:
        period = interval.total_seconds()
        offset = (phase % 1.0) * period
        slots = math.floor((started.timestamp() - offset) / period) + 1
        return datetime.fromtimestamp(slots * period + offset, tz=started.tzinfo or UTC)
    return slot + ((started - slot) // interval + 1) * interval


def spread_phase(connection_id: int) -> float:
    """A connection's phase in its interval: consecutive ids land far apart (the golden-ratio
    sequence), so any number of connections is spread evenly."""
    return (connection_id * 0.6180339887498949) % 1.0


def poll_owner(worker: str) -> str:
    """A lease holder's name: the worker's, plus a nonce, so that two processes given the same
    name by mistake never renew each other's leases."""
    return f"{worker}#{uuid.uuid4().hex[:8]}"


def circuit_change(before: Breaker, after: Breaker) -> str | None:
    if after.state is CircuitState.OPEN and before.state is not CircuitState.OPEN:
        return "opened"
    if after.state is CircuitState.CLOSED and before.state is not CircuitState.CLOSED:
        return "closed"
    return None


def _odoo_write_date(payload: WebhookPayload) -> str:
    return payload.order.write_date.replace("T", " ").rstrip("Z")


async def run_cycle(
    poller: ConnectionPoller,
    steps: PollSteps,
    *,
    flow_run_id: str | None = None,
    owner: str | None = None,
    lease_patience: float = 0.0,
) -> PollReport:
    """Breaker, lease, then scan pages until a short page, sending each queued page at once.

    A run that finds the lease taken is skipped (a scheduled poll: the next slot comes), or
    waits up to `lease_patience` seconds for it (a manual one).

    Whatever fails, the run ends with a report (and a sync-log row when the database lets
    it): failures of the poller's own database included.
    """
    report = PollReport(connection=poller.config.name, worker=poller.settings.worker_name)
    started = poller.store.clock()
    poller.begin_poll(owner)
    try:
        admission = await steps.check_breaker()
        if not admission.admitted:
            report.status, report.reason = "skipped", admission.reason
        elif not await poller.claim_waiting(lease_patience):
            report.status, report.reason = "skipped", "another run holds this connection's lease"
        elif poller.renews_own_lease:
            async with poller.lease_heartbeat():
                await _leased_cycle(poller, steps, report)
        else:
            await _leased_cycle(poller, steps, report)
    except Exception as exc:  # a bug included: recorded, never swallowed
        report.fail(exc, poller.redact)
        if not isinstance(exc, PollerError):
            _best_effort(report, poller.settle_breaker, False, report)
    _best_effort(report, poller.record, report, started, flow_run_id)
    return report


async def _leased_cycle(poller: ConnectionPoller, steps: PollSteps, report: PollReport) -> None:
    try:
        await _scan_and_send(poller, steps, report)
        poller.renew_lease()
        report.retried = await steps.process_retries()
        poller.settle_breaker(True, report)
    except Exception as exc:  # a bug included: a failed poll that counts for the breaker
        report.fail(exc, poller.redact)
        if isinstance(exc, OdooAuthError | OdooMissingError):
            _best_effort(report, poller.forget_odoo_session)
        _best_effort(report, poller.settle_breaker, False, report)
    finally:
        report.odoo_calls = poller.odoo_calls
        _best_effort(report, poller.release)


def _best_effort(report: PollReport, action: Callable[..., object], *args: object) -> None:
    """Bookkeeping after the work: a failure here (the database's, or a bug) fails the
    run; it never masks the first error."""
    try:
        action(*args)
    except Exception as exc:
        if report.status != "failed":
            report.fail(exc, Redactor())


async def _scan_and_send(poller: ConnectionPoller, steps: PollSteps, report: PollReport) -> None:
    session = await steps.authenticate()
    position = poller.scan_start()
    while True:
        poller.renew_lease()
        page = await steps.fetch_orders(session, position)
        report.orders_seen += len(page.stamps)
        if page.fresh:
            bundle = await steps.batch_fetch(session, page)
            queued = await steps.map(session, bundle, page, position)
            report.queued += queued.queued
            report.unchanged += queued.unchanged
            report.quarantined.extend(queued.quarantined)
            if queued.delivery_ids:
                report.sent.add(await steps.send(queued.delivery_ids))
        position = page.position_after(position)
        if page.is_last:
            poller.finish_scan(position)
            return
