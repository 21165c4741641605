"""Flow runs left behind by a dead process are marked Crashed, the Prefect way.

A process killed mid-run cannot report its run's end: Prefect shows it `Running` (or
`Pending`/`Submitting`, killed while starting it) for ever. Two things end that:

- Every run emits a heartbeat event (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, its first at the
  start). The "crash zombie flows" automation from Prefect's docs marks a run Crashed once
  its beats stop for three periods; `ensure_zombie_automation` creates it once per server.
- `poller run` does not wait for that: at start (and at each refresh) it marks Crashed the
  poller's runs whose process is gone, judged by the same heartbeats (`is_orphaned`).

Neither is needed for polling to resume: the connection's database lease, short and
renewed, is what keeps two polls apart, and it frees itself (README, "After a crash").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prefect.automations import AutomationCore
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.events import EventPage
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventResourceFilter,
)
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.states import Crashed

#: the flows whose runs the poller owns (and only those: a shared server runs others)
POLLER_FLOWS = ["poll-connection", "fleet-worker"]
#: the runs `poller run` itself starts, with the heartbeat it sets (fleet-worker runs of a
#: work pool beat as prefect.yaml says; the automation watches those)
SWEPT_FLOWS = ["poll-connection"]
EVENTS_PAGE = 50  # the most the events API returns at once
HEARTBEAT = "prefect.flow-run.heartbeat"
#: every period of the heartbeat gets this much slack before a silent run counts as dead
BEATS_MISSED = 3
#: a run stuck starting (Pending/Submitting) this long has lost the process starting it
STUCK_STARTING = timedelta(seconds=60)
ZOMBIE_AUTOMATION = "odoo-order-poller: crash runs whose heartbeats stopped"
CRASH_MESSAGE = "its process stopped (no heartbeat); the connection's lease frees it"


def silence_limit(heartbeat_seconds: int) -> timedelta:
    return timedelta(seconds=heartbeat_seconds * BEATS_MISSED)


@dataclass(frozen=True)
class RunSeen:
    """What decides whether a run still has a process: its state and the last sign of it."""

    state: StateType
    state_since: datetime
    last_beat: datetime | None


def is_orphaned(run: RunSeen, now: datetime, heartbeat_seconds: int) -> bool:
    """Pure: whether the run's process is gone. A running process beats at once and then
    every period; a starting one turns Running within seconds."""
    if run.state is StateType.PENDING:
        return now - run.state_since > STUCK_STARTING
    if run.state is StateType.RUNNING:
        last_sign = max(run.state_since, run.last_beat or run.state_since)
        return now - last_sign > silence_limit(heartbeat_seconds)
    return False


def zombie_automation(heartbeat_seconds: int) -> AutomationCore:
    """Prefect's documented "crash zombie flows" automation, narrowed to the poller's flows."""
    return AutomationCore(
        name=ZOMBIE_AUTOMATION,
        description="Marks a poller flow run Crashed when its heartbeats stop "
        "(created by `poller run` and `poller db upgrade`).",
        trigger=EventTrigger(
            after={HEARTBEAT},
            expect={
                HEARTBEAT,
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {"prefect.resource.role": "flow", "prefect.resource.name": POLLER_FLOWS}
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=silence_limit(heartbeat_seconds),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED, message=f"Marked Crashed by the poller: {CRASH_MESSAGE}"
            )
        ],
    )


async def ensure_zombie_automation(client: PrefectClient, heartbeat_seconds: int) -> bool:
    """Create the automation unless the server has it; whether it was created."""
    if await client.read_automations_by_name(ZOMBIE_AUTOMATION):
        return False
    await client.create_automation(zombie_automation(heartbeat_seconds))
    return True


async def crash_orphaned_runs(
    client: PrefectClient, heartbeat_seconds: int, now: datetime | None = None
) -> list[FlowRun]:
    """Mark Crashed the poller's Running/Pending runs whose process is gone; those runs."""
    now = now or datetime.now(UTC)
    runs = await client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=SWEPT_FLOWS)),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
            )
        ),
        limit=200,
    )
    if not runs:
        return []
    beats = await _last_beats(client, [run.id for run in runs], now, heartbeat_seconds)
    orphans = [run for run in runs if is_orphaned(_seen(run, beats), now, heartbeat_seconds)]
    for run in orphans:
        await client.set_flow_run_state(
            run.id, Crashed(message=f"Marked Crashed by `poller run`: {CRASH_MESSAGE}")
        )
    return orphans


def _seen(run: FlowRun, beats: dict[UUID, datetime]) -> RunSeen:
    state = run.state
    since = state.timestamp if state is not None else run.created
    return RunSeen(
        state=state.type if state is not None else StateType.PENDING,
        state_since=since or datetime.now(UTC),
        last_beat=beats.get(run.id),
    )


async def _last_beats(
    client: PrefectClient, run_ids: list[UUID], now: datetime, heartbeat_seconds: int
) -> dict[UUID, datetime]:
    """The latest heartbeat of each run within the silence limit (older ones cannot save it)."""
    page: EventPage | None = await client.read_events(
        filter=EventFilter(
            occurred=EventOccurredFilter.model_validate(
                {"since": now - silence_limit(heartbeat_seconds), "until": now}
            ),
            event=EventNameFilter(name=[HEARTBEAT]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run_id}" for run_id in run_ids]),
        ),
        limit=EVENTS_PAGE,
    )
    latest: dict[UUID, datetime] = {}
    while page is not None:
        for event in page.events:
            run_id = UUID(event.resource.id.removeprefix("prefect.flow-run."))
            latest[run_id] = max(latest.get(run_id, event.occurred), event.occurred)
        page = await client.read_events_page(str(page.next_page)) if page.next_page else None
    return latest


async def crash_unfinished(client: PrefectClient, flow_run_ids: set[UUID]) -> int:
    """Mark Crashed those of `flow_run_ids` not in a final state; how many."""
    ended = 0
    for flow_run_id in flow_run_ids:
        run = await client.read_flow_run(flow_run_id)
        if run.state is not None and run.state.is_final():
            continue
        await client.set_flow_run_state(
            flow_run_id, Crashed(message="`poller run` stopped before this run finished")
        )
        ended += 1
    return ended
