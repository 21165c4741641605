"""The `poll_connection` flow: Prefect glue around `poller.cycle.run_cycle`.

Every step is a task with a retry policy for transient faults inside one run; business rules
live in `poller/`. The flow's only parameter is the connection's name: no secret ever
becomes a parameter, a result or a log line.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State, TaskRun
from prefect.context import FlowRunContext, get_run_context
from prefect.states import Completed, Failed
from prefect.tasks import Task, exponential_backoff
from prefect.utilities.annotations import quote

from flows.publish import publish_report
from poller.blocks import load_connection
from poller.cursor import ScanPosition
from poller.cycle import run_cycle
from poller.errors import PollerError
from poller.odoo.client import OdooSession
from poller.odoo.errors import OdooRateLimited
from poller.odoo.reader import OdooBundle
from poller.poll import ConnectionPoller, ScanPage
from poller.poll_report import Admission, QueueReport, SendReport
from poller.runtime import default_store, open_poller
from poller.settings import get_settings
from poller.unpollable import record_unpollable

P = ParamSpec("P")
R = TypeVar("R")


async def retry_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only faults a later attempt can get past, never authentication or bad requests;
    wait out a rate limit's Retry-After (capped) before Prefect's own backoff."""
    error = state.data if isinstance(state.data, BaseException) else None
    if not (isinstance(error, PollerError) and error.transient):
        return False
    if isinstance(error, OdooRateLimited) and error.retry_after:
        await asyncio.sleep(min(error.retry_after, get_settings().retry_after_cap_seconds))
    return True


