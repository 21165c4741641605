"""`poller run` killed with SIGKILL, process group and flow runs, three times while it sends a
backlog of 500 orders; restarted each time, as an operator (or systemd) would.

Judged from outside the poller: deliveries from the receiver's own record, runs and their
states from the Prefect server. Nothing is lost, a repeat carries its first webhook-id, a kill
re-sends at most the sends in flight, polling resumes within two intervals, and no run is left
Running or Pending.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.support.cli_process import PollerRun, add_connection, poller_env, wait_for

pytestmark = pytest.mark.slow
BACKLOG = 500
KILLS = 3
INTERVAL = 30
LEASE = 10
SEND_CONCURRENCY = 4
RECEIVER_LATENCY = 0.05
#: how long after the last restart no run may be left Running or Pending
SETTLED_AFTER = 120
STUCK = {StateType.RUNNING, StateType.PENDING}
KILL_SLACK = 1.0


def confirmed_order_ids(sim) -> set[int]:
    rows = sim.execute(
        "sale.order", "search_read", [[["state", "in", ["sale", "done"]]]], {"fields": ["id"]}
    )
    return {row["id"] for row in rows}


async def deployment_runs(api_url: str) -> list[FlowRun]:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["acme"])),
                limit=200,
            )


def test_sigkilled_three_times_mid_backlog_it_loses_nothing_and_leaves_no_run_stuck(
    fresh_prefect_server: str, odoo, stockmaster, tmp_path: Path
) -> None:
    odoo.sim.add_generated_orders(BACKLOG, lines_per_order=1)
    receiver = stockmaster.receiver
    receiver.latency_seconds = RECEIVER_LATENCY
    env = poller_env(
        fresh_prefect_server,
        tmp_path,
        send_concurrency=str(SEND_CONCURRENCY),
        lease_seconds=str(LEASE),
        connections_refresh_seconds="5",
    )
    add_connection(
        env, "acme", odoo.url, stockmaster.url, stockmaster.secret, "--interval", str(INTERVAL)
    )
    expected = confirmed_order_ids(odoo.sim)
    assert len(expected) >= BACKLOG

    log = tmp_path / "poller-run.log"
    rng = random.Random(20261202)
    kill_points = sorted(rng.sample(range(BACKLOG // 10, BACKLOG * 9 // 10), KILLS))
    running = PollerRun(env, log)
    killed_at: list[float] = []
    for point in kill_points:
        wait_for(
            lambda at=point: len(receiver.unique()) >= at, 180, f"{point} delivered", log, 0.05
        )
        running.kill()
        killed_at.append(time.time())
        running = PollerRun(env, log)
    last_restart = running.started_at

    wait_for(lambda: len(receiver.unique()) >= len(expected), 240, "every order", log)
    settle = SETTLED_AFTER - (datetime.now(UTC) - last_restart).total_seconds()
    time.sleep(max(0.0, settle))
    runs = asyncio.run(deployment_runs(fresh_prefect_server))
    running.stop()
    assert running.process.returncode == 0, log.read_text()

    ids_by_order: dict[int, set[str]] = defaultdict(set)
    for item in receiver.deliveries:
        ids_by_order[item.body["order"]["id"]].add(item.webhook_id)
    repeats = receiver.redeliveries()
    per_kill = repeats_per_kill(receiver.deliveries, killed_at)
    completed = sorted(
        run.end_time
        for run in runs
        if run.state and run.state.name == "Completed" and run.start_time
        if run.start_time >= last_restart and run.end_time
    )
    stuck = [
        (run.name, run.state.name)
        for run in runs
        if run.state
        and (run.state.type in STUCK or run.state.name == "AwaitingConcurrencySlot")
        and run.state.timestamp < datetime.now(UTC) - timedelta(seconds=INTERVAL)
    ]
    resumed_in = (completed[0] - last_restart).total_seconds() if completed else None
    print(
        f"\nkill test: {len(expected)} orders, kills after {kill_points} deliveries, "
        f"{len(receiver.deliveries)} deliveries, {repeats} repeats "
        f"(per kill: {per_kill}), first completed poll "
        f"{resumed_in}s after the last restart, runs: "
        f"{sorted((run.state.name if run.state else '?') for run in runs)}"
    )
    assert set(ids_by_order) == expected  # none lost, none extra
    assert all(len(ids) == 1 for ids in ids_by_order.values())  # a repeat: same webhook-id
    assert sum(per_kill) == repeats and max(per_kill) <= SEND_CONCURRENCY
    assert resumed_in is not None and resumed_in <= 2 * INTERVAL
    assert stuck == [], log.read_text()
    assert "Traceback" not in log.read_text()


def repeats_per_kill(deliveries: list, killed_at: list[float]) -> list[int]:
    """The repeats each kill caused: a delivery received again was first accepted before the
    kill that cut its recording short (its repeat may come a poll later: a resumed poll sends
    the new pages first and what was left open at its end). A request in flight when the
    process died is recorded by the receiver up to its latency later, hence the slack; a
    restarted process sends nothing for seconds."""
    first: dict[str, float] = {}
    counts = [0] * len(killed_at)
    for item in deliveries:
        if item.webhook_id not in first:
            first[item.webhook_id] = item.received_at
            continue
        accepted = first[item.webhook_id]
        cause = next(i for i, at in enumerate(killed_at) if at + KILL_SLACK >= accepted)
        counts[cause] += 1
    return counts
