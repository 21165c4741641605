"""What one poll did, step by step and as a whole: for the sync log, the Prefect artifact
and events, and the operator's one-line summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from poller.errors import InternalError, PollerError
from poller.redact import Redactor
from poller.state.models import SyncLog


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
class QueueReport:
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
    status: str = "ok"  # ok | dead-lettered | failed | skipped
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

    def sync_log_row(
        self,
        connection_id: int,
        started_at: datetime,
        finished_at: datetime,
        flow_run_id: str | None,
    ) -> SyncLog:
        """The poll as its sync-log row (`poller logs`)."""
        return SyncLog(
            connection_id=connection_id,
            flow_run_id=flow_run_id,
            started_at=started_at,
            finished_at=finished_at,
            duration_ms=int((finished_at - started_at).total_seconds() * 1000),
            status=self.status,
            orders_seen=self.orders_seen,
            queued=self.queued,
            delivered=self.sent.delivered + self.retried.delivered,
            failed=self.sent.failed + self.retried.failed,
            dead=self.sent.dead + self.retried.dead,
            quarantined=len(self.quarantined),
            retried=self.retried.delivered + self.retried.failed + self.retried.dead,
            odoo_calls=self.odoo_calls,
            error=self.error or self.reason,
            worker=self.worker,
        )

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
            + (f"; {self.reason}" if self.reason else "")
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
