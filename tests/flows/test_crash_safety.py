"""Crash safety: SIGKILL the polling process at random points during an 800-order backlog,
restart it each time, and check that every order arrived, none was lost, and any repeat
carried the same webhook-id."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from poller.settings import Settings
from tests.conftest import BEFORE_SEED, make_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BACKLOG = 800
KILLS = 12


def start_poller(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.poll_until_done"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def test_random_sigkills_lose_nothing_and_repeat_only_by_webhook_id(
    poller_settings: Settings, odoo, stockmaster, tmp_path: Path
) -> None:
    odoo.sim.add_generated_orders(BACKLOG, lines_per_order=3)
    # Slow enough on any machine for twelve kills to land mid-backlog: a page of 40 takes
    # 5 rounds of 8 concurrent sends at 100 ms, about 10 s for the whole backlog.
    stockmaster.receiver.latency_seconds = 0.1
    odoo.sim.latency_seconds = 0.02
    config = make_config(poller_settings, odoo, stockmaster)
    env = {
        **os.environ,
        "CRASH_CONFIG": config.model_dump_json(),
        "POLLER_PAGE_SIZE": "40",
        "POLLER_LEASE_SECONDS": "5",
        "PYTHONPATH": str(ROOT),
    }
    from poller.runtime import default_store

    default_store(poller_settings).states.ensure_connection(config.name, since=BEFORE_SEED)
    rng = random.Random(20261128)
    log = tmp_path / "poller.log"
    kills = 0
    while kills < KILLS:
        process = start_poller(env, log)
        time.sleep(rng.uniform(0.8, 2.5))
        if process.poll() is not None:
            break  # it finished the whole backlog before this kill
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    final = start_poller(env, log)
    assert final.wait(timeout=240) == 0, log.read_text()[-3000:]

    expected = set(_confirmed_ids(odoo.sim))
    ids_by_order: dict[int, set[str]] = defaultdict(set)
    for item in stockmaster.receiver.deliveries:
        ids_by_order[item.body["order"]["id"]].add(item.webhook_id)
    deliveries = len(stockmaster.receiver.deliveries)
    repeats = stockmaster.receiver.redeliveries()
    print(
        f"\ncrash test: {len(expected)} orders, {kills} SIGKILLs, {deliveries} deliveries, "
        f"{repeats} repeats"
    )
    assert kills >= 10, "the backlog finished too fast to be killed ten times"
    assert set(ids_by_order) == expected  # none lost, none extra
    assert all(len(ids) == 1 for ids in ids_by_order.values())  # repeats: same webhook-id
    assert deliveries == len(expected) + repeats


def _confirmed_ids(sim) -> list[int]:
    rows = sim.execute(
        "sale.order", "search_read", [[["state", "in", ["sale", "done"]]]], {"fields": ["id"]}
    )
    return [row["id"] for row in rows]
