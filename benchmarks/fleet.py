"""`python -m benchmarks.fleet [--sizes 500,1000,2000] [--interval 60] [--duration 180]`:
how many tenants one machine keeps on time in fleet mode.

For each size: that many connections (blocks in a local Prefect server on SQLite, the
simulator serving them all from its own process), `poller run --fleet` in a child process for
`--duration` seconds, then every poll's lateness read from the sync log: how long after it
was due (its previous poll's end plus the interval) it started. A size is kept on time when
no poll was later than 10 s and every tenant was polled as often as the duration allows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.catchup import Workbench, environment, parse_sizes
from benchmarks.empty_poll import tenants

RESULTS = harness.repo_root() / "benchmarks" / "results" / "fleet.json"
ON_TIME_SECONDS = 10.0


def lateness(database_url: str, interval: float) -> dict[str, Any]:
    """Per poll: its start minus (its tenant's previous poll end + interval)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT connection_id, started_at, finished_at, status FROM sync_log "
                "ORDER BY connection_id, started_at"
            )
        ).all()
    engine.dispose()
    by_tenant: dict[int, list[tuple[float, float]]] = defaultdict(list)
    statuses: dict[str, int] = defaultdict(int)
    for connection_id, started, finished, status in rows:
        by_tenant[connection_id].append((_seconds(started), _seconds(finished)))
        statuses[status] += 1
    late = sorted(
        max(0.0, polls[i][0] - (polls[i - 1][1] + interval))
        for polls in by_tenant.values()
        for i in range(1, len(polls))
    )
    return {
        "polls": len(rows),
        "tenants_polled": len(by_tenant),
        "fewest_polls_per_tenant": min((len(p) for p in by_tenant.values()), default=0),
        "statuses": dict(statuses),
        "max_late_s": late[-1] if late else 0.0,
        "p99_late_s": late[int(0.99 * (len(late) - 1))] if late else 0.0,
        "p50_late_s": late[len(late) // 2] if late else 0.0,
    }


def _seconds(value: Any) -> float:
    from datetime import datetime

    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.timestamp()


def run_size(
    bench: Workbench, sim_url: str, size: int, interval: int, duration: float, tick: float
) -> dict[str, Any]:
    database_url = f"sqlite:///{bench.dir / f'fleet-{size}.db'}"
    os.environ["POLLER_DATABASE_URL"] = database_url
    from poller.runtime import store_for
    from poller.settings import get_settings

    get_settings.cache_clear()
    store_for.cache_clear()
    started = time.perf_counter()
    configs = asyncio.run(tenants(bench, sim_url, size, interval=interval, prefix=f"f{size}-"))
    bench.note(f"{len(configs)} tenants saved in {time.perf_counter() - started:.1f}s")
    env = {**bench.child_env(database_url), "POLLER_FLEET_TICK_SECONDS": str(tick)}
    log = (bench.dir / f"fleet-{size}.log").open("w")
    process = subprocess.Popen(
        [harness.python(), "-m", "poller.cli", "run", "--fleet"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ready = _wait_ready(bench.dir / f"fleet-{size}.log", process, timeout=600)
        bench.note(f"fleet serving {size} tenants after {ready:.1f}s; measuring {duration:.0f}s")
        cpu_before, server_before = (
            harness.tree_cpu_seconds(process.pid),
            bench.server_cpu_seconds(),
        )
        time.sleep(duration)
        cpu = harness.tree_cpu_seconds(process.pid) - cpu_before
        server = bench.server_cpu_seconds() - server_before
        rss = harness.rss_mb(process.pid)
    finally:
        _stop(process)
    result = lateness(database_url, interval)
    expected = int(duration // interval)
    result.update(
        {
            "tenants": size,
            "startup_s": ready,
            "poller_cpu_share": cpu / duration,
            "server_cpu_share": server / duration,
            "poller_rss_mb": rss,
            "polls_per_minute": 60 * result["polls"] / (duration + ready),
            "on_time": result["max_late_s"] <= ON_TIME_SECONDS
            and result["tenants_polled"] == size
            and result["fewest_polls_per_tenant"] >= expected,
        }
    )
    return result


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(log_path: Path, process: subprocess.Popen[str], timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if "Fleet mode:" in log_path.read_text(errors="replace"):
            return time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"poller run --fleet exited; see {log_path}")
        time.sleep(0.5)
    raise RuntimeError(f"poller run --fleet was not ready in {timeout:.0f}s; see {log_path}")


def print_report(console: Console, data: dict[str, Any]) -> None:
    table = Table(
        title=f"Fleet mode: tenants at a {data['interval']}s interval, "
        f"{data['duration']:.0f}s measured, a tick every {data['tick']:g}s"
    )
    for column in (
        "tenants",
        "on time",
        "polls/min",
        "max late s",
        "p99 late s",
        "p50 late s",
        "poller CPU",
        "server CPU",
        "poller RSS MB",
        "startup s",
        "failed",
    ):
        table.add_column(column, justify="right")
    for r in data["sizes"]:
        table.add_row(
            str(r["tenants"]),
            "yes" if r["on_time"] else "NO",
            f"{r['polls_per_minute']:.0f}",
            f"{r['max_late_s']:.1f}",
            f"{r['p99_late_s']:.1f}",
            f"{r['p50_late_s']:.1f}",
            f"{100 * r['poller_cpu_share']:.0f}%",
            f"{100 * r['server_cpu_share']:.0f}%",
            f"{r['poller_rss_mb']:.0f}",
            f"{r['startup_s']:.0f}",
            str(r["statuses"].get("failed", 0)),
        )
    console.print(table)
    kept = [r["tenants"] for r in data["sizes"] if r["on_time"]]
    console.print(f"largest size kept on time: {max(kept) if kept else 'none'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("500,1000,2000"))
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--tick", type=float, default=5.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--prefect-api-url", help="use this running Prefect server")
    args = parser.parse_args(argv)
    console = Console(width=150)
    results = []
    with (
        Workbench(prefect_api_url=args.prefect_api_url) as bench,
        harness.start_simulator(bench.dir, 0) as sim,
    ):
        for size in args.sizes:
            bench.note(f"fleet of {size}")
            results.append(run_size(bench, sim.url, size, args.interval, args.duration, args.tick))
    data = {
        "interval": args.interval,
        "duration": args.duration,
        "tick": args.tick,
        "environment": environment(),
        "sizes": results,
    }
    harness.write_json(args.json, data)
    print_report(console, data)
    console.print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
