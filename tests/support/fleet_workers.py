"""Fleet workers as a user runs them: `poller run --fleet` processes, each in its own process
group, sharing one PostgreSQL poller database and one Prefect server; tenants that all reach
one simulated shop through their own `/t/<tag>` URL, so the simulator's call log tells the
tenants apart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from poller.connections import ConnectionConfig

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and anything it started."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return self.process.returncode


def start_worker(name: str, env: dict[str, str], folder: Path) -> Worker:
    log = folder / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "poller.cli", "run", "--fleet"],
        cwd=ROOT,
        env={**env, "POLLER_WORKER_NAME": name, "COLUMNS": "200"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Worker(name, process, log)


def wait_until_ready(workers: Iterable[Worker], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for worker in workers:
        while f"Fleet worker {worker.name}" not in worker.output():
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{worker.name} did not start:\n{worker.output()}")
            time.sleep(0.2)


def tenant_configs(base: ConnectionConfig, sim_url: str, count: int, interval: int):
    return [
        base.model_copy(
            update={
                "name": f"t{i:03d}",
                "odoo_url": f"{sim_url}/t/t{i:03d}",
                "poll_interval_seconds": interval,
            }
        )
        for i in range(count)
    ]


def save_blocks(configs: list[ConnectionConfig], api_url: str) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from poller.blocks import save_connections

    with temporary_settings({PREFECT_API_URL: api_url}):
        asyncio.run(save_connections(configs, concurrency=8))


@dataclass(frozen=True)
class Poll:
    """One poll as the simulator saw it: a run of one tenant's calls with no long pause."""

    tenant: str
    started: float
    ended: float
    scans: int  # `sale.order` search_read calls: one per page
    concurrent: bool  # two of its calls were in flight at once


def polls_by_tenant(sim_url: str, pause: float = 2.0) -> dict[str, list[Poll]]:
    """The simulator's own call log cut into polls: calls of one tenant closer than `pause`
    seconds belong to one poll."""
    calls = httpx.get(f"{sim_url}/sim/tenant-calls", timeout=30).json()["calls"]
    by_tenant: dict[str, list[list]] = defaultdict(list)
    for call in calls:
        by_tenant[call[0]].append(call)
    polls: dict[str, list[Poll]] = {}
    for tenant, tenant_calls in by_tenant.items():
        tenant_calls.sort(key=lambda call: call[3])
        groups: list[list[list]] = []
        for call in tenant_calls:
            if groups and call[3] - max(c[4] for c in groups[-1]) < pause:
                groups[-1].append(call)
            else:
                groups.append([call])
        polls[tenant] = [_poll(tenant, group) for group in groups]
    return polls


def _poll(tenant: str, calls: list[list]) -> Poll:
    ends = [calls[0][4]]
    concurrent = False
    for call in calls[1:]:
        concurrent = concurrent or call[3] < max(ends)
        ends.append(call[4])
    scans = sum(1 for c in calls if c[1] == "sale.order" and c[2] == "search_read")
    return Poll(tenant, calls[0][3], max(ends), scans, concurrent)
