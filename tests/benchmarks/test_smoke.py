"""Smoke runs of the benchmarks at tiny sizes, so that they cannot rot: each command is run as
a subprocess as documented in benchmarks/README.md, and the shape of its JSON is checked
(numbers at these sizes mean nothing).

Starting a Prefect server is most of a smoke run's time, so both commands share one
(`--prefect-api-url`); without that option each command starts its own, as in a real run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(module: str, api_url: str | None, json_path: Path, *args: str) -> str:
    """Run `python -m <module>`; its stdout once it exited 0. Without `api_url` the benchmark
    starts its own Prefect server."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    options = ["--json", str(json_path)]
    if api_url:
        options += ["--prefect-api-url", api_url]
    done = subprocess.run(
        [sys.executable, "-m", module, *args, *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def positive(row: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert isinstance(row[key], int | float) and row[key] > 0, (key, row[key])


def test_catchup_smoke(fresh_prefect_server: str, tmp_path: Path) -> None:
    out = tmp_path / "catchup.json"
    stdout = run_benchmark(
        "benchmarks.catchup", fresh_prefect_server, out, "--sizes", "200", "--naive-orders", "10"
    )
    results = json.loads(out.read_text())
    (size,) = results["sizes"]
    assert size["n"] == 200 and size["expected"] == 200
    poller, floor = size["poller"], size["raw_floor"]
    assert poller["orders"] == floor["orders"] == 200
    assert poller["receiver"]["redeliveries"] == 0 and poller["receiver"]["rejected"] == 0
    positive(
        poller,
        "orders_per_second",
        "orders_per_second_with_process_start",
        "share_of_raw_floor",
        "peak_rss_mb",
        "cpu_seconds",
        "flow_runs",
    )
    positive(floor, "orders_per_second", "peak_rss_mb", "cpu_seconds")
    assert poller["calls_per_page"] == floor["calls_per_page"] == 9  # 1 search + 8 reads
    latency = results["latency"]
    assert latency["n"] == 10 and latency["latency_seconds"] == 0.05
    for reader in ("naive", "raw_floor", "poller"):
        positive(latency[reader], "orders_per_second", "calls_per_order")
        assert latency[reader]["orders"] == 10
    assert latency["naive"]["calls_per_order"] > latency["raw_floor"]["calls_per_order"]
    assert set(results["targets"]) >= {
        "orders_per_second_at_least_1000",
        "at_least_half_the_raw_floor",
        "calls_per_page_constant",
        "memory",
    }
    positive(results["environment"], "cpus", "page_size")
    assert "Catch-up" in stdout and "naive per-order reader" in stdout


def test_memory_smoke(fresh_prefect_server: str, tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    stdout = run_benchmark("benchmarks.memory", fresh_prefect_server, out, "--sizes", "200")
    results = json.loads(out.read_text())
    (size,) = results["sizes"]
    assert size["n"] == 200 and size["poller"]["orders"] == 200
    positive(size["poller"], "peak_rss_mb", "peak_rss_after_imports_mb")
    verdict = results["verdict"]
    positive(verdict, "reference_rss_mb", "largest_rss_mb", "ratio")
    assert isinstance(verdict["within_20_percent"], bool)
    assert isinstance(verdict["under_300_mb"], bool)
    assert "Memory" in stdout


def test_empty_poll_smoke(fresh_prefect_server: str, tmp_path: Path) -> None:
    out = tmp_path / "empty_poll.json"
    stdout = run_benchmark(
        "benchmarks.empty_poll", fresh_prefect_server, out, "--tenants", "6", "--flow-runs", "2"
    )
    results = json.loads(out.read_text())["results"]
    assert results["fleet"]["polls"] == results["no_prefect"]["polls"] == 6
    assert results["flow_run_per_connection"]["polls"] == 2
    for mode in ("fleet", "no_prefect", "flow_run_per_connection"):
        positive(results[mode], "poller_cpu_ms", "total_cpu_ms", "wall_ms", "sql_statements")
        assert results[mode]["odoo_calls"] == 1  # an empty poll is one search_read
    assert "fleet mode <= 10 ms CPU per empty poll" in stdout


@pytest.mark.postgres
def test_fleet_smoke(tmp_path: Path) -> None:
    """Prefect and the poller on PostgreSQL: one then two `poller run --fleet` workers share
    every tenant, and the per-connection deployments are applied."""
    out = tmp_path / "fleet.json"
    stdout = run_benchmark(
        "benchmarks.fleet",
        None,
        out,
        # three slots per tenant in the window: a late poll at one edge leaves at least two
        *("--tenants", "6", "--workers", "1,2", "--interval", "5", "--duration", "15"),
        *("--deployments", "3"),
    )
    data = json.loads(out.read_text())
    one, two = data["runs"]
    for run in (one, two):
        assert run["tenants_polled"] == 6 and run["fewest_polls_per_tenant"] >= 2
        assert run["statuses"].get("failed", 0) == 0
    assert set(two["shares"]) <= {"w2-1", "w2-2"} and set(one["shares"]) == {"w1-1"}
    assert data["deployments"] == 3 and data["deployments_applied_s"] > 0
    assert "two workers to one" in stdout


def test_http_client_smoke(tmp_path: Path) -> None:
    out = tmp_path / "http_client.json"
    stdout = run_benchmark("benchmarks.http_client", None, out, "--posts", "200")
    results = json.loads(out.read_text())
    for client in ("httpx", "streams"):
        assert results[client]["posts"] == 200  # the receiver verified every one
        positive(results[client], "client_cpu_ms_per_post", "posts_per_second")
    assert "bare asyncio stream" in stdout
