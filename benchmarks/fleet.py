"""`python -m benchmarks.fleet [--tenants 10000] [--workers 1,2,3] [--interval 60]
[--duration 120] [--deployments 4000]`: what fleet workers sustain, side by side.

One Prefect server on the local PostgreSQL (as a fleet's would be), one poller database on
it too, the simulator serving every tenant from its own process. `--tenants` connections are
saved once and each polled once (first polls detect the Odoo version and fields, and are
not what is measured); then for each worker count, that many `poller run --fleet`
processes poll them for a warm-up interval and `--duration` measured seconds, and stop.
From the sync log: polls per minute, and each poll's lateness behind its slot (a
connection's slots sit at its own phase of its interval: `poller.poll.next_slot`). CPU of
the workers and of the Prefect server from the kernel. Last, the time to apply
`--deployments` per-connection deployments (the manual-run deployments) against the same
server.

Give more tenants than one worker keeps up with: its polls per minute are then its
capacity, and the ratio of two workers to one says how well claims share the work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.catchup import Workbench, environment, parse_sizes
from benchmarks.empty_poll import tenants

RESULTS = harness.repo_root() / "benchmarks" / "results" / "fleet.json"
PG_ADMIN_URL = os.environ.get("POLLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ON_TIME_P99_SECONDS = 10.0


@contextmanager
def pg_databases(*purposes: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases, dropped afterwards: purpose -> SQLAlchemy URL (psycopg)."""
    import psycopg
    from sqlalchemy.engine import make_url

    names = {purpose: f"bench_{purpose}_{uuid.uuid4().hex[:8]}" for purpose in purposes}
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        for name in names.values():
            admin.execute(f'CREATE DATABASE "{name}"')
    base = make_url(PG_ADMIN_URL)
    try:
        yield {
            purpose: base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
            for purpose, name in names.items()
        }
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def poll_rows(database_url: str, since: float) -> list[tuple[int, float, str, str]]:
    """(connection id, start, status, worker) of every poll started after `since`."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT connection_id, started_at, status, worker FROM sync_log")
        ).all()
    engine.dispose()
    return [
        (cid, _seconds(started), status, worker or "")
        for cid, started, status, worker in rows
        if _seconds(started) >= since
    ]


def lateness(rows: list[tuple[int, float, str, str]], interval: int) -> list[float]:
    """Each poll's start behind its slot: slots sit at the connection's phase (as
    `next_slot` lays them), so a poll's slot is the last one at or before its start."""
    from poller.slots import spread_phase

    late = []
    for cid, started, _status, _worker in rows:
        offset = spread_phase(cid) * interval
        late.append((started - offset) % interval)
    return sorted(late)


def prime(bench: Workbench, database_url: str, workers: int, args: argparse.Namespace) -> float:
    """Seconds until every tenant has been polled once. A first poll detects the Odoo
    version, transport and fields (several calls, far more CPU than an empty poll) and
    caches them in the database; measuring before that would measure first polls."""
    from sqlalchemy import create_engine, text

    env = _worker_env(bench, database_url, args)
    processes = [start_worker(bench, f"prime-{i}", env) for i in range(1, workers + 1)]
    engine = create_engine(database_url)
    started = time.perf_counter()
    try:
        while True:
            with engine.connect() as connection:
                polled = connection.execute(
                    text("SELECT count(DISTINCT connection_id) FROM sync_log")
                ).scalar_one()
            if polled >= args.tenants:
                return time.perf_counter() - started
            if time.perf_counter() - started > 3600:
                raise RuntimeError(f"only {polled} of {args.tenants} tenants polled in an hour")
            time.sleep(2)
    finally:
        engine.dispose()
        for process in processes:
            stop(process)


def _worker_env(bench: Workbench, database_url: str, args: argparse.Namespace) -> dict[str, str]:
    return {
        **bench.child_env(database_url),
        "POLLER_FLEET_TICK_SECONDS": str(args.tick),
        "POLLER_FLEET_MANUAL_RUNS": "false",  # measured apart, below
        "POLLER_FLEET_THRESHOLD": "0",
    }


