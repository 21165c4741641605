"""End to end: real Prefect flow runs poll the simulator over loopback and deliver to the
receiver; the payloads are checked field by field against the recorded shop."""

from __future__ import annotations

from collections import Counter

import pytest
from prefect.client.orchestration import get_client

from flows.poll_connection import poll_connection
from odoo_sim.expected_shop import expected_orders
from poller.contract import WebhookPayload
from poller.runtime import default_store
from tests.conftest import ODOO_DATABASE
from tests.support.event_ids import expected_event_id
from tests.support.schema import validate_payload

pytestmark = pytest.mark.slow

READS = [
    "sale.order",
    "sale.order.line",
    "res.partner",
    "res.currency",
    "product.product",
    "uom.uom",
    "res.country",
    "res.country.state",
]


async def test_poll_delivers_every_confirmed_order_once(connection, odoo, stockmaster) -> None:
    state = await poll_connection(connection.name, return_state=True)
    assert state.is_completed() and state.name == "Completed"

    received = stockmaster.receiver.deliveries
    assert len(received) == 8 and stockmaster.receiver.redeliveries() == 0
    connection_id = default_store().states.find_connection("acme").id
    expected = expected_orders(ODOO_DATABASE)
    by_order = {item.body["order"]["id"]: item for item in received}
    assert sorted(by_order) == sorted(expected)  # drafts 5, 11 and cancelled 6, 12 left out
    for order_id, item in by_order.items():
        body = item.body
        WebhookPayload.model_validate(body)
        validate_payload(body)
        assert body["order"] == expected[order_id], f"order {order_id}"
        write_date = body["order"]["write_date"].replace("T", " ").rstrip("Z")
        assert body["event"] == "order.confirmed"
        assert body["event_id"] == expected_event_id(connection_id, order_id, write_date)
        assert body["occurred_at"] == body["order"]["write_date"]
        assert body["connection"] == {
            "id": connection_id,
            "name": "acme",
            "odoo_url": odoo.url,
            "database": ODOO_DATABASE,
            "odoo_version": "16.0",
        }
        assert item.headers["webhook-id"] == body["event_id"]
        assert item.headers["idempotency-key"] == body["event_id"]
        assert item.headers["x-odoo-connection-id"] == str(connection_id)
        assert item.headers["user-agent"].startswith("odoo-order-poller/")


async def test_one_page_costs_a_fixed_number_of_odoo_calls(connection, odoo) -> None:
    await poll_connection(connection.name)
    calls = Counter((c.model, c.odoo_method) for c in odoo.sim.calls if c.service == "object")
    # one scan page (8 orders < page size), then one read per model
    assert calls[("sale.order", "search_read")] == 1
    for model in READS:
        assert calls[(model, "read")] == 1, model
    assert sum(n for (model, method), n in calls.items() if method == "read") == len(READS)


async def test_second_poll_sends_nothing_and_a_new_order_arrives_next(
    connection, odoo, stockmaster
) -> None:
    await poll_connection(connection.name)
    assert len(stockmaster.receiver.deliveries) == 8
    odoo.sim.reset_calls()

    await poll_connection(connection.name)
    assert len(stockmaster.receiver.deliveries) == 8
    object_calls = [c for c in odoo.sim.calls if c.service == "object"]
    assert [(c.model, c.odoo_method) for c in object_calls] == [("sale.order", "search_read")]

    created = odoo.sim.create_order(9, lines=[{"product_id": 3, "qty": 2, "price_unit": 7.99}])
    await poll_connection(connection.name)
    new = [d for d in stockmaster.receiver.deliveries if d.body["order"]["id"] == created["id"]]
    assert len(new) == 1 and len(stockmaster.receiver.deliveries) == 9
    order = new[0].body["order"]
    assert order["name"] == created["name"] and order["customer"]["name"] == "Bob Builder"
    assert [(x["sku"], x["quantity"], x["price_subtotal"]) for x in order["lines"]] == [
        ("CAB-2M", 2.0, 15.98)
    ]


