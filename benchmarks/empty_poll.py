"""`python -m benchmarks.empty_poll [--tenants 200] [--flow-runs 20]`: what a poll that finds
nothing costs, per tenant: CPU milliseconds (the poller's process and the Prefect server's),
Odoo calls and SQL statements, for

- one flow run per connection (`poll_connection`, the per-connection deployments),
- fleet mode (every tenant polled in one flow run, as a `fleet-worker` tick does; no task run
  for an empty poll),
- the same fleet polls without any Prefect at all (the floor).

The simulator runs in its own process; the Prefect server is local (SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.catchup import Workbench, add_server_options, environment

RESULTS = harness.repo_root() / "benchmarks" / "results" / "empty_poll.json"


class Meter:
    """CPU of this process and of the Prefect server, Odoo calls and SQL statements."""

    def __init__(self, bench: Workbench, sim_url: str, engine: Any) -> None:
        from sqlalchemy import event

        self.bench, self.sim_url = bench, sim_url
        self.statements = 0

        def count(*_args: object) -> None:
            self.statements += 1

        event.listen(engine, "before_cursor_execute", count)

    async def measure(self, polls: int, work: Callable[[], Awaitable[object]]) -> dict[str, float]:
        harness.reset_odoo_calls(self.sim_url)
        self.statements = 0
        server_before, own_before = self.bench.server_cpu_seconds(), harness.own_cpu_seconds()
        started = time.perf_counter()
        await work()
        wall = time.perf_counter() - started
        own = harness.own_cpu_seconds() - own_before
        server = self.bench.server_cpu_seconds() - server_before
        calls = harness.odoo_calls(self.sim_url).total
        return {
            "polls": polls,
            "poller_cpu_ms": 1000 * own / polls,
            "server_cpu_ms": 1000 * server / polls,
            "total_cpu_ms": 1000 * (own + server) / polls,
            "wall_ms": 1000 * wall / polls,
            "odoo_calls": calls / polls,
            "sql_statements": self.statements / polls,
        }


async def tenants(
    bench: Workbench, sim_url: str, count: int, *, interval: int = 60, prefix: str = "tenant-"
) -> list[Any]:
    """`count` connections to the simulator, saved as blocks, each with its state row."""
    from poller.blocks import save_connections
    from poller.connections import ConnectionConfig
    from poller.crypto import SecretBox
    from poller.runtime import default_store

    box = SecretBox(bench.key)
    configs = [
        ConnectionConfig(
            name=f"{prefix}{bench.id}-{i:05d}",
            odoo_url=sim_url,
            database=harness.ODOO_DATABASE,  # type: ignore[arg-type]
            username=harness.ODOO_LOGIN,
            api_key_encrypted=box.encrypt(harness.ODOO_API_KEY),
            webhook_url="http://127.0.0.1:9/unused",  # type: ignore[arg-type]
            webhook_secret_encrypted=box.encrypt(bench.secret),
            poll_interval_seconds=interval,
        )
        for i in range(count)
    ]
    await save_connections(configs)
    store = default_store()
    for config in configs:
        store.states.ensure_connection(config.name)  # added now: the seeded shop is older
    return configs


async def run(bench: Workbench, tenant_count: int, flow_runs: int) -> dict[str, Any]:
    from sqlalchemy import text

    from flows.poll_connection import poll_connection
    from poller.crypto import SecretBox
    from poller.cycle import run_cycle
    from poller.fleet import DefinitionChanges, Fleet
    from poller.runtime import default_store
    from poller.settings import get_settings

    with harness.start_simulator(bench.dir, 0) as sim:
        configs = await tenants(bench, sim.url, tenant_count)
        store = default_store()
        meter = Meter(bench, sim.url, store.engine)
        fleet = Fleet(get_settings(), store, SecretBox(bench.key))
        fleet.take(DefinitionChanges.defining(configs))
        names = [config.name for config in configs]

        async def claim_all() -> list[str]:
            """Every tenant due again, then claimed: a poll starts from its claim."""
            with store.db.transaction() as connection:
                connection.execute(text("UPDATE connection_state SET next_poll_at = NULL"))
            claimed = await fleet.claim()
            assert set(names) <= set(claimed), f"claimed {sorted(claimed)}"
            return claimed

        async def direct(poller: Any) -> Any:
            return await run_cycle(poller, poller, owner=fleet.owner)

        await fleet.poll(await claim_all(), direct)  # first polls detect version and fields
        await claim_all()
        results = {"no_prefect": await meter.measure(len(names), lambda: fleet.poll(names, direct))}
        fleet_tick = one_tick_flow(fleet)
        await fleet_tick(await claim_all())  # warm the flow machinery
        await claim_all()
        results["fleet"] = await meter.measure(len(names), lambda: fleet_tick(names))
        some = names[:flow_runs]
        await poll_connection(some[0])

        async def one_run_each() -> None:
            for name in some:
                await poll_connection(name)

        results["flow_run_per_connection"] = await meter.measure(len(some), one_run_each)
        await flush_prefect_logs()
        return results


def one_tick_flow(fleet: Any) -> Any:
    """One tick of a `fleet-worker` flow run as a flow of its own, so that it is measured
    alone: every claimed tenant polled by `poll_claimed`, as the worker's loop does."""
    from prefect import flow
    from prefect.context import FlowRunContext

    from flows.fleet import poll_claimed

    @flow(name="fleet-tick")
    async def fleet_tick(names: list[str]) -> dict[str, int]:
        context = FlowRunContext.get()
        run_id = str(context.flow_run.id) if context and context.flow_run else ""
        return await poll_claimed(fleet, names, run_id)

    return fleet_tick


