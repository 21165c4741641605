"""The order of one poll's steps (README, "How it works"): breaker, lease, then pages of the
scan until a short one, each queued page sent at once, then due retries. The steps come from
a `PollSteps`: the Prefect flow hands task-wrapped ones, tests and benchmarks the poller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from poller.cursor import ScanPosition
from poller.errors import PollerError
from poller.odoo.client import OdooSession
from poller.odoo.errors import OdooAuthError, OdooMissingError
from poller.odoo.reader import OdooBundle
from poller.poll import ConnectionPoller, ScanPage
from poller.poll_report import Admission, PollReport, QueueReport, SendReport
from poller.redact import Redactor


class PollSteps(Protocol):
    async def check_breaker(self) -> Admission: ...
    async def authenticate(self) -> OdooSession: ...
    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage: ...
    async def batch_fetch(self, session: OdooSession, page: ScanPage) -> OdooBundle: ...
    async def queue_page(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> QueueReport: ...
    async def send(self, delivery_ids: list[int]) -> SendReport: ...
    async def process_retries(self) -> SendReport: ...


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
    if report.status == "ok" and report.sent.dead + report.retried.dead:
        # Odoo was read and StockMaster answered: not a failure for the breaker, but the
        # receiver refused orders, which an operator must see (`poller retries`)
        report.status = "dead-lettered"
    _best_effort(report, poller.record, report, started, flow_run_id)
    return report


async def _leased_cycle(poller: ConnectionPoller, steps: PollSteps, report: PollReport) -> None:
    try:
        await _scan_and_send(poller, steps, report)
        if not poller.stop_requested:
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


STOPPED_EARLY = "stopped after a page: the process was asked to stop; the next poll resumes"


async def _scan_and_send(poller: ConnectionPoller, steps: PollSteps, report: PollReport) -> None:
    session = await steps.authenticate()
    position = poller.scan_start()
    while True:
        poller.renew_lease()
        page = await steps.fetch_orders(session, position)
        report.orders_seen += len(page.stamps)
        if page.fresh:
            bundle = await steps.batch_fetch(session, page)
            queued = await steps.queue_page(session, bundle, page, position)
            report.queued += queued.queued
            report.unchanged += queued.unchanged
            report.quarantined.extend(queued.quarantined)
            if queued.delivery_ids:
                report.sent.add(await steps.send(queued.delivery_ids))
        position = page.position_after(position)
        if page.is_last:
            poller.finish_scan(position)
            return
        if poller.stop_requested:  # the page is queued, sent and checkpointed: stop here
            report.reason = STOPPED_EARLY
            return
