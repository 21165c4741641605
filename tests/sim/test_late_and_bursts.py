"""Orders that commit late (an older `write_date` showing up after newer ones) and bursts of
orders inside one second, scanned the way the README's "How it works" says (a fixed lower
bound, paged by id)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from odoo_sim.odoo import OdooSim, SimConflict, SimNotFound
from tests.sim.simkit import VERSIONS, Rpc, seeded_sim
from tests.support.clock import FakeClock

Served = Callable[[OdooSim], Rpc]
CONFIRMED = ["state", "in", ["sale", "done"]]


def scan(client: Rpc, since: str, page_size: int = 200) -> list[list[int]]:
    """`write_date >= since`, paged by `id > last`, `id asc`: the pages' ids."""
    pages: list[list[int]] = []
    last = 0
    while True:
        page = client.execute(
            "sale.order",
            "search_read",
            [CONFIRMED, ["write_date", ">=", since], ["id", ">", last]],
            fields=["write_date"],
            limit=page_size,
            order="id asc",
        )
        pages.append([order["id"] for order in page])
        if len(page) < page_size:
            return pages
        last = page[-1]["id"]


def test_a_late_order_is_invisible_until_commit_and_keeps_its_write_date(serve: Served) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, 0, 400000))
    sim = seeded_sim(clock=clock)
    client = serve(sim)
    late = sim.begin_late_order(7, [{"product_id": 6, "qty": 2}, {"product_id": 1, "qty": 1}])
    assert (late.id, late.name, late.committed) == (13, "S00013", False)
    assert late.write_date == datetime(2026, 12, 1, 10, 0, 0, 400000)
    line_ids = sim.store.raw("sale.order", sim.store.tables["sale.order"].row(13), "order_line")

    def visible() -> tuple[list[int], list[dict], int, list[int], list[dict]]:
        return (
            client.execute("sale.order", "search", [["id", ">=", 13]], order="id"),
            client.execute("sale.order", "read", [13], ["name"]),
            client.execute("sale.order", "search_count", [["id", "=", 13]]),
            client.execute("sale.order.line", "search", [["order_id", "=", 13]]),
            client.execute("sale.order.line", "read", list(line_ids), ["name"]),
        )

    assert visible() == ([], [], 0, [], [])
    assert client.execute("sale.order", "search", [["order_line.product_id", "=", 6]]) == []

    clock.advance(3)
    newer = sim.create_order(9, [{"product_id": 2, "qty": 1}])["id"]
    [seen] = client.execute("sale.order", "read", [newer], ["write_date"])
    assert seen["write_date"] == "2026-12-01 10:00:03"
    cursor = seen["write_date"]  # a poller that only asks `write_date > cursor` from now on
    clock.advance(3)

    committed = late.commit()
    assert late.committed
    assert committed["write_date"] == "2026-12-01 10:00:00"  # unchanged by the commit
    ids, orders, count, lines, line_reads = visible()
    assert (ids, count) == ([13, newer], 1)
    assert orders == [{"id": 13, "name": "S00013"}]
    assert len(lines) == len(line_reads) == 2
    assert client.execute("sale.order", "search", [["write_date", ">", cursor]]) == [newer]
    assert scan(client, "2026-12-01 09:50:00") == [[13, newer]]  # the overlap window finds it
    with pytest.raises(SimConflict):
        late.commit()


def test_late_orders_over_http(serve: Served) -> None:
    sim = seeded_sim(clock=FakeClock(datetime(2026, 12, 1, 10, 0, 0)))
    client = serve(sim)
    begun = client.http.post(
        "/sim/orders/late", json={"partner_id": 8, "lines": [{"product_id": 3, "qty": 4}]}
    ).json()
    assert begun == {
        "id": 13,
        "name": "S00013",
        "write_date": "2026-12-01 10:00:00",
        "committed": False,
    }
    assert client.execute("sale.order", "search", [["id", "=", 13]]) == []
    committed = client.http.post("/sim/orders/13/commit")
    assert committed.json()["state"] == "sale"
    assert client.execute("sale.order", "search", [["id", "=", 13]]) == [13]
    assert client.http.post("/sim/orders/13/commit").status_code == 409
    assert client.http.post("/sim/orders/99/commit").status_code == 404
    with pytest.raises(SimNotFound):
        sim.commit_late_order(99)


@pytest.mark.parametrize("version", ["16.0", "19.0"])
def test_500_orders_in_one_second_are_all_found_by_id_paging(serve: Served, version: str) -> None:
    sim = seeded_sim(version=version, clock=FakeClock(datetime(2026, 12, 1, 10, 0, 0, 900000)))
    burst = sim.add_generated_orders(500, lines_per_order=1, same_second=True)
    client = serve(sim)
    stored = sim.store.getter("sale.order", "write_date")
    table = sim.store.tables["sale.order"]
    moments = [stored(table.row(order_id)) for order_id in burst]
    assert len(set(moments)) == 500  # distinct microseconds ...
    assert {moment.replace(microsecond=0) for moment in moments} == {
        datetime(2026, 12, 1, 9, 59, 59)  # ... inside one second
    }
    pages = scan(client, "2026-12-01 09:59:59")
    assert [len(page) for page in pages] == [200, 200, 100]
    assert [order_id for page in pages for order_id in page] == list(burst)
    returned = client.execute(
        "sale.order", "search_read", [["id", "in", list(burst)]], ["write_date"]
    )
    assert {order["write_date"] for order in returned} == {"2026-12-01 09:59:59"}


def test_late_order_exists_on_every_version(serve: Served) -> None:
    for version in VERSIONS:
        sim = seeded_sim(version=version)
        late = sim.begin_late_order(10, [{"product_id": 5, "qty": 1}])
        client = serve(sim)
        assert client.execute("sale.order", "search_count", [["id", "=", late.id]]) == 0
        late.commit()
        assert client.execute("sale.order", "search_count", [["id", "=", late.id]]) == 1
