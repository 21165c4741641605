"""StockMaster down for six simulated hours while orders keep coming, then back: every event
arrives once by webhook-id, no update or cancellation before its order's confirmation,
nothing dead-lettered. Polls run every simulated minute, without Prefect."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from poller.cycle import run_cycle
from poller.runtime import default_store, open_poller
from tests.conftest import BEFORE_SEED, make_config
from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow
START = datetime(2026, 11, 28, 9, 0, 0)
OUTAGE = timedelta(hours=6)


async def test_six_hours_down_then_everything_arrives_in_order(
    poller_settings, odoo, stockmaster
) -> None:
    time = FakeClock(START)
    odoo.sim.clock = time.naive
    config = make_config(poller_settings, odoo, stockmaster)
    store = default_store()
    store.clock = time.aware
    store.states.ensure_connection(config.name, since=BEFORE_SEED)
    rng = random.Random(6)

    async def poll() -> None:
        poller = open_poller(config)
        try:
            report = await run_cycle(poller, poller)
        finally:
            await poller.aclose()
        assert report.status == "ok", report.error

    await poll()  # the seeded shop arrives while StockMaster is up
    stockmaster.receiver.fail(503)
    created, cancelled_early, polls = [], [], 1
    while time.now < START + OUTAGE:
        time.advance(60)
        minute = int((time.now - START).total_seconds() // 60)
        if minute % 5 == 0:
            order = odoo.sim.create_order(
                rng.choice([7, 8, 9, 10]),
                [{"product_id": rng.choice([1, 2, 3, 5]), "qty": rng.randint(1, 9)}],
            )
            created.append(order["id"])
        if minute % 35 == 7:  # confirmed 2 minutes ago, cancelled before StockMaster heard
            cancelled_early.append(created[-1])
            odoo.sim.cancel(created[-1])
        if minute == 60:
            odoo.sim.cancel(2)  # S00002 was delivered before the outage
        await poll()
        polls += 1
    stockmaster.receiver.recover()
    for _ in range(30):
        time.advance(60)
        await poll()
        polls += 1

    events = defaultdict(list)
    seen_ids = set()
    for item in stockmaster.receiver.deliveries:
        if item.webhook_id not in seen_ids:
            seen_ids.add(item.webhook_id)
            events[item.body["order"]["id"]].append(item.body["event"])
    print(
        f"\noutage: {polls} polls over {OUTAGE} down + 30 min, {len(created)} orders created, "
        f"{len(stockmaster.receiver.deliveries)} deliveries, "
        f"{stockmaster.receiver.failures_served} refused by the receiver"
    )
    assert store.outbox.deliveries(statuses=["dead", "pending", "retrying"]) == []
    assert stockmaster.receiver.redeliveries() == 0
    for order_id in created:
        if order_id in cancelled_early:
            assert order_id not in events  # StockMaster never knew it: nothing to cancel
        else:
            assert events[order_id] == ["order.confirmed"], order_id
    assert events[2] == ["order.confirmed", "order.cancelled"]
    assert all(history[0] == "order.confirmed" for history in events.values())
    superseded = store.outbox.deliveries(statuses=["superseded"])
    assert {row.order_id for row in superseded} == set(cancelled_early)