#: what every step shares; how many retries and their first delay are the settings', applied
#: by `TaskSteps` (POLLER_TASK_RETRIES, POLLER_TASK_RETRY_DELAY_SECONDS)
RETRY_POLICY: dict[str, Any] = {
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_transient,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


@task(name="check_breaker", **RETRY_POLICY)
async def check_breaker(poller: ConnectionPoller) -> Admission:
    return await poller.check_breaker()


@task(name="authenticate", **RETRY_POLICY)
async def authenticate(poller: ConnectionPoller) -> OdooSession:
    return await poller.authenticate()


@task(name="fetch_orders", **RETRY_POLICY)
async def fetch_orders(
    poller: ConnectionPoller, session: OdooSession, position: ScanPosition
) -> ScanPage:
    return await poller.fetch_orders(session, position)


@task(name="batch_fetch", **RETRY_POLICY)
async def batch_fetch(poller: ConnectionPoller, session: OdooSession, page: ScanPage) -> OdooBundle:
    return await poller.batch_fetch(session, page)


@task(name="queue_page", **RETRY_POLICY)
async def queue_page(
    poller: ConnectionPoller,
    session: OdooSession,
    bundle: OdooBundle,
    page: ScanPage,
    position: ScanPosition,
) -> QueueReport:
    return await poller.queue_page(session, bundle, page, position)


@task(name="send", **RETRY_POLICY)
async def send(poller: ConnectionPoller, delivery_ids: list[int]) -> SendReport:
    return await poller.send(delivery_ids)


@task(name="process_retries", **RETRY_POLICY)
async def process_retries(poller: ConnectionPoller) -> SendReport:
    return await poller.process_retries()


class TaskSteps:
    """The poll's steps, each run as a Prefect task with the retry policy of the settings."""

    def __init__(self, poller: ConnectionPoller, label: str | None = None) -> None:
        self.poller = poller
        settings = poller.settings

        def configured(step: Task[P, R]) -> Task[P, R]:
            return step.with_options(
                retries=settings.task_retries,
                retry_delay_seconds=exponential_backoff(settings.task_retry_delay_seconds),
                task_run_name=f"{step.name}[{label}]" if label else None,
            )

        self._check_breaker = configured(check_breaker)
        self._authenticate = configured(authenticate)
        self._fetch_orders = configured(fetch_orders)
        self._batch_fetch = configured(batch_fetch)
        self._queue_page = configured(queue_page)
        self._send = configured(send)
        self._process_retries = configured(process_retries)

    async def check_breaker(self) -> Admission:
        return await self._check_breaker(self.poller)

    async def authenticate(self) -> OdooSession:
        return await self._authenticate(self.poller)

    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage:
        return await self._fetch_orders(self.poller, session, position)

    async def batch_fetch(self, session: OdooSession, page: ScanPage) -> OdooBundle:
        return await self._batch_fetch(self.poller, session, page)

    async def queue_page(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> QueueReport:
        # quote: Prefect would otherwise walk every record of the page twice per call,
        # looking for futures in the task's inputs (40% of a catch-up's CPU).
        # (a quoted argument is unwrapped by Prefect before the task sees it)
        quoted = cast(OdooBundle, quote(bundle))
        return await self._queue_page(self.poller, session, quoted, page, position)

    async def send(self, delivery_ids: list[int]) -> SendReport:
        return await self._send(self.poller, delivery_ids)

    async def process_retries(self) -> SendReport:
        return await self._process_retries(self.poller)


@flow(name="poll-connection", flow_run_name="poll {connection}", log_prints=False)
async def poll_connection(connection: str) -> State[Any]:
    """Poll one Odoo connection once and deliver what is new to StockMaster."""
    logger = get_run_logger()
    flow_run = _this_flow_run()
    try:
        poller = open_poller(await load_connection(connection))
    except PollerError as exc:  # no block, no key, a wrong key, no database: nothing started
        logger.error("cannot poll: %s", exc)
        await _record_unpollable(connection, exc, str(flow_run.id))
        return Failed(message=str(exc))
    # A scheduled run never queues behind a running poll; one an operator asked for does.
    patience = 0.0 if flow_run.auto_scheduled else poller.settings.manual_run_wait_seconds
    try:
        with _finish_the_page_on_sigterm(poller):
            report = await run_cycle(
                poller, TaskSteps(poller), flow_run_id=str(flow_run.id), lease_patience=patience
            )
    finally:
        await poller.aclose()
    await publish_report(report)
    summary = report.summary()
    if report.status == "skipped":
        logger.info("skipped: %s", report.reason)
        return Completed(name="Skipped", message=report.reason)
    if report.status == "failed":
        if not report.traceback:  # an internal error: publish_report logged it, traceback too
            logger.error("poll failed: %s", report.error)
        return Failed(message=report.error)
    if report.status == "dead-lettered":
        logger.warning(summary)
        return Completed(name="Dead-lettered", message=summary)
    logger.info(summary)
    return Completed(message=summary)


@contextmanager
def _finish_the_page_on_sigterm(poller: ConnectionPoller) -> Iterator[None]:
    """SIGTERM (`poller run` stopping: systemd and Ctrl-C signal the whole process group)
    ends the poll after the page in hand, queued, sent and checkpointed, and the run
    Completed. Prefect's own handler would crash the run at once, mid-send, with a
    traceback; it is back in place once the poll is over."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; there Prefect's stays
        return

    def finish_the_page(_signum: int, _frame: object) -> None:
        poller.stop_requested = True

    previous = signal.signal(signal.SIGTERM, finish_the_page)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _this_flow_run() -> FlowRun:
    context = get_run_context()
    if not isinstance(context, FlowRunContext) or context.flow_run is None:
        raise RuntimeError("poll_connection runs only as a flow run")
    return context.flow_run


async def _record_unpollable(connection: str, error: PollerError, flow_run_id: str) -> None:
    """The failed start in the sync log, the breaker and the events, when the database can
    take it (when it cannot, the run's message already says why)."""
    try:
        settings = get_settings()
        store = default_store(settings)
    except PollerError:  # the settings or the database are what failed
        return
    report = record_unpollable(
        store, connection, error, worker=settings.worker_name, flow_run_id=flow_run_id
    )
    await publish_report(report)
