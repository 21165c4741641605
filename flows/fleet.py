"""The `fleet-worker` flow: a long flow run that is itself a fleet worker, whether started by
`poller run --fleet` in its own process or by `prefect worker start --pool poller`.

Why one long run and not one per tick: a flow run costs about 350 ms of CPU on the worker
and load on the Prefect server; a run per tick per worker would spend the machine on
bookkeeping rather than polls.

A connection whose first page holds nothing new and with no retry due costs no task run;
once a poll finds work, its remaining steps run as task runs named after the connection,
and it gets its own artifact and events, as with `poll_connection`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_table_artifact
from prefect.context import FlowRunContext, get_run_context
from rich.text import Text

from flows.poll_connection import TaskSteps
from flows.publish import publish_report
from poller.blocks import load_block_listings
from poller.crypto import SecretBox
from poller.cursor import ScanPosition
from poller.cycle import run_cycle
from poller.fleet import DefinitionChanges, Fleet, block_page_changes
from poller.fleet_loop import FleetLoop, Say
from poller.odoo.client import OdooSession
from poller.odoo.reader import OdooBundle
from poller.poll import ConnectionPoller, ScanPage
from poller.poll_report import Admission, PollReport, QueueReport, SendReport
from poller.runtime import default_store
from poller.settings import get_settings


class LazySteps:
    """Direct calls while a poll finds nothing; Prefect task runs from the first work on."""

    def __init__(self, poller: ConnectionPoller) -> None:
        self.poller = poller
        self.tasks: TaskSteps | None = None

    def _work(self) -> TaskSteps:
        if self.tasks is None:
            self.tasks = TaskSteps(self.poller, label=self.poller.config.name)
        return self.tasks

    async def check_breaker(self) -> Admission:
        return await self.poller.check_breaker()

    async def authenticate(self) -> OdooSession:
        return await self.poller.authenticate()

    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage:
        if self.tasks is not None:
            return await self.tasks.fetch_orders(session, position)
        page = await self.poller.fetch_orders(session, position)
        if page.fresh:
            self._work()
        return page

    async def batch_fetch(self, session: OdooSession, page: ScanPage) -> OdooBundle:
        return await self._work().batch_fetch(session, page)

    async def queue_page(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> QueueReport:
        return await self._work().queue_page(session, bundle, page, position)

    async def send(self, delivery_ids: list[int]) -> SendReport:
        return await self._work().send(delivery_ids)

    async def process_retries(self) -> SendReport:
        if self.tasks is None and not self.poller.has_due_retries():
            return SendReport()
        return await self._work().process_retries()

    @property
    def found_work(self) -> bool:
        return self.tasks is not None


async def poll_claimed(fleet: Fleet, names: list[str], flow_run_id: str) -> dict[str, int]:
    """Poll the claimed `names`; a poll that found work or failed gets its artifact and
    events, and the batch one table."""
    worked: list[PollReport] = []

    async def poll_one(poller: ConnectionPoller) -> PollReport:
        steps = LazySteps(poller)
        report = await run_cycle(poller, steps, flow_run_id=flow_run_id, owner=fleet.owner)
        if steps.found_work or report.status != "ok":
            worked.append(report)
            await publish_report(report)
        return report

    reports = await fleet.poll(names, poll_one)
    counts = {
        status: sum(r.status == status for r in reports)
        for status in ("ok", "dead-lettered", "failed", "skipped")
    }
    if worked:
        await acreate_table_artifact(
            key="poll-fleet",
            table=[{"connection": r.connection, "result": r.summary()} for r in worked],
            description=f"{len(reports)} connections polled by {fleet.worker}: {counts}",
        )
    get_run_logger().info("%s polled %d connections: %s", fleet.worker, len(reports), counts)
    return counts


def _flow_run_id() -> str:
    context = get_run_context()
    if not isinstance(context, FlowRunContext) or context.flow_run is None:
        raise RuntimeError("not inside a flow run")
    return str(context.flow_run.id)


@dataclasses.dataclass
class InProcess:
    """What `poller run --fleet` hands the fleet-worker flow it runs in its own process: its
    stop event, its console and the hook that serves changed connections for manual runs."""

    stop: asyncio.Event
    say: Say
    on_changes: Callable[[DefinitionChanges], Awaitable[None]] | None = None


_in_process: InProcess | None = None


def run_in_process(hooks: InProcess | None) -> None:
    global _in_process
    _in_process = hooks


@flow(name="fleet-worker", flow_run_name="fleet worker", log_prints=False)
async def fleet_worker(duration_seconds: float = 3600.0) -> dict[str, Any]:
    """A fleet worker for `duration_seconds` (0: until stopped): claims due connections every
    tick and polls them inside this flow run. `poller run --fleet` runs one for the life of
    its process; `prefect worker start --pool poller` runs the `fleet` deployment's, as many
    at once as its schedule overlaps them. They all share the database's claims."""
    settings = get_settings()
    fleet = Fleet(
        settings,
        default_store(settings),
        SecretBox(settings.encryption_key),
        load_many=load_block_listings,
    )
    logger = get_run_logger()
    hooks = _in_process or InProcess(
        stop=asyncio.Event(), say=lambda message: logger.info("%s", Text.from_markup(message).plain)
    )
    flow_run_id = _flow_run_id()
    loop = FleetLoop(
        fleet,
        lambda names: poll_claimed(fleet, names, flow_run_id),
        block_page_changes,
        say=hooks.say,
        on_changes=hooks.on_changes,
    )
    hooks.say(
        f"Fleet worker {fleet.worker}: a tick every {settings.fleet_tick_seconds:g}s, up to "
        f"{settings.fleet_capacity} claimed and {settings.fleet_concurrency} polled at once."
    )
    try:
        stats = await loop.run(hooks.stop, duration_seconds or None)
    finally:
        fleet.give_back_all()
    return {"worker": fleet.worker, **dataclasses.asdict(stats)}