async def flush_prefect_logs() -> None:
    """Send buffered run logs before the benchmark stops the Prefect server."""
    from prefect.logging.handlers import APILogHandler

    await APILogHandler.aflush()


def print_report(console: Console, data: dict[str, Any]) -> None:
    table = Table(title=f"An empty poll, per tenant ({data['tenants']} tenants)")
    for column in (
        "mode",
        "polls",
        "poller CPU ms",
        "Prefect server CPU ms",
        "total CPU ms",
        "wall ms",
        "Odoo calls",
        "SQL statements",
    ):
        table.add_column(column, justify="right")
    labels = {
        "flow_run_per_connection": "one flow run per connection",
        "fleet": "fleet mode (one flow run per tick)",
        "no_prefect": "fleet polls without Prefect",
    }
    for mode, label in labels.items():
        r = data["results"][mode]
        table.add_row(
            label,
            str(r["polls"]),
            f"{r['poller_cpu_ms']:.2f}",
            f"{r['server_cpu_ms']:.2f}",
            f"{r['total_cpu_ms']:.2f}",
            f"{r['wall_ms']:.2f}",
            f"{r['odoo_calls']:.1f}",
            f"{r['sql_statements']:.1f}",
        )
    console.print(table)
    fleet = data["results"]["fleet"]["total_cpu_ms"]
    verdict = "met" if fleet <= 10 else "missed"
    console.print(f"target: fleet mode <= 10 ms CPU per empty poll: {fleet:.2f} ms ({verdict})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--flow-runs", type=int, default=20)
    parser.add_argument("--json", type=Path, default=RESULTS)
    add_server_options(parser)
    args = parser.parse_args(argv)
    console = Console(width=150)
    with Workbench(keep=args.keep, prefect_api_url=args.prefect_api_url) as bench:
        os.environ["POLLER_DATABASE_URL"] = f"sqlite:///{bench.dir / 'poller.db'}"
        results = asyncio.run(run(bench, args.tenants, args.flow_runs))
    data = {"tenants": args.tenants, "environment": environment(), "results": results}
    harness.publish(console, args.json, data, print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
