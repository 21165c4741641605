"""Catch-up benchmark (issue 7, benchmark 1): a backlog of N confirmed orders (5 lines each)
delivered from the Odoo simulator to the webhook receiver over loopback, measured side by side
in the same run:

- poller: the product path, real `poll_connection` flow runs against a local Prefect server
  (the connection saved as a block, SQLite poller database), each flow run in a fresh child
  process whose own peak RSS and CPU time are measured; flow runs repeat until the receiver
  holds every order (one run normally does it all);
- raw floor: the same Odoo calls and mapping with plain httpx, no Prefect, no database
  (`benchmarks/raw.py`, mode `batch`);
- at a small N with 50 ms added to every Odoo call (an Odoo Online tenant): a naive per-order
  reader beside the raw floor and the poller at the same latency and N.

The simulator and the receiver run as separate processes. Usage:

    python -m benchmarks.catchup [--sizes 1000,10000,100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.harness import Service

DEFAULT_SIZES = (1_000, 10_000, 100_000)
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_ORDERS_PER_SECOND = 1_000
TARGET_SHARE_OF_FLOOR = 0.5
TARGET_RSS_MB = 300
TARGET_RSS_GROWTH = 0.20
MAX_FLOW_RUNS = 5


class BenchError(RuntimeError):
    pass


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(n <= 0 for n in sizes):
        raise argparse.ArgumentTypeError("sizes are positive integers, comma separated")
    return sizes


# -- the session: a temporary folder, a local Prefect server, the keys ----------------------


def add_server_options(parser: argparse.ArgumentParser, note: str = "") -> None:
    """`--keep` and `--prefect-api-url`, the options of every benchmark with a Workbench."""
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument(
        "--prefect-api-url",
        metavar="URL",
        help="use this running Prefect server instead of starting a local one "
        f"(its CPU is then not measured{note})",
    )


class Workbench:
    """Everything one benchmark command shares: a temporary folder (logs, SQLite files), one
    local Prefect server, the poller's encryption key and the receiver's webhook secret."""

    def __init__(
        self,
        keep: bool = False,
        profile_dir: Path | None = None,
        prefect_api_url: str | None = None,
        prefect_database_url: str | None = None,
    ) -> None:
        self.keep = keep
        self.prefect_database_url = prefect_database_url  # None: the server's own SQLite
        self.profile_dir = profile_dir
        self.dir = Path(tempfile.mkdtemp(prefix="poller-bench-"))
        self.id = uuid.uuid4().hex[:6]  # in connection names: several runs may share a server
        self.server: Any = None
        self.api_url = prefect_api_url or ""
        self.key = ""
        self.secret = ""
        self.console = Console(stderr=True)

    def __enter__(self) -> Workbench:
        from poller.crypto import generate_key
        from poller.delivery.signing import generate_webhook_secret

        self.key = generate_key()
        self.secret = generate_webhook_secret()
        home = self.dir / "prefect-home"
        home.mkdir()
        # Before anything imports prefect: this process and every child use this server.
        os.environ["PREFECT_HOME"] = str(home)
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        os.environ["POLLER_ENCRYPTION_KEY"] = self.key
        # Nobody looks at the UI here, and serving it adds ~5 s to the server's start.
        os.environ["PREFECT_UI_ENABLED"] = os.environ["PREFECT_SERVER_UI_ENABLED"] = "false"
        if not self.api_url:
            from deployments.local_server import LocalPrefectServer

            self.note("starting a local Prefect server")
            started = time.perf_counter()
            self.server = LocalPrefectServer(
                self.dir / "prefect", database_url=self.prefect_database_url
            ).start(timeout=180)
            self.api_url = self.server.api_url
            self.note(f"Prefect server ready in {time.perf_counter() - started:.1f}s")
        os.environ["PREFECT_API_URL"] = self.api_url
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if self.server is not None:
            self.server.stop()
        if self.keep or exc_type is not None:
            self.note(f"logs and databases kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    def server_cpu_seconds(self) -> float:
        """CPU seconds of the Prefect server's processes (0 for a server started elsewhere)."""
        return harness.tree_cpu_seconds(self.server.process.pid) if self.server else 0.0

    def profiled(self, argv: list[str], name: str) -> list[str]:
        """`argv` under py-spy (raw collapsed stacks in the profile folder) with --profile."""
        if self.profile_dir is None:
            return argv
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        out = self.profile_dir / f"{name}.txt"
        return [py_spy, "record", "--rate", "200", "--format", "raw", "-o", str(out), "--", *argv]

    def child_env(self, database_url: str) -> dict[str, str]:
        return harness.base_env(
            PREFECT_API_URL=self.api_url,
            PREFECT_HOME=os.environ["PREFECT_HOME"],
            POLLER_ENCRYPTION_KEY=self.key,
            POLLER_DATABASE_URL=database_url,
        )