def measure(
    bench: Workbench, database_url: str, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    env = _worker_env(bench, database_url, args)
    names = [f"w{workers}-{i}" for i in range(1, workers + 1)]
    processes = [start_worker(bench, name, env) for name in names]
    try:
        for name, process in zip(names, processes, strict=True):
            wait_for(bench.dir / f"{name}.log", "Fleet worker", process, timeout=600)
        bench.note(f"{workers} worker(s) up; warming up for {args.interval}s")
        time.sleep(args.interval)
        cpu_before = sum(harness.tree_cpu_seconds(p.pid) for p in processes)
        server_before = bench.server_cpu_seconds()
        window = (time.time(), time.time() + args.duration)
        time.sleep(args.duration)
        cpu = sum(harness.tree_cpu_seconds(p.pid) for p in processes) - cpu_before
        server = bench.server_cpu_seconds() - server_before
        rss = max(harness.rss_mb(p.pid) for p in processes)
    finally:
        for process in processes:
            stop(process)
    rows = [row for row in poll_rows(database_url, window[0]) if row[1] < window[1]]
    late = lateness(rows, args.interval)
    per_tenant: dict[int, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    shares: dict[str, int] = defaultdict(int)
    for cid, _started, status, worker in rows:
        per_tenant[cid] += 1
        statuses[status] += 1
        shares[worker] += 1
    polls = len(rows)
    p99 = late[int(0.99 * (len(late) - 1))] if late else 0.0
    # a tenant's slots fall anywhere in its interval: the window holds at least this many
    expected = int(args.duration // args.interval)
    return {
        "workers": workers,
        "polls": polls,
        "polls_per_minute": 60 * polls / args.duration,
        "tenants_polled": len(per_tenant),
        "fewest_polls_per_tenant": min(per_tenant.values(), default=0),
        "statuses": dict(statuses),
        "shares": dict(shares),
        "p50_late_s": late[len(late) // 2] if late else 0.0,
        "p99_late_s": p99,
        "workers_cpu_share": cpu / args.duration,
        "server_cpu_share": server / args.duration,
        "cpu_ms_per_poll": 1000 * (cpu + server) / polls if polls else 0.0,
        "worker_rss_mb": rss,
        "on_time": p99 < ON_TIME_P99_SECONDS
        and len(per_tenant) == args.tenants
        and min(per_tenant.values(), default=0) >= expected,
    }


def start_worker(bench: Workbench, name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [harness.python(), "-m", "poller.cli", "run", "--fleet"],
        env={**env, "POLLER_WORKER_NAME": name},
        stdout=(bench.dir / f"{name}.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(log_path: Path, needle: str, process: subprocess.Popen[str], timeout: float) -> float:
    """Seconds until `needle` shows in a worker's log."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if needle in log_path.read_text(errors="replace"):
            return time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"poller run --fleet exited; see {log_path}")
        time.sleep(0.5)
    raise RuntimeError(f"{needle!r} not in {log_path} after {timeout:.0f}s")


async def apply_deployments(configs: list[Any], concurrency: int) -> float:
    """Seconds to apply the per-connection (manual-run) deployments of `configs`."""
    from deployments.serve import ConnectionServer

    server = ConnectionServer(
        Console(stderr=True, quiet=True), scheduled=False, apply_concurrency=concurrency
    )
    started = time.perf_counter()
    await server.apply(configs)
    if len(server.served) != len(configs):
        raise RuntimeError(f"only {len(server.served)} of {len(configs)} deployments applied")
    return time.perf_counter() - started


def _seconds(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.timestamp()


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        pg_databases("prefect", "poller") as urls,
        Workbench(keep=args.keep, prefect_database_url=_asyncpg(urls["prefect"])) as bench,
        harness.start_simulator(bench.dir, 0) as sim,
    ):
        os.environ["POLLER_DATABASE_URL"] = urls["poller"]
        from poller.runtime import store_for
        from poller.settings import get_settings
        from poller.state.engine import create_db_engine, upgrade

        get_settings.cache_clear()
        store_for.cache_clear()
        engine = create_db_engine(urls["poller"])
        upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        configs = asyncio.run(tenants(bench, sim.url, args.tenants, interval=args.interval))
        saved_s = time.perf_counter() - started
        bench.note(f"{len(configs)} tenants saved in {saved_s:.0f}s")
        primed_s = prime(bench, urls["poller"], max(args.workers), args)
        bench.note(f"every tenant polled once (version and fields detected) in {primed_s:.0f}s")
        results = []
        for workers in args.workers:
            results.append(measure(bench, urls["poller"], workers, args))
            bench.note(f"{workers} worker(s): {results[-1]['polls_per_minute']:.0f} polls/min")
        some = configs[: args.deployments]
        applied_s = asyncio.run(apply_deployments(some, args.deploy_concurrency))
        bench.note(f"{len(some)} deployments applied in {applied_s:.0f}s")
    by_count = {r["workers"]: r for r in results}
    ratio = (
        by_count[2]["polls_per_minute"] / by_count[1]["polls_per_minute"]
        if 1 in by_count and 2 in by_count and by_count[1]["polls"]
        else None
    )
    return {
        "tenants": args.tenants,
        "interval": args.interval,
        "duration": args.duration,
        "tick": args.tick,
        "tenants_saved_s": saved_s,
        "primed_s": primed_s,
        "deployments": len(some),
        "deploy_concurrency": args.deploy_concurrency,
        "deployments_applied_s": applied_s,
        "two_to_one": ratio,
        "environment": environment(),
        "runs": results,
    }


def _asyncpg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql+asyncpg://")


def print_report(console: Console, data: dict[str, Any]) -> None:
    table = Table(
        title=f"Fleet workers: {data['tenants']} tenants at a {data['interval']}s interval, "
        f"{data['duration']:.0f}s measured, a tick every {data['tick']:g}s; Prefect on PostgreSQL"
    )
    columns = ("workers", "on time", "polls/min", "p50 late s", "p99 late s", "fewest polls")
    for column in (*columns, "workers CPU", "server CPU", "CPU ms/poll", "RSS MB", "failed"):
        table.add_column(column, justify="right")
    for r in data["runs"]:
        table.add_row(
            str(r["workers"]),
            "yes" if r["on_time"] else "NO",
            f"{r['polls_per_minute']:.0f}",
            f"{r['p50_late_s']:.1f}",
            f"{r['p99_late_s']:.1f}",
            str(r["fewest_polls_per_tenant"]),
            f"{100 * r['workers_cpu_share']:.0f}%",
            f"{100 * r['server_cpu_share']:.0f}%",
            f"{r['cpu_ms_per_poll']:.2f}",
            f"{r['worker_rss_mb']:.0f}",
            str(r["statuses"].get("failed", 0)),
        )
    console.print(table)
    console.print(
        f"{data['tenants']} tenants saved in {data['tenants_saved_s']:.0f}s; every one polled "
        f"once (first polls detect version and fields) in {data['primed_s']:.0f}s"
    )
    ratio = data["two_to_one"]
    console.print(f"two workers to one: {ratio:.2f}" if ratio else "two workers to one: n/a")
    console.print(
        f"{data['deployments']} per-connection deployments applied in "
        f"{data['deployments_applied_s']:.0f}s ({data['deploy_concurrency']} at once)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=10000)
    parser.add_argument("--workers", type=parse_sizes, default=parse_sizes("1,2,3"))
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--deployments", type=int, default=4000)
    parser.add_argument("--deploy-concurrency", type=int, default=4)  # POLLER_DEPLOY_CONCURRENCY
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    harness.publish(Console(width=160), args.json, run(args), print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
