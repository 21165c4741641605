"""Scheduled runs that came due while nothing started them collapse into one per connection.

While `poller run` is stopped or the Prefect API is away, a connection's schedule keeps coming
due: an hour away at a 10 s interval leaves 360 runs due, and Prefect's Runner starts every
due run at once, each in a process of its own, of which one polls and the rest find the lease
taken. One poll catches up the whole gap (the cursor covers it), so before a runner looks for
runs, every due run of a deployment but its latest ends `Completed` named "Skipped", as a run
that finds the lease taken does. Only auto-scheduled runs: a run someone asked for
(`prefect deployment run`, the UI) is never skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.states import Completed

SCHEDULED_FLOW = "poll-connection"
AUTO_SCHEDULED = "auto-scheduled"
PAGE = 200
#: the most runs one sweep reads; what is left is skipped at the next refresh
SWEEP_LIMIT = 10_000
SET_STATE_CONCURRENCY = 8
SKIPPED_MESSAGE = "a later run of this connection was due too; one poll covers the whole gap"


@dataclass(frozen=True)
class DueRun:
    id: UUID
    deployment_id: UUID | None
    expected_start: datetime


def superseded(runs: Iterable[DueRun]) -> list[UUID]:
    """Pure: the due runs that a later due run of the same deployment makes pointless."""
    latest: dict[UUID, DueRun] = {}
    others: list[DueRun] = []
    for run in runs:
        if run.deployment_id is None:
            continue
        kept = latest.get(run.deployment_id)
        if kept is None or run.expected_start > kept.expected_start:
            latest[run.deployment_id] = run
            if kept is not None:
                others.append(kept)
        else:
            others.append(run)
    return [run.id for run in others]


async def skip_superseded_runs(client: PrefectClient, now: datetime | None = None) -> int:
    """End as Skipped the due auto-scheduled poll runs that a later due run supersedes; how
    many."""
    due = await _due_runs(client, now or datetime.now(UTC))
    skipped = superseded(due)
    gate = asyncio.Semaphore(SET_STATE_CONCURRENCY)

    async def skip(run_id: UUID) -> None:
        async with gate:
            await client.set_flow_run_state(
                run_id, Completed(name="Skipped", message=SKIPPED_MESSAGE), force=True
            )

    await asyncio.gather(*(skip(run_id) for run_id in skipped))
    return len(skipped)


async def _due_runs(client: PrefectClient, now: datetime) -> list[DueRun]:
    due: list[DueRun] = []
    while len(due) < SWEEP_LIMIT:
        page = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[SCHEDULED_FLOW])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                expected_start_time=FlowRunFilterExpectedStartTime(before_=now),
                tags=FlowRunFilterTags(all_=[AUTO_SCHEDULED]),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=PAGE,
            offset=len(due),
        )
        due.extend(
            DueRun(run.id, run.deployment_id, run.expected_start_time or now) for run in page
        )
        if len(page) < PAGE:
            break
    return due