@dataclass
class Backlog:
    """A simulator holding `n` generated orders and a receiver, each in its own process."""

    n: int
    latency_seconds: float
    sim: Service
    receiver: Service
    since: datetime  # the connection's starting cursor: just before the first generated order
    lower_bound: str  # the scan's `write_date >= T`: the cursor minus the overlap window
    expected: int  # confirmed orders the scan goes through (the simulator's own count)
    tag: str

    @property
    def webhook_url(self) -> str:
        return f"{self.receiver.url}/webhooks"

    def reset(self) -> None:
        harness.reset_receiver(self.receiver.url)
        harness.reset_odoo_calls(self.sim.url)


@contextmanager
def open_backlog(
    bench: Workbench, n: int, *, latency_seconds: float = 0.0, tag: str | None = None
) -> Iterator[Backlog]:
    from poller.clock import to_odoo
    from poller.cursor import start_scan
    from poller.settings import Settings

    tag = tag or str(n)
    before = datetime.now(UTC).replace(microsecond=0)
    since = before - timedelta(milliseconds=n) - timedelta(seconds=2)
    lower_bound = start_scan(to_odoo(since), Settings().overlap_seconds).lower_bound
    bench.note(f"simulator with {n:,} orders ({latency_seconds * 1000:.0f} ms per call)")
    with ExitStack() as stack:
        started = time.perf_counter()
        sim = stack.enter_context(
            harness.start_simulator(bench.dir, n, latency_seconds=latency_seconds)
        )
        receiver = stack.enter_context(harness.start_receiver(bench.dir, bench.secret, tag))
        expected = harness.count_confirmed(sim.url, lower_bound)
        bench.note(
            f"simulator ({sim.rss_mb():.0f} MB) and receiver up in "
            f"{time.perf_counter() - started:.1f}s; the scan covers {expected:,} orders"
        )
        yield Backlog(n, latency_seconds, sim, receiver, since, lower_bound, expected, tag)


def _child_timeout(n: int, latency_seconds: float) -> float:
    return 600 + n * (0.05 + 40 * latency_seconds)


# -- the poller: real flow runs in child processes ------------------------------------------


def measure_poller(bench: Workbench, backlog: Backlog) -> dict[str, Any]:
    from poller.blocks import save_connection
    from poller.connections import ConnectionConfig
    from poller.crypto import SecretBox
    from poller.runtime import store_for

    name = f"bench-{backlog.tag}-{bench.id}"
    database_url = f"sqlite:///{bench.dir / f'poller-{backlog.tag}.db'}"
    box = SecretBox(bench.key)
    config = ConnectionConfig(
        name=name,
        odoo_url=backlog.sim.url,  # type: ignore[arg-type]
        database=harness.ODOO_DATABASE,
        username=harness.ODOO_LOGIN,
        api_key_encrypted=box.encrypt(harness.ODOO_API_KEY),
        webhook_url=backlog.webhook_url,  # type: ignore[arg-type]
        webhook_secret_encrypted=box.encrypt(bench.secret),
    )
    asyncio.run(save_connection(config))
    store_for(database_url).states.ensure_connection(name, since=backlog.since)
    backlog.reset()
    cpu_before = _service_cpu(bench, backlog)
    env = bench.child_env(database_url)
    runs: list[harness.ChildResult] = []
    unique = 0
    started = time.perf_counter()
    while unique < backlog.expected:
        if len(runs) == MAX_FLOW_RUNS:
            raise BenchError(
                f"{len(runs)} flow runs delivered {unique:,} of {backlog.expected:,} orders"
            )
        run = harness.run_child(
            bench.profiled(
                [harness.python(), "-m", "benchmarks.flow_child", name],
                f"flow-{backlog.tag}-{len(runs) + 1}",
            ),
            env,
            timeout=_child_timeout(backlog.n, backlog.latency_seconds),
            stderr_path=bench.dir / f"flow-{backlog.tag}.log",
        )
        runs.append(run)
        if run.returncode != 0:
            raise BenchError(
                f"flow run {len(runs)} for {name} failed (exit {run.returncode}): "
                f"{run.report.get('message')}\n{run.stderr_tail}"
            )
        unique = harness.receiver_stats(backlog.receiver.url)["unique"]
        bench.note(
            f"poller flow run {len(runs)}: {run.report.get('state')} in "
            f"{run.report.get('flow_seconds', 0):.1f}s ({run.wall_seconds:.1f}s with process "
            f"start), peak RSS {run.peak_rss_mb:.0f} MB; receiver has {unique:,}"
        )
    wall = time.perf_counter() - started
    stats = harness.receiver_stats(backlog.receiver.url)
    calls = harness.odoo_calls(backlog.sim.url)
    log = (bench.dir / f"flow-{backlog.tag}.log").read_text(errors="replace")
    flow_seconds = sum(r.report["flow_seconds"] for r in runs)
    return {
        "orders": stats["unique"],
        "flow_runs": len(runs),
        "task_retries": log.count("Task run failed with exception"),
        "states": [r.report.get("state") for r in runs],
        "summaries": [r.report.get("message") for r in runs],
        "flow_seconds": flow_seconds,
        "import_seconds": sum(r.report["import_seconds"] for r in runs),
        "wall_seconds": wall,
        "orders_per_second": stats["unique"] / flow_seconds,
        "orders_per_second_with_process_start": stats["unique"] / wall,
        "cpu_seconds": sum(r.cpu_seconds for r in runs),
        "flow_cpu_seconds": sum(r.report["flow_cpu_seconds"] for r in runs),
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
        "peak_rss_after_imports_mb": max(r.report["peak_rss_before_flow_mb"] for r in runs),
        "peak_rss_at_flow_end_mb": max(r.report["peak_rss_mb"] for r in runs),
        "receiver": stats,
        **_service_cpu_delta(bench, backlog, cpu_before, sum(r.cpu_seconds for r in runs)),
        **_calls(calls, backlog.expected),
    }