async def test_failed_sends_go_to_the_retry_queue_and_are_delivered_later(
    connection, stockmaster
) -> None:
    stockmaster.receiver.fail(503, count=3)
    await poll_connection(connection.name)
    store = default_store()
    retrying = store.outbox.deliveries(statuses=["retrying"])
    assert len(retrying) == 3 and all(r.last_status == 503 for r in retrying)
    assert len(stockmaster.receiver.unique()) == 5
    log = store.logs.recent(limit=1)[0]
    assert (log.status, log.queued, log.delivered, log.failed) == ("ok", 8, 5, 3)


async def test_sync_log_row_holds_the_flow_run_id(connection) -> None:
    state = await poll_connection(connection.name, return_state=True)
    log = default_store().logs.recent(limit=1)[0]
    assert log.flow_run_id == str(state.state_details.flow_run_id)
    # 8 confirmed orders and the 2 cancelled ones (never delivered, so nothing to tell)
    assert (log.status, log.orders_seen, log.queued, log.delivered) == ("ok", 10, 8, 8)
    async with get_client() as client:
        run = await client.read_flow_run(state.state_details.flow_run_id)
    assert run.parameters == {"connection": "acme"}


async def test_a_wrong_key_fails_the_run_at_start_with_one_line(
    connection, odoo, monkeypatch
) -> None:
    from poller.crypto import generate_key
    from poller.settings import get_settings

    monkeypatch.setenv("POLLER_ENCRYPTION_KEY", generate_key())
    get_settings.cache_clear()
    odoo.sim.reset_calls()
    state = await poll_connection(connection.name, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("POLLER_ENCRYPTION_KEY cannot decrypt the Odoo API key")
    assert "\n" not in state.message
    assert odoo.sim.calls == []  # nothing was attempted
    store = default_store()
    log = store.logs.recent(limit=1)[0]  # `poller logs` shows it
    assert (log.status, log.flow_run_id) == ("failed", str(state.state_details.flow_run_id))
    assert log.error.startswith("POLLER_ENCRYPTION_KEY cannot decrypt")
    acme = store.states.find_connection("acme")
    assert store.states.load_breaker(acme.id)[0].failures == 1  # and it counts for the breaker


async def test_an_unknown_connection_fails_with_what_to_do(prefect_api, poller_settings) -> None:
    state = await poll_connection("nope", return_state=True)
    assert state.is_failed()
    assert state.message.startswith("no connection named 'nope'")
    assert "poller add" in state.message


async def test_a_bug_fails_the_run_with_its_traceback_in_the_log_and_an_event(
    connection, stockmaster, monkeypatch
) -> None:
    import asyncio
    import time

    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    def broken(*_args: object) -> None:
        raise TypeError("an injected bug")

    monkeypatch.setattr("poller.orders.map_address", broken)
    state = await poll_connection(connection.name, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("internal error: TypeError: an injected bug")
    run_id = state.state_details.flow_run_id
    log = default_store().logs.recent(limit=1)[0]
    assert (log.status, log.flow_run_id) == ("failed", str(run_id))
    assert stockmaster.receiver.deliveries == []

    deadline = time.monotonic() + 30
    async with get_client() as client:
        while True:  # the run's logs and events reach the server in the background
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            )
            events = await client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(name=["poller.poll.failed"]),
                    resource=EventResourceFilter(id=["poller.connection.acme"]),
                ),
                limit=10,
            )
            traced = any(
                "Traceback" in entry.message and "broken" in entry.message for entry in logs
            )
            failed = [e for e in events.events if "injected bug" in str(e.payload.get("error"))]
            if (traced and failed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    assert traced, [entry.message for entry in logs]
    # said once, with its traceback: not a second "poll failed" line without it
    assert not [entry for entry in logs if entry.message.startswith("poll failed")]
    assert failed and failed[0].payload["error"].startswith("internal error")
