"""What the benchmarks share: servers in their own processes, measured child processes, and
the small HTTP calls that read the simulator's and the receiver's counters.

The simulator and the receiver run as separate processes so that their CPU and memory are
never counted as the poller's; every measured side (the poller's flow run, the raw floor,
the naive reader) runs in a fresh child process whose own peak RSS and CPU time come from
`os.wait4` when it exits.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ODOO_DATABASE = "bench"
ODOO_LOGIN = "admin"
ODOO_API_KEY = "bench-api-key-7c41"
RESULT_MARK = "BENCH-RESULT "
_URL = re.compile(r"on (http://[0-9.]+:\d+)")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def python() -> str:
    return sys.executable


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def base_env(**extra: str) -> dict[str, str]:
    """The environment of every process a benchmark starts: the repository importable,
    Prefect's analytics off, plus `extra`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.update(extra)
    return env


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of a process and everything in
    its process group; Linux only (0.0 elsewhere)."""
    total = 0.0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0.0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, pgid = int(entry), int(fields[2])
        if pid == root_pid or pgid == root_pid:
            utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
            total += (utime + stime + cutime + cstime) / _TICK
    return total


def system_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot, all CPUs together (user, nice,
    system, irq, softirq; not idle, iowait or steal): with the CPU of the processes a
    benchmark knows, it tells how much CPU something else took during a measurement."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / _TICK


def rss_mb(pid: int) -> float:
    """Current resident set size of a process, in MB (0.0 when unknown)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Service:
    """A server (`python -m odoo_sim.odoo`, `python -m odoo_sim.receiver`) in its own
    process and session; its URL is read from the line it prints when it listens."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 300.0) -> Service:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv,
            env=base_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _URL.search(self.log_path.read_text(errors="replace"))
            if match:
                self.url = match.group(1)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid) if self.process else 0.0

    def rss_mb(self) -> float:
        return rss_mb(self.pid) if self.process else 0.0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_simulator(
    log_dir: Path, generated: int, *, lines_per_order: int = 5, latency_seconds: float = 0.0
) -> Service:
    argv = [
        python(),
        "-m",
        "odoo_sim.odoo",
        "--port",
        "0",
        "--database",
        ODOO_DATABASE,
        "--login",
        ODOO_LOGIN,
        "--api-key",
        ODOO_API_KEY,
        "--generated",
        str(generated),
        "--lines-per-order",
        str(lines_per_order),
        "--latency-seconds",
        str(latency_seconds),
        "--recorded-times",  # the seeded shop stays hours in the past, out of the scan
    ]
    return Service(f"simulator ({generated} orders)", argv, log_dir / f"sim-{generated}.log")


def start_receiver(log_dir: Path, secret: str, tag: str) -> Service:
    argv = [
        python(),
        "-m",
        "odoo_sim.receiver",
        "--port",
        "0",
        "--secret",
        secret,
        "--no-keep-bodies",
    ]
    return Service(f"receiver ({tag})", argv, log_dir / f"receiver-{tag}.log")


# -- counters over HTTP ----------------------------------------------------------------------


def receiver_stats(url: str) -> dict[str, int]:
    return httpx.get(f"{url}/stats", timeout=30).json()


def reset_receiver(url: str) -> None:
    httpx.post(f"{url}/control/reset", timeout=30).raise_for_status()


@dataclass
class OdooCalls:
    total: int = 0
    searches: int = 0  # sale.order search_read: one per scan page
    reads: int = 0  # `read` calls of any model
    setup: int = 0  # version, authenticate, fields_get, counts: per run, not per page
    by_model: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "searches": self.searches,
            "reads": self.reads,
            "setup": self.setup,
            "by_model": self.by_model,
        }


def odoo_calls(url: str) -> OdooCalls:
    body = httpx.get(f"{url}/sim/calls", timeout=30).json()
    calls = OdooCalls(total=int(body["total"]))
    for row in body["counts"]:
        method, model, count = row["odoo_method"], row["model"], int(row["count"])
        if model == "sale.order" and method == "search_read":
            calls.searches += count
        elif method == "read":
            calls.reads += count
            calls.by_model[model] = calls.by_model.get(model, 0) + count
        else:
            calls.setup += count
    return calls


def reset_odoo_calls(url: str) -> None:
    httpx.post(f"{url}/sim/calls/reset", timeout=30).raise_for_status()


def count_confirmed(url: str, lower_bound: str) -> int:
    """How many confirmed orders a scan from `lower_bound` goes through (one JSON-RPC call)."""
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [
                ODOO_DATABASE,
                2,
                ODOO_API_KEY,
                "sale.order",
                "search_count",
                [[["state", "in", ["sale", "done"]], ["write_date", ">=", lower_bound]]],
            ],
        },
    }
    answer = httpx.post(f"{url}/jsonrpc", json=body, timeout=120).json()
    if "result" not in answer:
        raise RuntimeError(f"search_count failed: {answer.get('error')}")
    return int(answer["result"])


# -- measured children -----------------------------------------------------------------------


@dataclass
class ChildResult:
    """One child process: its exit code, wall time from spawn to exit, its own CPU time (from
    `os.wait4`: nothing of any other process) and peak RSS, plus the JSON it printed on its
    `BENCH-RESULT` lines (merged in order).

    Peak RSS is the child's own VmHWM, read by the child as it exits (`report_peak_at_exit`),
    not wait4's `ru_maxrss`: Linux carries `ru_maxrss` over `exec`, so it would include the
    RSS of this (parent) process at the moment it spawned the child.
    """

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    report: dict[str, Any]
    stderr_tail: str = ""


def run_child(
    argv: list[str], env: dict[str, str], *, timeout: float, stderr_path: Path
) -> ChildResult:
    started = time.perf_counter()
    with stderr_path.open("ab") as stderr:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=stderr)
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    try:
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        _pid, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()  # interrupted: never leave a measured child behind
        raise
    finally:
        killer.cancel()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    report: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            report.update(json.loads(line[len(RESULT_MARK) :]))
    tail = stderr_path.read_text(errors="replace")[-2000:] if process.returncode else ""
    return ChildResult(
        returncode=process.returncode,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=float(report.get("peak_rss_at_exit_mb") or report.get("peak_rss_mb") or 0.0),
        report=report,
        stderr_tail=tail,
    )


def emit_result(result: dict[str, Any]) -> None:
    """What a child prints last: its measurements, on one line the parent looks for."""
    print(RESULT_MARK + json.dumps(result), flush=True)


def report_peak_at_exit() -> None:
    """Print this process's VmHWM as late as possible: atexit handlers run last-registered
    first, so registering this before anything else makes it run after them all."""
    atexit.register(lambda: emit_result({"peak_rss_at_exit_mb": own_peak_rss_mb()}))


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_peak_rss_mb() -> float:
    """VmHWM of this process in MB (ru_maxrss as a fallback)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def publish(
    console: Any,
    path: Path,
    data: dict[str, Any],
    print_report: Callable[[Any, dict[str, Any]], None],
) -> None:
    """What every benchmark ends with: its results as JSON, its table, where the JSON is."""
    write_json(path, data)
    print_report(console, data)
    console.print(f"results written to {path}")


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