# -- the floors: plain httpx, no Prefect, no database ---------------------------------------


def measure_raw(bench: Workbench, backlog: Backlog, mode: str = "batch") -> dict[str, Any]:
    backlog.reset()
    cpu_before = _service_cpu(bench, backlog)
    config = {
        "mode": mode,
        "odoo_url": backlog.sim.url,
        "database": harness.ODOO_DATABASE,
        "login": harness.ODOO_LOGIN,
        "api_key": harness.ODOO_API_KEY,
        "webhook_url": backlog.webhook_url,
        "webhook_secret": bench.secret,
        "lower_bound": backlog.lower_bound,
    }
    run = harness.run_child(
        bench.profiled([harness.python(), "-m", "benchmarks.raw"], f"{mode}-{backlog.tag}"),
        harness.base_env(BENCH_CONFIG=json.dumps(config)),
        timeout=_child_timeout(backlog.n, backlog.latency_seconds),
        stderr_path=bench.dir / f"raw-{mode}-{backlog.tag}.log",
    )
    if run.returncode != 0 or not run.report:
        raise BenchError(f"the {mode} reader failed (exit {run.returncode}):\n{run.stderr_tail}")
    stats = harness.receiver_stats(backlog.receiver.url)
    if stats["unique"] != backlog.expected:
        raise BenchError(
            f"the {mode} reader delivered {stats['unique']:,} of {backlog.expected:,} orders"
        )
    calls = harness.odoo_calls(backlog.sim.url)
    report = run.report
    bench.note(
        f"{mode} reader: {stats['unique']:,} orders in {report['wall_seconds']:.1f}s, "
        f"peak RSS {run.peak_rss_mb:.0f} MB"
    )
    return {
        "orders": stats["unique"],
        "wall_seconds": report["wall_seconds"],
        "orders_per_second": stats["unique"] / report["wall_seconds"],
        "cpu_seconds": report["cpu_seconds"],
        "process_cpu_seconds": run.cpu_seconds,
        "peak_rss_mb": run.peak_rss_mb,
        "receiver": stats,
        **_service_cpu_delta(bench, backlog, cpu_before, run.cpu_seconds),
        **_calls(calls, backlog.expected),
    }


def _service_cpu(bench: Workbench, backlog: Backlog) -> tuple[float, ...]:
    return (
        backlog.sim.cpu_seconds(),
        backlog.receiver.cpu_seconds(),
        bench.server_cpu_seconds(),
        harness.own_cpu_seconds(),
        harness.system_busy_seconds(),
        time.perf_counter(),
    )


