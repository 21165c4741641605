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
from benchmarks.catchup import Workbench, add_server_options, environment, parse_sizes
from benchmarks.empty_poll import tenants

RESULTS = harness.repo_root() / "benchmarks" / "results" / "fleet.json"
ON_TIME_SECONDS = 10.0


def lateness(database_url: str, interval: float, window: tuple[float, float]) -> dict[str, Any]:
    """Per poll started inside `window` (epoch seconds): its start minus (its tenant's
    previous poll end + interval)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT connection_id, started_at, finished_at, status, error FROM sync_log "
                "ORDER BY connection_id, started_at"
            )
        ).all()
    engine.dispose()
    by_tenant: dict[int, list[tuple[float, float]]] = defaultdict(list)
    statuses: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    late: list[float] = []
    in_window: dict[int, int] = defaultdict(int)
    for connection_id, started, finished, status, error in rows:
        polls = by_tenant[connection_id]
        polls.append((_seconds(started), _seconds(finished)))
        if not window[0] <= polls[-1][0] < window[1]:
            continue
        in_window[connection_id] += 1
        statuses[status] += 1
        if error:
            errors[error.split(":")[0][:120]] += 1
        if len(polls) > 1:
            late.append(max(0.0, polls[-1][0] - (polls[-2][1] + interval)))
    late.sort()
    return {
        "polls": sum(in_window.values()),
        "tenants_polled": len(in_window),
        "fewest_polls_per_tenant": min(in_window.values(), default=0),
        "statuses": dict(statuses),
        "errors": dict(sorted(errors.items(), key=lambda item: -item[1])[:5]),
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
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: bench.api_url}):  # this size's own server
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
    log_path = bench.dir / f"fleet-{size}.log"
    try:
        ready = _wait_for(log_path, "Fleet mode:", process, timeout=600)
        bench.note(f"fleet polling {size} tenants after {ready:.1f}s")
        deployed = _wait_for(log_path, "deployments ready for manual runs", process, 1800)
        bench.note(f"{size} deployments applied after {deployed:.0f}s; measuring {duration:.0f}s")
        cpu_before, server_before = (
            harness.tree_cpu_seconds(process.pid),
            bench.server_cpu_seconds(),
        )
        window = (time.time(), time.time() + duration)
        time.sleep(duration)
        cpu = harness.tree_cpu_seconds(process.pid) - cpu_before
        server = bench.server_cpu_seconds() - server_before
        rss = harness.rss_mb(process.pid)
    finally:
        _stop(process)
    result = lateness(database_url, interval, window)
    # a tenant's polls fall anywhere in its interval: the window holds at least this many
    expected = int(duration // interval) - 1
    result.update(
        {
            "tenants": size,
            "startup_s": ready,
            "deployments_applied_s": deployed,
            "poller_cpu_share": cpu / duration,
            "server_cpu_share": server / duration,
            "poller_rss_mb": rss,
            "polls_per_minute": 60 * result["polls"] / duration,
            "on_time": result["max_late_s"] <= ON_TIME_SECONDS
            and result["tenants_polled"] == size
            and result["fewest_polls_per_tenant"] >= expected
            and not result["statuses"].get("failed"),
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


def _wait_for(log_path: Path, needle: str, process: subprocess.Popen[str], timeout: float) -> float:
    """Seconds until `needle` shows in the fleet's log (counted from now)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if needle in log_path.read_text(errors="replace"):
            return time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"poller run --fleet exited; see {log_path}")
        time.sleep(0.5)
    raise RuntimeError(f"{needle!r} not in {log_path} after {timeout:.0f}s")


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
        "deploy s",
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
            f"{r['startup_s'] + r['deployments_applied_s']:.0f}",
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
    add_server_options(parser, note="; give one size: sizes on one server add up")
    args = parser.parse_args(argv)
    console = Console(width=150)
    results = []
    for size in args.sizes:  # a Prefect server each: `poller run` polls every block it holds
        with (
            Workbench(keep=args.keep, prefect_api_url=args.prefect_api_url) as bench,
            harness.start_simulator(bench.dir, 0) as sim,
        ):
            bench.note(f"fleet of {size}")
            results.append(run_size(bench, sim.url, size, args.interval, args.duration, args.tick))
    data = {
        "interval": args.interval,
        "duration": args.duration,
        "tick": args.tick,
        "environment": environment(),
        "sizes": results,
    }
    harness.publish(console, args.json, data, print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
