"""Memory benchmark (issue 7, benchmark 4): the poller's peak RSS across backlog sizes.

Pages are streamed, never the whole backlog in memory, so the peak must stay flat as N grows:
at 100,000 orders at most 300 MB and within 20% of the 10,000 figure. Each size is caught up
by real `poll_connection` flow runs, each in a fresh child process, exactly as in
`benchmarks.catchup` (same measurement, without the floors); the peak RSS is the child's own
VmHWM. Usage:

    python -m benchmarks.memory [--sizes 1000,10000,100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.catchup import (
    DEFAULT_SIZES,
    RESULTS,
    TARGET_RSS_GROWTH,
    TARGET_RSS_MB,
    BenchError,
    Workbench,
    add_server_options,
    environment,
    measure_poller,
    memory_verdict,
    open_backlog,
    parse_sizes,
    rss_reference,
)


def run_memory(bench: Workbench, sizes: Sequence[int]) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": []}
    for n in sizes:
        with open_backlog(bench, n) as backlog:
            poller = measure_poller(bench, backlog)
        results["sizes"].append({"n": n, "expected": backlog.expected, "poller": poller})
    results["verdict"] = memory_verdict(results["sizes"])
    return results


def _yes(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def print_report(console: Console, results: dict[str, Any]) -> None:
    sizes = results["sizes"]
    reference = rss_reference(sizes)
    assert reference is not None
    base = reference["poller"]["peak_rss_mb"]
    env = results["environment"]
    table = Table(
        title=(
            f"Memory: peak RSS of the poller's flow-run process while catching up N orders "
            f"({env['cpus']} CPUs, Prefect {env['prefect']}, page {env['page_size']})"
        )
    )
    for column in (
        "N",
        "peak RSS MB",
        "RSS after imports MB",
        "growth during the run MB",
        f"vs {reference['n']:,}",
        f"within {TARGET_RSS_GROWTH:.0%}",
        f"under {TARGET_RSS_MB} MB",
        "flow runs",
    ):
        table.add_column(column, justify="right")
    for size in sizes:
        p = size["poller"]
        peak = p["peak_rss_mb"]
        table.add_row(
            f"{size['n']:,}",
            f"{peak:.0f}",
            f"{p['peak_rss_after_imports_mb']:.0f}",
            f"{peak - p['peak_rss_after_imports_mb']:.0f}",
            f"{peak / base:.2f}",
            _yes(peak <= base * (1 + TARGET_RSS_GROWTH)),
            _yes(peak <= TARGET_RSS_MB),
            str(p["flow_runs"]),
        )
    console.print(table)
    verdict = results["verdict"]
    console.print(
        f"peak RSS {verdict['largest_n']:,} / {verdict['reference_n']:,} orders: "
        f"{verdict['largest_rss_mb']:.0f} / {verdict['reference_rss_mb']:.0f} MB = "
        f"{verdict['ratio']:.2f}; within 20% at every size: {_yes(verdict['within_20_percent'])}; "
        f"under {TARGET_RSS_MB} MB: {_yes(verdict['under_300_mb'])}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument(
        "--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="backlog sizes N"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "memory.json", dest="json_path")
    add_server_options(parser)
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 180)  # logs and CI: no wrapping
    started = time.perf_counter()
    try:
        with Workbench(keep=args.keep, prefect_api_url=args.prefect_api_url) as bench:
            results = run_memory(bench, args.sizes)
            results["environment"] = environment()
    except BenchError as exc:
        console.print(f"[red]memory benchmark failed:[/red] {exc}")
        return 1
    results["benchmark_seconds"] = time.perf_counter() - started
    harness.publish(console, args.json_path, results, print_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