def _service_cpu_delta(
    bench: Workbench,
    backlog: Backlog,
    before: tuple[float, ...],
    children_cpu_seconds: float,
) -> dict[str, float]:
    """CPU of the simulator, the receiver and the Prefect server during a measurement, and
    the CPU that none of the benchmark's processes used (`foreign_cpu_seconds`: other work on
    the machine, which makes the measurement noisy when it is more than a few percent)."""
    after = _service_cpu(bench, backlog)
    sim, receiver, server, parent, busy, wall = (a - b for a, b in zip(after, before, strict=True))
    ours = sim + receiver + server + parent + children_cpu_seconds
    foreign = max(0.0, busy - ours)
    return {
        "simulator_cpu_seconds": sim,
        "receiver_cpu_seconds": receiver,
        "prefect_server_cpu_seconds": server,
        "foreign_cpu_seconds": foreign,
        "foreign_load_cpus": foreign / wall if wall > 0 else 0.0,
    }


def _calls(calls: harness.OdooCalls, orders: int, page_size: int = 200) -> dict[str, Any]:
    """Odoo calls per page: the scan's search plus the batch reads, per page holding orders;
    what a run adds once (version, authenticate, fields_get, the closing short search) is
    counted apart as `calls_per_run_extra`."""
    pages = max(1, math.ceil(orders / page_size))
    return {
        "odoo_calls": calls.as_json(),
        "pages": pages,
        "calls_per_page": 1 + calls.reads / pages,
        "reads_per_page": calls.reads / pages,
        "calls_per_run_extra": calls.setup + calls.searches - pages,
        "calls_per_order": calls.total / max(1, orders),
    }


# -- the command ------------------------------------------------------------------------------


def run_catchup(
    bench: Workbench,
    sizes: Sequence[int],
    *,
    naive_orders: int,
    naive_latency: float,
) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": []}
    for n in sizes:
        with open_backlog(bench, n) as backlog:
            raw = measure_raw(bench, backlog, "batch")
            poller = measure_poller(bench, backlog)
            poller["share_of_raw_floor"] = poller["orders_per_second"] / raw["orders_per_second"]
            results["sizes"].append(
                {"n": n, "expected": backlog.expected, "poller": poller, "raw_floor": raw}
            )
    if naive_orders:
        tag = f"naive-{naive_orders}"
        with open_backlog(bench, naive_orders, latency_seconds=naive_latency, tag=tag) as backlog:
            results["latency"] = {
                "n": naive_orders,
                "expected": backlog.expected,
                "latency_seconds": naive_latency,
                "naive": measure_raw(bench, backlog, "naive"),
                "raw_floor": measure_raw(bench, backlog, "batch"),
                "poller": measure_poller(bench, backlog),
            }
    results["targets"] = targets(results)
    return results


