"""Smoke runs of the benchmarks at tiny sizes, so that they cannot rot: each command is run as
a subprocess as documented in benchmarks/README.md, and the shape of its JSON is checked
(timings at these sizes mean nothing).

Starting a Prefect server is most of a smoke run's time, so both commands share one
(`--prefect-api-url`); without that option each command starts its own, as in a real run.
Besides the shape, the figures that cannot be noisy are held exactly (constants below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# Figures that hold at any speed: what the code does, not how fast. Where each comes from:
#: one page: the scan's search_read plus the 8 reads of `poller.odoo.reader.fetch_bundle`
#: (orders; lines, partners, currencies; products, units, countries, states)
READS_PER_PAGE = 8
CALLS_PER_PAGE = 1 + READS_PER_PAGE
#: once per run without a cached session (`OdooClient.open_session`): the version, the
#: login, one fields_get per model of `poller.odoo.fields.RESOLVED_MODELS` (4)
SETUP_CALLS = 1 + 1 + 4
#: a 200-order backlog fills the page of 200 exactly, so the scan needs a second, empty
#: search to see a short page (`poller.poll._scan_and_send`); 10 orders fit in one short page
EXTRA_CALLS_FULL_PAGE = SETUP_CALLS + 1
EXTRA_CALLS_SHORT_PAGE = SETUP_CALLS
#: SQL statements of an empty fleet poll (benchmarks.empty_poll claims every tenant before it
#: measures, and the claim brings the state row): the breaker read (`check_breaker`), the
#: due retries (`has_due_retries`), the lease released (`release`), the sync-log row
#: (`record`); nothing to scan, no versions read, no cursor written (`finish_scan`)
SQL_PER_EMPTY_FLEET_POLL = 4
#: a `poll_connection` flow run adds the state row read by `open_poller` (the poller's
#: `ensure_connection`) and the lease it takes itself (`take_lease`)
SQL_PER_EMPTY_FLOW_RUN = SQL_PER_EMPTY_FLEET_POLL + 2
#: an empty poll asks Odoo one thing: the scan's search_read (the session is cached)
ODOO_CALLS_PER_EMPTY_POLL = 1
#: the naive reader (`benchmarks.raw.Floor.read_one_order`) on the simulator's orders of 5
#: lines: the order, each line, each line's product, the partners, the currency, the units
#: (plus countries and states when the partners have some)
NAIVE_CALLS_PER_ORDER_AT_LEAST = 1 + 5 + 5 + 1 + 1 + 1
#: one `poll_connection` flow run catches up a backlog of one page (it scans to a short page)
FLOW_RUNS_PER_SMALL_BACKLOG = 1


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


def flow_runs(api_url: str, **filters: Any) -> list[dict[str, Any]]:
    """Flow runs on the Prefect server, asked over its REST API (not the benchmark's JSON)."""
    for _ in range(10):
        response = httpx.post(f"{api_url}/flow_runs/filter", json=filters, timeout=30)
        if response.status_code != 503:  # SQLite busy: Prefect's own client retries too
            break
        time.sleep(1)
    response.raise_for_status()
    return response.json()


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
    assert poller["flow_runs"] == FLOW_RUNS_PER_SMALL_BACKLOG
    for reader in (poller, floor):
        assert reader["pages"] == 1
        assert reader["calls_per_page"] == CALLS_PER_PAGE
        assert reader["reads_per_page"] == READS_PER_PAGE
        assert reader["calls_per_run_extra"] == EXTRA_CALLS_FULL_PAGE
    latency = results["latency"]
    assert latency["n"] == 10 and latency["latency_seconds"] == 0.05
    for reader in ("naive", "raw_floor", "poller"):
        positive(latency[reader], "orders_per_second", "calls_per_order")
        assert latency[reader]["orders"] == 10
    for reader in ("raw_floor", "poller"):  # the batch reader, alone and in a flow run
        assert latency[reader]["calls_per_run_extra"] == EXTRA_CALLS_SHORT_PAGE
    assert latency["poller"]["flow_runs"] == FLOW_RUNS_PER_SMALL_BACKLOG
    assert latency["poller"]["odoo_calls"] == latency["raw_floor"]["odoo_calls"]
    assert latency["naive"]["calls_per_order"] >= NAIVE_CALLS_PER_ORDER_AT_LEAST
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
    assert size["poller"]["flow_runs"] == FLOW_RUNS_PER_SMALL_BACKLOG
    assert size["poller"]["calls_per_page"] == CALLS_PER_PAGE
    positive(size["poller"], "peak_rss_mb", "peak_rss_after_imports_mb")
    verdict = results["verdict"]
    positive(verdict, "reference_rss_mb", "largest_rss_mb", "ratio")
    # one size is its own reference (`benchmarks.catchup.rss_reference`)
    assert verdict["reference_n"] == verdict["largest_n"] == 200
    assert verdict["ratio"] == 1.0 and verdict["within_20_percent"] is True
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
        positive(results[mode], "poller_cpu_ms", "total_cpu_ms", "wall_ms")
        assert results[mode]["odoo_calls"] == ODOO_CALLS_PER_EMPTY_POLL
    assert results["no_prefect"]["sql_statements"] == SQL_PER_EMPTY_FLEET_POLL
    assert results["fleet"]["sql_statements"] == SQL_PER_EMPTY_FLEET_POLL
    assert results["flow_run_per_connection"]["sql_statements"] == SQL_PER_EMPTY_FLOW_RUN
    # fleet mode is one flow run per tick, whatever the tenants: the benchmark runs two
    # ticks (`one_tick_flow`: a warm-up, then the measured one) over all 6 tenants
    ticks = flow_runs(fresh_prefect_server, flows={"name": {"any_": ["fleet-tick"]}})
    assert [run["state_type"] for run in ticks] == ["COMPLETED"] * 2
    # and a flow run per connection poll: a warm-up, then `--flow-runs 2`
    per_connection = flow_runs(
        fresh_prefect_server,
        flows={"name": {"any_": ["poll-connection"]}},
        flow_runs={"name": {"like_": "poll tenant-"}},
    )
    assert [run["state_type"] for run in per_connection] == ["COMPLETED"] * 3
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
