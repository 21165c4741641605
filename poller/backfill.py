"""A backfill: one long scan from a chosen date, paged and checkpointed like every poll, with
progress reported as pages go by. Interrupted, it resumes from its last queued page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from poller.blocks import load_connection
from poller.clock import to_odoo
from poller.cursor import ScanPosition
from poller.cycle import run_cycle
from poller.errors import ConfigError
from poller.odoo.client import OdooSession
from poller.odoo.reader import count_scan
from poller.poll import ConnectionPoller, ScanPage
from poller.poll_report import PollReport
from poller.runtime import default_store, open_poller

# Given the number of orders to go, returns (a rich Progress, its task id).
ProgressFactory = Callable[[int], tuple[Any, Any]]


class ProgressSteps:
    """The poller's own steps, reporting each page to a progress bar."""

    def __init__(self, poller: ConnectionPoller, make_progress: ProgressFactory) -> None:
        self.poller = poller
        self.make_progress = make_progress
        self.progress: Any = None
        self.task: Any = None

    def __getattr__(self, name: str) -> Any:  # every step not overridden here
        return getattr(self.poller, name)

    async def authenticate(self) -> OdooSession:
        session = await self.poller.authenticate()
        position = self.poller.scan_start()
        total = await count_scan(
            self.poller.odoo_client(), session.fields, position.lower_bound, position.after_id
        )
        self.progress, self.task = self.make_progress(total)
        self.progress.start()
        return session

    async def fetch_orders(self, session: OdooSession, position: ScanPosition) -> ScanPage:
        page = await self.poller.fetch_orders(session, position)
        if self.progress is not None:
            self.progress.advance(self.task, len(page.stamps))
        return page

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


async def run_backfill(
    ref: str, since: datetime | None, make_progress: ProgressFactory
) -> PollReport:
    store = default_store()
    state = store.states.find_connection(ref)
    if since is not None:
        store.states.start_scan_at(int(state.id or 0), to_odoo(since))
    elif state.scan_lower_bound is None:
        raise ConfigError(
            f"connection '{state.name}' has no interrupted backfill to resume",
            hint="Give --since DATE to start one",
        )
    poller = open_poller(await load_connection(state.name))
    steps = ProgressSteps(poller, make_progress)
    try:
        return await run_cycle(poller, steps)
    finally:
        steps.close()
        await poller.aclose()
