"""The `poll-fleet` flow: one flow run polls a batch of due connections (fleet mode).

A connection whose first page holds nothing new and with no retry due costs no task run;
once a poll finds work, its remaining steps run as task runs named after the connection,
and it gets its own artifact and events, as with `poll_connection`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_table_artifact
from prefect.context import get_run_context

from flows.poll_connection import TaskSteps
from flows.publish import publish_report
from poller.cursor import ScanPosition
from poller.fleet import Fleet
from poller.odoo.client import OdooSession
from poller.odoo.reader import OdooBundle
from poller.poll import (
    Admission,
    ConnectionPoller,
    EnqueueReport,
    PollReport,
    ScanPage,
    SendReport,
    run_cycle,
)

_fleet: Fleet | None = None


def use_fleet(fleet: Fleet | None) -> None:
    """The in-process fleet the flow polls (its pollers hold HTTP clients between ticks)."""
    global _fleet
    _fleet = fleet


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

    async def map(
        self, session: OdooSession, bundle: OdooBundle, page: ScanPage, position: ScanPosition
    ) -> EnqueueReport:
        return await self._work().map(session, bundle, page, position)

    async def send(self, delivery_ids: list[int]) -> SendReport:
        return await self._work().send(delivery_ids)

    async def process_retries(self) -> SendReport:
        if self.tasks is None and not self.poller.has_due_retries():
            return SendReport()
        return await self._work().process_retries()

    @property
    def found_work(self) -> bool:
        return self.tasks is not None


@flow(name="poll-fleet", flow_run_name="fleet: {connections_count} due", log_prints=False)
async def poll_fleet(connections: list[str], connections_count: int = 0) -> dict[str, Any]:
    """Poll every named connection of the in-process fleet once."""
    if _fleet is None:
        raise RuntimeError("poll-fleet runs inside `poller run --fleet`")
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    worked: list[PollReport] = []

    async def poll_one(poller: ConnectionPoller) -> PollReport:
        steps = LazySteps(poller)
        report = await run_cycle(poller, steps, flow_run_id=flow_run_id)
        if steps.found_work or report.status != "ok":
            worked.append(report)
            await publish_report(report)
        return report

    reports = await _fleet.poll(connections, poll_one)
    counts = {
        status: sum(r.status == status for r in reports) for status in ("ok", "failed", "skipped")
    }
    if worked:
        await acreate_table_artifact(
            key="poll-fleet",
            table=[{"connection": r.connection, "result": r.summary()} for r in worked],
            description=f"{len(reports)} connections polled: {counts}",
        )
    get_run_logger().info("%d connections polled: %s", len(reports), counts)
    return counts
