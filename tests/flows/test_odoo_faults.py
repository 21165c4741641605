"""A fault matrix: each fault injected in the middle of a multi-page backlog fails the run with
the right error in the sync log, the cursor never passes an order that is not queued, and the
next run delivers the rest: every order exactly once by webhook-id."""

from __future__ import annotations

from collections import defaultdict

import pytest

from flows.poll_connection import poll_connection
from poller.blocks import save_connection
from poller.runtime import default_store, store_for
from poller.settings import get_settings
from tests.conftest import BEFORE_SEED, make_config

pytestmark = pytest.mark.slow
GENERATED = 20
# The page scans run one after the other, so a fault on the third one hits mid-backlog and
# repeats on each task retry (batch reads run concurrently and would share a fault's turns).
SCAN = {"model": "sale.order", "method": "search_read", "after": 2}
FAULTS = [
    # (fault, what the sync log must say)
    ({"kind": "http_status", "status": 429, "retry_after": "1"}, "HTTP 429 Too Many Requests"),
    ({"kind": "http_status", "status": 500}, "HTTP 500 from"),
    ({"kind": "http_status", "status": 502}, "HTTP 502 from"),
    ({"kind": "http_status", "status": 503}, "HTTP 503 from"),
    ({"kind": "html"}, "answered text/html instead of JSON"),
    ({"kind": "truncated"}, "truncated or malformed JSON"),
    ({"kind": "hang", "seconds": 3}, "timed out"),
    ({"kind": "revoked_key", "times": None}, "Access Denied. The login or API key was refused"),
]


@pytest.fixture
def fast_retries(poller_settings, monkeypatch):
    for key, value in {
        "TASK_RETRIES": "2",
        "TASK_RETRY_DELAY_SECONDS": "0.05",
        "ODOO_TIMEOUT_SECONDS": "1",
        "PAGE_SIZE": "5",
        "RETRY_AFTER_CAP_SECONDS": "0.2",
    }.items():
        monkeypatch.setenv(f"POLLER_{key}", value)
    get_settings.cache_clear()
    store_for.cache_clear()
    return get_settings()


@pytest.mark.parametrize(
    ("fault", "logged"), FAULTS, ids=[f["kind"] + str(f.get("status", "")) for f, _ in FAULTS]
)
async def test_fault_mid_backlog_fails_cleanly_and_the_next_run_finishes(
    fault, logged, prefect_api, fast_retries, odoo, stockmaster
) -> None:
    odoo.sim.add_generated_orders(GENERATED, lines_per_order=2)
    config = make_config(fast_retries, odoo, stockmaster)
    await save_connection(config)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    # more failures in a row than the task retries absorb
    odoo.sim.faults.add(**{**SCAN, "times": 3, **fault})

    failed = await poll_connection(config.name, return_state=True)
    assert failed.is_failed()
    log = store.logs.recent(limit=1)[0]
    assert log.status == "failed" and logged in log.error, log.error
    state = store.states.find_connection(config.name)
    assert state.cursor == "2026-11-28 00:00:00"  # the scan did not finish: cursor unmoved
    queued = {d.order_id for d in store.outbox.deliveries(state.id)}
    confirmed_or_cancelled = _scanned_ids(odoo.sim)
    assert {i for i in confirmed_or_cancelled if i <= state.scan_after_id} <= queued

    odoo.sim.faults.clear()
    recovered = await poll_connection(config.name, return_state=True)
    assert recovered.is_completed(), recovered.message
    ids = defaultdict(set)
    for item in stockmaster.receiver.deliveries:
        ids[item.body["order"]["id"]].add(item.webhook_id)
    assert set(ids) == _confirmed_ids(odoo.sim)
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
    assert store.states.find_connection(config.name).scan_lower_bound is None


async def test_transient_faults_are_absorbed_by_task_retries(
    prefect_api, fast_retries, odoo, stockmaster
) -> None:
    odoo.sim.add_generated_orders(GENERATED, lines_per_order=2)
    config = make_config(fast_retries, odoo, stockmaster)
    await save_connection(config)
    store = default_store()
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    odoo.sim.faults.add("http_status", status=503, times=2, **SCAN)
    odoo.sim.faults.add("latency", seconds=0.2, after=5, times=3)
    state = await poll_connection(config.name, return_state=True)
    assert state.is_completed(), state.message
    assert store.logs.recent(limit=1)[0].status == "ok"
    assert len(stockmaster.receiver.unique()) == len(_confirmed_ids(odoo.sim))


def _rows(sim, states: list[str]) -> list[dict]:
    return sim.execute("sale.order", "search_read", [[["state", "in", states]]], {"fields": ["id"]})


def _confirmed_ids(sim) -> set[int]:
    return {row["id"] for row in _rows(sim, ["sale", "done"])}


def _scanned_ids(sim) -> set[int]:
    return {row["id"] for row in _rows(sim, ["sale", "done", "cancel"])}
