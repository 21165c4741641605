"""`python -m benchmarks.profile_report FILE...`: where a profiled child spent its busy time.

Reads py-spy's raw collapsed stacks (as written by `python -m benchmarks.catchup --profile
DIR`), drops idle samples (threads waiting in select, a condition or a sleep), and splits the
busy samples of the measured thread into a few named costs, each sample going to the cost
whose frame is nearest to the leaf. Prints the shares and the top store methods and Prefect
callers, which is what the benchmarks README quotes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

IDLE_LEAVES = (
    "EpollSelector.select",
    "Condition.wait",
    "Event.wait",
    "sleep",
    "heartbeat_loop",
    "_wait_for_tstate_lock",
    "Queue.get",
)
MEASURED = ("benchmarks/flow_child.py", "benchmarks/raw.py")
PREFECT_OTHER = "Prefect: task engine, states, events, logs (the rest)"
COSTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Prefect: task inputs walked (visit_collection)", ("visit_collection",)),
    ("webhook POST (httpx)", ("post_event", "Floor.post")),
    ("Odoo calls (httpx, JSON)", ("OdooClient.", "JsonRpcTransport.", "OdooHttp.")),
    ("poller database (SQLAlchemy, SQLite)", ("poller/state/",)),
    ("signing (standardwebhooks)", ("signed_headers",)),
    (
        "mapping and payload JSON",
        ("map_page", "content_hash", "model_dump_json", "_new_delivery", "decide"),
    ),
)


@dataclass
class Profile:
    samples: int = 0
    busy: int = 0
    measured: int = 0
    costs: Counter[str] = field(default_factory=Counter)
    store: Counter[str] = field(default_factory=Counter)
    prefect_walk: Counter[str] = field(default_factory=Counter)
    other_threads: Counter[str] = field(default_factory=Counter)


def _name(frame: str) -> str:
    return frame.split(" (")[0]


def classify(frames: list[str]) -> str:
    """The named cost whose frame is nearest to the leaf; else Prefect when the innermost
    known frame is Prefect's; else the rest."""
    best, best_depth = "", len(frames) + 1
    leaf_first = frames[::-1]
    for cost, needles in COSTS:
        for depth, frame in enumerate(leaf_first):
            if any(needle in frame for needle in needles):
                if depth < best_depth:
                    best, best_depth = cost, depth
                break
    if best:
        return best
    if any("prefect/" in frame for frame in frames):
        return PREFECT_OTHER
    return "event loop, asyncio, the rest"


def read(path: Path) -> Profile:
    profile = Profile()
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        profile.samples += n
        if any(idle in frames[-1] for idle in IDLE_LEAVES):
            continue
        profile.busy += n
        if not any(any(m in f for m in MEASURED) for f in frames):
            prefect = [f for f in frames if "prefect/" in f]
            profile.other_threads[_name(prefect[-1]) if prefect else _name(frames[-1])] += n
            continue
        profile.measured += n
        profile.costs[classify(frames)] += n
        store = [f for f in frames if "poller/state/store.py" in f]
        if store:
            profile.store[_name(store[0])] += n
        walks = [i for i, f in enumerate(frames) if "visit_collection" in f]
        if walks and walks[0] > 0:
            profile.prefect_walk[_name(frames[walks[0] - 1])] += n
    return profile


def report(path: Path, out: TextIO = sys.stdout) -> None:
    p = read(path)
    busy = max(1, p.busy)
    print(
        f"{path}: {p.samples} samples, {p.busy} busy, {p.measured} in the measured thread "
        f"({p.measured / busy:.0%} of busy)",
        file=out,
    )
    print("  share of the measured thread's busy samples:", file=out)
    for cost, n in p.costs.most_common():
        print(f"    {n / max(1, p.measured):6.1%}  {cost}", file=out)
    for title, counter in (
        ("poller database by Store method", p.store),
        ("Prefect input walking by caller", p.prefect_walk),
        ("other threads (share of all busy samples)", p.other_threads),
    ):
        if counter:
            print(f"  {title}:", file=out)
            total = busy if title.startswith("other") else max(1, p.measured)
            for name, n in counter.most_common(6):
                print(f"    {n / total:6.1%}  {name}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_report")
    parser.add_argument("files", nargs="+", type=Path, help="py-spy raw (collapsed) profiles")
    args = parser.parse_args(argv)
    for path in args.files:
        report(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
