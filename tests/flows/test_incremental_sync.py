"""The cursor rules end to end: an order committed late (its write_date older than orders
already polled) and a burst of 500 orders confirmed in one second are all delivered."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.poll_connection import poll_connection
from poller.runtime import store_for
from poller.settings import get_settings
from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow
LINE = [{"product_id": 1, "qty": 1, "price_unit": 25.0}]


def received_ids(stockmaster) -> set[int]:
    return {item.body["order"]["id"] for item in stockmaster.receiver.deliveries}


@pytest.mark.parametrize(("overlap", "late_arrives"), [(600, True), (0, False)])
async def test_an_order_committed_late_arrives_within_the_overlap(
    overlap, late_arrives, connection, odoo, stockmaster, monkeypatch
) -> None:
    monkeypatch.setenv("POLLER_OVERLAP_SECONDS", str(overlap))
    get_settings.cache_clear()
    store_for.cache_clear()
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, 0, 250_000))  # the simulator's: naive
    odoo.sim.clock = clock
    late = odoo.sim.begin_late_order(7, LINE)  # a long transaction, started at 09:00:00
    clock.advance(30)
    visible = odoo.sim.create_order(10, LINE)  # committed at 09:00:30
    await poll_connection(connection.name)
    assert visible["id"] in received_ids(stockmaster) and late.id not in received_ids(stockmaster)

    late.commit()  # now visible, with its 09:00:00 write_date behind the cursor
    clock.advance(30)
    await poll_connection(connection.name)
    assert (late.id in received_ids(stockmaster)) is late_arrives


async def test_a_burst_of_500_orders_in_one_second_all_arrive(
    connection, odoo, stockmaster
) -> None:
    burst = set(odoo.sim.add_generated_orders(500, lines_per_order=2, same_second=True))
    write_dates = {
        row["write_date"]
        for row in odoo.sim.execute(
            "sale.order", "read", [sorted(burst)], {"fields": ["write_date"]}
        )
    }
    assert len(write_dates) == 1  # all read back as the same whole second
    await poll_connection(connection.name)
    assert burst <= received_ids(stockmaster)
    assert len(stockmaster.receiver.deliveries) == 508 and stockmaster.receiver.redeliveries() == 0