def environment() -> dict[str, Any]:
    from prefect import __version__ as prefect_version

    from poller.settings import Settings

    settings = Settings()
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "prefect": prefect_version,
        "page_size": settings.page_size,
        "send_concurrency": settings.send_concurrency,
        "read_chunk_size": settings.read_chunk_size,
        "lines_per_order": 5,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def rss_reference(sizes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The 10,000 figure the memory target compares with (the smallest size when absent)."""
    if not sizes:
        return None
    return next((s for s in sizes if s["n"] == 10_000), min(sizes, key=lambda s: s["n"]))


def memory_verdict(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    reference = rss_reference(sizes)
    if reference is None:
        return {}
    base = reference["poller"]["peak_rss_mb"]
    largest = max(sizes, key=lambda s: s["n"])
    peak = largest["poller"]["peak_rss_mb"]
    return {
        "reference_n": reference["n"],
        "reference_rss_mb": base,
        "largest_n": largest["n"],
        "largest_rss_mb": peak,
        "ratio": peak / base,
        "within_20_percent": all(
            s["poller"]["peak_rss_mb"] <= base * (1 + TARGET_RSS_GROWTH) for s in sizes
        ),
        "under_300_mb": all(s["poller"]["peak_rss_mb"] <= TARGET_RSS_MB for s in sizes),
    }


def targets(results: dict[str, Any]) -> dict[str, Any]:
    sizes = results["sizes"]
    per_page = [s["poller"]["calls_per_page"] for s in sizes]
    return {
        "orders_per_second_at_least_1000": all(
            s["poller"]["orders_per_second"] >= TARGET_ORDERS_PER_SECOND for s in sizes
        ),
        "at_least_half_the_raw_floor": all(
            s["poller"]["share_of_raw_floor"] >= TARGET_SHARE_OF_FLOOR for s in sizes
        ),
        # Constant: independent of N. Within 1%, because a task retry after a transient
        # transport error repeats a page's calls (`task_retries` counts them).
        "calls_per_page_constant": bool(per_page) and max(per_page) <= min(per_page) * 1.01,
        "memory": memory_verdict(sizes),
    }


def _yes(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]missed[/red]"


def print_report(console: Console, results: dict[str, Any]) -> None:
    env = results["environment"]
    table = Table(
        title=(
            f"Catch-up: N orders x 5 lines, simulator -> receiver on loopback "
            f"({env['cpus']} CPUs, Prefect {env['prefect']}, page {env['page_size']}, "
            f"send concurrency {env['send_concurrency']})"
        )
    )
    for column in (
        "N",
        "poller orders/s",
        "poller orders/s\nwith process start",
        "raw floor orders/s",
        "poller / floor",
        "Odoo calls/page\n(+ per run)",
        "poller peak RSS MB",
        "poller CPU s\n(child)",
        "Prefect server\nCPU s",
        "flow runs",
        "other load, CPUs\n(poller / floor)",
    ):
        table.add_column(column, justify="right")
    for size in results["sizes"]:
        p, r = size["poller"], size["raw_floor"]
        table.add_row(
            f"{size['n']:,}",
            f"{p['orders_per_second']:,.0f}",
            f"{p['orders_per_second_with_process_start']:,.0f}",
            f"{r['orders_per_second']:,.0f}",
            f"{p['share_of_raw_floor']:.2f}",
            f"{p['calls_per_page']:.2f} (+{p['calls_per_run_extra']})",
            f"{p['peak_rss_mb']:.0f}",
            f"{p['cpu_seconds']:.1f}",
            f"{p['prefect_server_cpu_seconds']:.1f}",
            str(p["flow_runs"]),
            f"{p['foreign_load_cpus']:.2f} / {r['foreign_load_cpus']:.2f}",
        )
    console.print(table)
    latency = results.get("latency")
    if latency:
        slow = Table(
            title=(
                f"At {latency['latency_seconds'] * 1000:.0f} ms per Odoo call (an Odoo Online "
                f"tenant), small N = {latency['n']:,} orders"
            )
        )
        for column in ("reader", "orders/s", "wall s", "Odoo calls", "calls/order"):
            slow.add_column(column, justify="right")
        for label, key, wall in (
            ("naive per-order reader", "naive", "wall_seconds"),
            ("batch reader (raw floor)", "raw_floor", "wall_seconds"),
            ("poller flow run (batch reader)", "poller", "flow_seconds"),
        ):
            row = latency[key]
            slow.add_row(
                label,
                f"{row['orders_per_second']:,.1f}",
                f"{row[wall]:.1f}",
                f"{row['odoo_calls']['total']:,}",
                f"{row['calls_per_order']:.2f}",
            )
        console.print(slow)
    print_targets(console, results)


def print_targets(console: Console, results: dict[str, Any]) -> None:
    t = results["targets"]
    memory = t.get("memory") or {}
    lines = [
        f"catch-up >= {TARGET_ORDERS_PER_SECOND:,} orders/s: "
        + _yes(t["orders_per_second_at_least_1000"]),
        "catch-up >= half the raw floor: " + _yes(t["at_least_half_the_raw_floor"]),
        "Odoo calls per page constant: " + _yes(t["calls_per_page_constant"]),
    ]
    if memory:
        lines.append(
            f"peak RSS {memory['largest_n']:,} / {memory['reference_n']:,} orders: "
            f"{memory['largest_rss_mb']:.0f} / {memory['reference_rss_mb']:.0f} MB = "
            f"{memory['ratio']:.2f}; within 20%: {_yes(memory['within_20_percent'])}; "
            f"under {TARGET_RSS_MB} MB: {_yes(memory['under_300_mb'])}"
        )
    for line in lines:
        console.print(line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.catchup", description=__doc__)
    parser.add_argument(
        "--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="backlog sizes N"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "catchup.json", dest="json_path")
    parser.add_argument(
        "--naive-orders",
        type=int,
        default=100,
        help="N of the per-order vs batch comparison at Odoo Online latency (0 skips it)",
    )
    parser.add_argument("--naive-latency", type=float, default=0.05, help="seconds per Odoo call")
    add_server_options(parser)
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run every measured child under py-spy, collapsed stacks into DIR "
        "(the numbers of such a run are perturbed: use it to find costs, not to report them)",
    )
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 180)  # logs and CI: no wrapping
    started = time.perf_counter()
    try:
        with Workbench(
            keep=args.keep, profile_dir=args.profile, prefect_api_url=args.prefect_api_url
        ) as bench:
            results = run_catchup(
                bench, args.sizes, naive_orders=args.naive_orders, naive_latency=args.naive_latency
            )
            results["environment"] = environment()
    except BenchError as exc:
        console.print(f"[red]catch-up benchmark failed:[/red] {exc}")
        return 1
    results["benchmark_seconds"] = time.perf_counter() - started
    harness.publish(console, args.json_path, results, print_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
