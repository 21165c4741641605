"""One poll of one connection: the rules of each step, which the Prefect flow runs as tasks.

`ConnectionPoller` owns the steps; `poller.cycle.run_cycle` owns their order. The sends are
`poller.delivery.dispatch`'s, the reports `poller.poll_report`'s.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from poller.breaker import (
    Breaker,
    BreakerPolicy,
    admit,
    circuit_change,
    record_failure,
    record_success,
)
from poller.clock import utcnow
from poller.connections import ConnectionConfig
from poller.contract import ConnectionRef, WebhookPayload
from poller.crypto import SecretBox
from poller.cursor import ScanPosition, finished_cursor, start_scan
from poller.delivery.dispatch import Dispatcher, Endpoint
from poller.errors import LeaseLost, StateError
from poller.http_clients import odoo_client, webhook_client
from poller.lease import Heartbeat, poll_owner
from poller.odoo.client import OdooClient, OdooSession
from poller.odoo.reader import OdooBundle, OrderStamp, fetch_bundle, scan_page
from poller.orders import MappingContext, content_hash, map_page
from poller.poll_report import Admission, PollReport, QueueReport, SendReport
from poller.redact import Redactor, strip_userinfo
from poller.settings import Settings
from poller.slots import next_slot, spread_phase
from poller.state.models import ConnectionState, Delivery, DeliveryStatus
from poller.state.outbox import NewDelivery
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
        # set when the process is asked to stop: the poll ends after the page in hand
        self.stop_requested = False

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

        def outcome(current: Breaker) -> Breaker:
            if succeeded:
                return record_success(current, self.policy)
            return record_failure(current, now, self.policy)

        return self.store.states.settle_breaker(self.connection_id, breaker, version, outcome)

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
            floor=state.starts_at,
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
    async def queue_page(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> QueueReport:
        """Map the page and queue it with the scan checkpoint in one transaction."""
        mapped = map_page(bundle, self.mapping_context(session), page.fresh)
        histories = self.store.outbox.order_histories(
            self.connection_id, [p.order.id for p in mapped.payloads]
        )
        report = QueueReport()
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
        self, payload: WebhookPayload, history: OrderHistory | None, report: QueueReport
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
        if not rows:
            return SendReport()
        if self.state.endpoint_gone_at is not None:
            return SendReport(gone=True)
        secret = self.box.decrypt(self.config.webhook_secret_encrypted, what="the webhook secret")
        self.redact.add(secret)
        endpoint = Endpoint(
            self.hook_http(), str(self.config.webhook_url), secret, self.connection_id
        )
        report = await Dispatcher(
            endpoint,
            concurrency=self.settings.send_concurrency,
            retry_horizon=timedelta(hours=self.settings.retry_horizon_hours),
            record=self.store.outbox.record_results,
            clock=self.store.clock,
            wall_clock=self.wall_clock,
            redact=self.redact,
            rng=self.rng,
        ).deliver(rows)
        if report.gone:
            self.store.states.mark_endpoint_gone(self.connection_id, True)
            self.state.endpoint_gone_at = self.store.clock()
        return report

    # -- record --------------------------------------------------------------------------

    def record(self, report: PollReport, started_at: datetime, flow_run_id: str | None) -> None:
        self.store.logs.add(
            report.sync_log_row(self.connection_id, started_at, self.store.clock(), flow_run_id)
        )


def _odoo_write_date(payload: WebhookPayload) -> str:
    return payload.order.write_date.replace("T", " ").rstrip("Z")
