"""The Odoo simulator over real HTTP: recorded answers, write_date rule, control API, scale."""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from odoo_sim.odoo import OdooSim, SimConflict, SimNotFound, utcnow
from tests.sim.simkit import (
    API_KEY,
    DB,
    UID,
    VERSIONS,
    Rpc,
    RpcError,
    load_fixture,
    seeded_sim,
)
from tests.support.clock import FakeClock

RESPONSES = load_fixture("odoo16-responses.json")
POLL_CYCLE = load_fixture("odoo16-poll-cycle.json")
FIELDS_GET = load_fixture("odoo16-fields_get.json")
ATTRIBUTES = ["type", "relation", "string", "store", "required", "selection"]
CONFIRMED = [["state", "in", ["sale", "done"]]]
Served = Callable[[OdooSim], Rpc]


def replay(client: Rpc, entry: dict[str, Any]) -> None:
    """Send a recorded request (with our API key) and compare with the recorded answer."""
    body = json.dumps(entry["request"]).replace("<api-key>", API_KEY)
    response = client.http.post(
        "/jsonrpc", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == entry["http_status"]
    assert response.headers["content-type"].startswith("application/json")
    got, want = response.json(), json.loads(entry["raw"])
    if "result" in want:
        assert got == want
        assert response.text == entry["raw"]  # same key order, spacing and unescaped text
        return
    error, recorded = got["error"], want["error"]
    assert (error["code"], error["message"]) == (recorded["code"], recorded["message"])
    for key in ("name", "message", "arguments", "context"):
        assert error["data"][key] == recorded["data"][key]
    assert error["data"]["debug"].startswith("Traceback (most recent call last):\n")
    last_line = error["data"]["debug"].rstrip("\n").splitlines()[-1]
    assert last_line == recorded["data"]["debug"].rstrip("\n").splitlines()[-1]


def ids_of(records: list[dict[str, Any]]) -> list[int]:
    return [record["id"] for record in records]


# --------------------------------------------------------------------------- recordings


@pytest.mark.parametrize("key", sorted(RESPONSES))
def test_replays_every_call_of_the_responses_recording(
    first_batch_shop: tuple[OdooSim, Rpc], key: str
) -> None:
    replay(first_batch_shop[1], RESPONSES[key])


@pytest.mark.parametrize("key", sorted(POLL_CYCLE))
def test_replays_every_call_of_the_poll_cycle_recording(
    shop: tuple[OdooSim, Rpc], key: str
) -> None:
    replay(shop[1], POLL_CYCLE[key])


#: The shop has a storable product, which the recorded 16 server (no Inventory app) had not.
STORABLE_TYPE = {
    "product.template": ("type", "detailed_type"),
    "product.product": ("type", "detailed_type"),
    "sale.order.line": ("product_type",),
}


@pytest.mark.parametrize("model", sorted(FIELDS_GET))
def test_fields_get_matches_the_recording(
    shop: tuple[OdooSim, Rpc], serve: Served, model: str
) -> None:
    bare = serve(OdooSim(api_keys=[API_KEY]))
    assert bare.execute(model, "fields_get", attributes=ATTRIBUTES) == FIELDS_GET[model]
    expected = json.loads(json.dumps(FIELDS_GET[model]))
    for name in STORABLE_TYPE.get(model, ()):
        expected[name]["selection"].append(["product", "Storable Product"])
    assert shop[1].execute(model, "fields_get", attributes=ATTRIBUTES) == expected


def test_the_second_batch_of_orders_joins_the_recorded_search(shop: tuple[OdooSim, Rpc]) -> None:
    request = RESPONSES["search_read_sale_order"]["request"]["params"]["args"]
    found = shop[1].execute("sale.order", "search_read", *request[5], **request[6])
    recorded = json.loads(RESPONSES["search_read_sale_order"]["raw"])["result"]
    assert ids_of(found) == [1, 2, 3, 4, 7, 8, 9, 10]
    assert found[:4] == recorded
    assert [order["order_line"] for order in found[4:]] == [
        [15, 16, 17, 18, 19, 20],
        [21, 22],
        [23, 24],
        [25, 26],
    ]


def test_draft_and_cancelled_orders_have_plausible_lines(shop: tuple[OdooSim, Rpc]) -> None:
    orders = shop[1].execute(
        "sale.order", "read", [5, 6, 11, 12], fields=["state", "order_line", "amount_total"]
    )
    assert [(o["state"], o["order_line"]) for o in orders] == [
        ("draft", [13]),
        ("cancel", [14]),
        ("draft", [27]),
        ("cancel", [28]),
    ]
    assert [o["amount_total"] for o in orders] == [28.75, 138.58, 28.75, 138.58]
    lines = shop[1].execute("sale.order.line", "read", [13, 14], fields=["state", "product_id"])
    assert [(line["state"], line["product_id"][0]) for line in lines] == [
        ("draft", 1),
        ("cancel", 2),
    ]


# --------------------------------------------------------------------------- write_date


@pytest.mark.parametrize("version", VERSIONS)
def test_write_date_is_truncated_on_output_but_compared_to_the_stored_microseconds(
    serve: Served, version: str
) -> None:
    """16-18 compare the stored microseconds; 19 (and saas~18.4) compare whole seconds:
    `> T` means `>= T + 1 s`, `= T` and `<= T` match all of second T."""
    sim = seeded_sim(version=version, clock=FakeClock(datetime(2026, 12, 1, 10, 0, 0, 500000)))
    client = serve(sim)
    order_id = sim.create_order(7, [{"product_id": 1, "qty": 1, "price_unit": 25.0}])["id"]

    def matches(op: str, value: Any) -> bool:
        domain = [["id", "=", order_id], ["write_date", op, value]]
        return client.execute("sale.order", "search", domain) == [order_id]

    [order] = client.execute("sale.order", "read", [order_id], fields=["write_date"])
    assert order["write_date"] == "2026-12-01 10:00:00"
    by_second = version in ("19.0", "saas~18.4")
    second = "2026-12-01 10:00:00"
    assert matches("=", second) is by_second
    assert matches("<=", second) is by_second
    assert matches(">", second) is not by_second
    assert matches("!=", second) is not by_second
    assert matches("in", [second]) is by_second
    assert matches(">=", second)
    assert matches("<", "2026-12-01 10:00:01")
    assert matches("=", "2026-12-01 10:00:00.500000")
    assert matches(">", "2026-12-01 10:00:00.400000") is not by_second


def test_confirm_cancel_touch_and_edits_bump_write_date(serve: Served) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, 0, 100000))
    sim = seeded_sim(clock=clock)
    client = serve(sim)
    created = sim.create_order(10, [{"product_id": 2, "qty": 1}], confirm=False)

    def order() -> dict[str, Any]:
        return client.execute(
            "sale.order",
            "read",
            [created["id"]],
            fields=["state", "write_date", "date_order", "order_line"],
        )[0]

    assert (order()["state"], order()["write_date"]) == ("draft", "2026-12-01 10:00:00")
    clock.advance(1.5)
    assert sim.confirm(created["id"])["write_date"] == "2026-12-01 10:00:01"
    assert order()["state"] == "sale"
    assert order()["date_order"] == "2026-12-01 10:00:01"
    lines = client.execute(
        "sale.order.line", "read", order()["order_line"], fields=["state", "write_date"]
    )
    assert lines == [{"id": lines[0]["id"], "state": "sale", "write_date": "2026-12-01 10:00:01"}]
    clock.advance(2)
    assert sim.cancel(created["id"])["state"] == "cancel"
    assert order()["write_date"] == "2026-12-01 10:00:03"
    clock.advance(2)
    sim.touch(created["id"])
    assert (order()["state"], order()["write_date"]) == ("cancel", "2026-12-01 10:00:05")
    clock.advance(1)
    sim.write("res.partner", [10], {"phone": "+1 555 0100"})
    [partner] = client.execute("res.partner", "read", [10], fields=["phone", "write_date"])
    assert partner == {"id": 10, "phone": "+1 555 0100", "write_date": "2026-12-01 10:00:06"}
    with pytest.raises(SimConflict):
        sim.confirm(created["id"])
    with pytest.raises(SimNotFound):
        sim.cancel(999)


def test_a_poller_cursor_sees_cancellations_and_touches(serve: Served) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, 0, 300000))
    sim = seeded_sim(clock=clock)
    client = serve(sim)
    cursor = "2026-12-01 10:00:00"
    assert client.execute("sale.order", "search", [["write_date", ">", cursor]]) == []
    clock.advance(3)
    sim.cancel(1)
    sim.touch(3)
    changed = client.execute("sale.order", "search", [["write_date", ">", cursor]], order="id")
    assert changed == [1, 3]


def test_create_order_computes_lines_and_amounts_like_odoo(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    created = sim.create_order(
        9,
        [
            {"display_type": "line_section", "name": "Gadgets"},
            {"product_id": 2, "qty": 2, "price_unit": 120.5, "discount": 10},
            {"product_id": 1, "qty": 10, "price_unit": 22.5, "discount": 5},
            {"product_id": 3, "qty": 2},
        ],
        currency_id=1,
        client_order_ref="PO-77",
        shipping_partner_id=8,
    )
    assert created == {"id": 13, "name": "S00013"}
    [order] = client.execute(
        "sale.order",
        "read",
        [13],
        fields=[
            "state",
            "partner_id",
            "partner_shipping_id",
            "currency_id",
            "client_order_ref",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "order_line",
        ],
    )
    assert order == {
        "id": 13,
        "state": "sale",
        "partner_id": [9, "Acme Industries GmbH, Bob Builder"],
        "partner_shipping_id": [8, "Acme Industries GmbH"],
        "currency_id": [1, "EUR"],
        "client_order_ref": "PO-77",
        "amount_untaxed": 446.63,
        "amount_tax": 67.0,
        "amount_total": 513.63,
        "order_line": [29, 30, 31, 32],
    }
    fields = [
        "display_type",
        "name",
        "product_id",
        "product_uom",
        "price_unit",
        "price_subtotal",
        "price_tax",
        "price_total",
        "tax_id",
    ]
    lines = client.execute("sale.order.line", "read", order["order_line"], fields=fields)
    assert [line["price_tax"] for line in lines] == [0.0, 32.54, 32.06, 2.4]
    assert lines[0] == {
        "id": 29,
        "display_type": "line_section",
        "name": "Gadgets",
        "product_id": False,
        "product_uom": False,
        "price_unit": 0.0,
        "price_subtotal": 0.0,
        "price_tax": 0.0,
        "price_total": 0.0,
        "tax_id": [],
    }
    assert lines[3] == {
        "id": 32,
        "display_type": False,
        "name": "[CAB-2M] Cable 2m",
        "product_id": [3, "[CAB-2M] Cable 2m"],
        "product_uom": [1, "Units"],
        "price_unit": 7.99,
        "price_subtotal": 15.98,
        "price_tax": 2.4,
        "price_total": 18.38,
        "tax_id": [1],
    }


# --------------------------------------------------------------------------- active_test


def test_archived_records_are_hidden_from_search_unless_active_test_is_off(
    serve: Served,
) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.write("product.product", [4], {"active": False})
    sim.write("res.partner", [10], {"active": False})
    assert client.execute("product.product", "search", []) == [3, 2, 6, 5, 1]
    assert client.execute("product.product", "search_count", []) == 5
    hidden_too = client.execute("product.product", "search", [], context={"active_test": False})
    assert hidden_too == [3, 2, 6, 5, 1, 4]
    assert client.execute("product.product", "search", [["active", "=", False]]) == [4]
    assert client.execute("res.partner", "search", [], order="id") == [7, 8, 9]
    [product] = client.execute("product.product", "read", [4], fields=["active", "display_name"])
    assert product == {"id": 4, "active": False, "display_name": "Mystery Item (no internal ref)"}
    assert client.execute("sale.order", "search", [["partner_id", "=", 10]]) == [12, 9, 6, 3]


# --------------------------------------------------------------------------- domains and orders


@pytest.mark.parametrize(
    ("model", "domain", "expected"),
    [
        (
            "sale.order",
            ["|", ["partner_id", "=", 7], ["partner_id", "=", 10]],
            [1, 3, 5, 6, 7, 9, 11, 12],
        ),
        ("sale.order", ["!", ["state", "=", "sale"]], [5, 6, 11, 12]),
        ("sale.order", ["&", ["state", "=", "sale"], "!", ["currency_id", "=", 2]], [4, 10]),
        ("sale.order", [["amount_total", ">", 400]], [2, 8]),
        ("sale.order", [["amount_total", "<=", 28.75]], [5, 11]),
        ("sale.order", [["client_order_ref", "=?", False]], list(range(1, 13))),
        ("sale.order", [["client_order_ref", "=?", "ACME-EUR-1"]], [4, 10]),
        ("sale.order", [["id", "in", [3, 1, 99]]], [1, 3]),
        ("sale.order", [["id", ">", 4], ["id", "<=", 7]], [5, 6, 7]),
        ("sale.order", [["date_order", ">=", "2026-11-28"]], list(range(1, 13))),
        ("sale.order", [["date_order", ">", "2026-11-28"]], []),
        ("sale.order", [["partner_id.country_id.code", "=", "DE"]], [2, 4, 8, 10]),
        ("sale.order", [["order_line.product_id", "=", 4]], [3, 9]),
        ("sale.order", [["partner_id", "ilike", "builder"]], [2, 8]),
        ("sale.order", [[1, "=", 1]], list(range(1, 13))),
        ("res.partner", [["name", "ilike", "ALICE"]], [7]),
        ("res.partner", [["name", "like", "alice"]], []),
        ("res.partner", [["display_name", "ilike", "acme"]], [8, 9]),
        ("res.partner", [["email", "=like", "%@example.com"]], [7]),
        ("res.partner", [["name", "=ilike", "alice%"]], [7]),
        ("res.partner", [["email", "not ilike", "acme"]], [7, 10]),
        ("res.partner", [["email", "=", False]], [10]),
        ("res.partner", [["email", "!=", False]], [7, 8, 9]),
        ("res.partner", [["vat", "!=", "DE123456788"]], [7, 10]),
        ("res.partner", [["vat", "not in", ["DE123456788"]]], [7, 10]),
        ("res.partner", [["vat", "in", ["DE123456788", False]]], [7, 8, 9, 10]),
        ("res.partner", [["vat", "in", []]], []),
        ("res.partner", [["parent_id", "=", 8]], [9]),
        ("res.partner", [["parent_id", "=", False]], [7, 8, 10]),
        ("res.partner", [["parent_id", "!=", "Acme Industries GmbH"]], [7, 8, 10]),
        ("res.partner", [["is_company", "=", False]], [7, 9, 10]),
        ("res.partner", [["is_company", "!=", True]], [7, 9, 10]),
        ("res.partner", [["child_ids", "!=", False]], [8]),
        ("res.partner", [["commercial_partner_id", "=", 8]], [8, 9]),
        ("product.product", [["name", "ilike", "gadget"]], [2]),
        ("product.product", [["default_code", "=", False]], [4]),
        ("product.template", [["detailed_type", "=", "service"]], [5]),
        ("res.country.state", [["country_id.code", "=", "US"]], [22]),
    ],
)
def test_domains_filter_like_odoo(
    shop: tuple[OdooSim, Rpc], model: str, domain: list[Any], expected: list[int]
) -> None:
    assert shop[1].execute(model, "search", domain, order="id") == expected


@pytest.mark.parametrize(
    ("model", "order", "expected"),
    [
        ("sale.order", "id desc", list(range(12, 0, -1))),
        ("sale.order", "amount_total desc, id", [2, 8, 1, 7, 4, 10, 3, 9, 6, 12, 5, 11]),
        ("sale.order", "partner_id, id", [4, 10, 2, 8, 1, 5, 7, 11, 3, 6, 9, 12]),
        ("sale.order", "client_order_ref desc, id", [3, 5, 6, 9, 11, 12, 1, 7, 2, 8, 4, 10]),
        ("sale.order", "write_date asc, id asc", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
        ("res.partner", None, [8, 9, 7, 10]),
        ("product.product", None, [3, 2, 6, 5, 1, 4]),
        ("product.template", "name desc", [1, 6, 4, 5, 2, 3]),
        ("res.country", None, [57, 233]),
    ],
)
def test_orders_follow_odoo(
    shop: tuple[OdooSim, Rpc], model: str, order: str | None, expected: list[int]
) -> None:
    kwargs = {"order": order} if order else {}
    assert shop[1].execute(model, "search", [], **kwargs) == expected


def test_default_order_of_orders_is_date_order_desc(serve: Served) -> None:
    sim = seeded_sim(clock=FakeClock(datetime(2026, 1, 1, 9, 0, 0)))
    client = serve(sim)
    sim.create_order(7, [{"product_id": 1, "qty": 1}])  # id 13, the oldest date_order
    assert client.execute("sale.order", "search", [])[-2:] == [1, 13]
    lines = client.execute("sale.order.line", "search", [["product_id", "=", 2]])
    assert lines == [28, 25, 21, 14, 11, 7]


def test_limit_and_offset_page_through_results(shop: tuple[OdooSim, Rpc]) -> None:
    client = shop[1]
    pages = [
        client.execute("sale.order", "search", CONFIRMED, offset=offset, limit=3, order="id")
        for offset in (0, 3, 6)
    ]
    assert pages == [[1, 2, 3], [4, 7, 8], [9, 10]]
    assert client.execute("sale.order", "search_count", CONFIRMED, limit=5) == 5


@pytest.mark.parametrize(
    ("call", "name", "message"),
    [
        (
            ("sale.order", "search", [["state", "=", "sale"], "|"]),
            "builtins.AssertionError",
            "This domain is syntactically not correct: [['state', '=', 'sale'], '|']",
        ),
        (
            ("sale.order", "search", [["partner_id.nope", "=", 1]]),
            "builtins.ValueError",
            "Invalid field res.partner.nope in leaf ('nope', '=', 1)",
        ),
        (
            ("sale.order", "search", [["state", "LIKE", "x"]]),
            "builtins.ValueError",
            "Invalid leaf ('state', 'LIKE', 'x')",
        ),
        (
            ("sale.order", "search", [["id", "in", 5]]),
            "builtins.ValueError",
            "Invalid domain term ('id', 'in', 5)",
        ),
        (
            ("sale.order", "search", [["write_date", ">", "yesterday"]]),
            "psycopg2.errors.InvalidDatetimeFormat",
            'invalid input syntax for type timestamp: "yesterday"\n',
        ),
        (
            ("res.partner", "read", [7], ["name", "nope"]),
            "builtins.ValueError",
            "Invalid field 'nope' on model 'res.partner'",
        ),
        (
            ("sale.order", "_search", []),
            "odoo.exceptions.AccessError",
            "Private methods (such as _search) cannot be called remotely.",
        ),
    ],
)
def test_bad_requests_answer_odoo_errors(
    shop: tuple[OdooSim, Rpc], call: tuple[Any, ...], name: str, message: str
) -> None:
    model, method, *args = call
    with pytest.raises(RpcError) as caught:
        shop[1].execute(model, method, *args)
    assert (caught.value.name, caught.value.error["data"]["message"]) == (name, message)
    assert caught.value.error["code"] == 200


def test_bad_order_spec_is_a_user_error(shop: tuple[OdooSim, Rpc]) -> None:
    with pytest.raises(RpcError) as caught:
        shop[1].execute("sale.order", "search", [], order="id; drop table")
    assert caught.value.name == "odoo.exceptions.UserError"
    assert caught.value.error["data"]["message"].startswith('Invalid "order" specified (id; drop')


def test_search_read_with_no_match_skips_field_validation(shop: tuple[OdooSim, Rpc]) -> None:
    found = shop[1].execute("sale.order", "search_read", [["id", "=", 999]], fields=["nope"])
    assert found == []


# --------------------------------------------------------------------------- arguments


def test_arguments_work_positionally_or_by_name(shop: tuple[OdooSim, Rpc]) -> None:
    client = shop[1]
    domain = [["state", "=", "sale"]]
    by_position = client.execute("sale.order", "search_read", domain, ["name"], 1, 2, "id desc")
    by_name = client.execute(
        "sale.order", "search_read", domain, fields=["name"], offset=1, limit=2, order="id desc"
    )
    assert by_position == by_name == [{"id": 9, "name": "S00009"}, {"id": 8, "name": "S00008"}]
    assert client.execute("sale.order", "search", [], 2, 3, "id") == [3, 4, 5]
    assert client.execute("sale.order", "search", [], count=True) == 12
    assert client.execute("sale.order", "search_count", [], 3) == 3
    assert client.execute("res.partner", "read", [7], ["name"]) == [
        {"id": 7, "name": "Alice Martin"}
    ]
    assert client.execute("res.partner", "read", 7, fields=["name"]) == [
        {"id": 7, "name": "Alice Martin"}
    ]
    assert client.execute("sale.order", "fields_get", ["name"], ["type"]) == {
        "name": {"type": "char"}
    }
    everything = client.execute("sale.order", "read", [1])
    assert len(everything[0]) == len(FIELDS_GET["sale.order"])
    with pytest.raises(RpcError) as caught:
        client.execute("sale.order", "search", [], bogus=1)
    assert caught.value.name == "builtins.TypeError"
    assert "unexpected keyword argument 'bogus'" in caught.value.error["data"]["message"]


def test_authentication_rules(serve: Served) -> None:
    sim = seeded_sim(password="s3cret")
    client = serve(sim)
    assert client.call("common", "authenticate", DB, "admin", "s3cret", {}) == UID
    assert client.call("common", "authenticate", DB, "admin", API_KEY, {}) == UID
    assert client.call("common", "authenticate", DB, "admin", "admin", {}) is False
    assert client.call("common", "authenticate", DB, "someone", API_KEY, {}) is False
    assert client.call("common", "login", DB, "admin", API_KEY) == UID
    with_password = Rpc(client.url, key="s3cret")
    assert with_password.execute("res.currency", "search", [], order="id") == [1, 2]
    with pytest.raises(RpcError) as caught:
        Rpc(client.url, key="revoked").execute("res.currency", "search", [])
    assert caught.value.name == "odoo.exceptions.AccessDenied"
    with pytest.raises(RpcError) as caught:
        client.call("common", "authenticate", "other_db", "admin", API_KEY, {})
    assert caught.value.name == "psycopg2.OperationalError"
    with pytest.raises(RpcError) as caught:
        client.call("object", "execute_kw", DB, 3, API_KEY, "res.currency", "search", [[]], {})
    assert caught.value.name == "odoo.exceptions.AccessDenied"
    assert client.call("object", "execute", DB, UID, API_KEY, "res.currency", "search", []) == [
        1,
        2,
    ]
    with pytest.raises(RpcError) as caught:
        client.call("report", "render")
    assert caught.value.name == "builtins.KeyError"
    garbage = client.http.post("/jsonrpc", content=b"{not json")
    assert garbage.status_code == 200
    assert garbage.json()["error"]["data"]["name"] == "werkzeug.exceptions.BadRequest"


# --------------------------------------------------------------------------- call log and HTTP


def test_call_log_counts_every_rpc_call(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    client.call("common", "version")
    client.call("common", "authenticate", DB, "admin", API_KEY, {})
    for _ in range(2):
        client.execute("sale.order", "search_read", [], fields=["name"], limit=1)
    client.execute("sale.order.line", "read", [1], fields=["name"])
    with pytest.raises(RpcError):
        client.execute("sale.orderz", "search_read", [])
    assert sim.calls == [
        ("common", "version", None, None),
        ("common", "authenticate", None, None),
        ("object", "execute_kw", "sale.order", "search_read"),
        ("object", "execute_kw", "sale.order", "search_read"),
        ("object", "execute_kw", "sale.order.line", "read"),
        ("object", "execute_kw", "sale.orderz", "search_read"),
    ]
    counts = client.http.get("/sim/calls").json()
    assert counts["total"] == 6
    assert {
        "service": "object",
        "method": "execute_kw",
        "model": "sale.order",
        "odoo_method": "search_read",
        "count": 2,
    } in counts["counts"]
    assert client.http.post("/sim/calls/reset").json() == {"total": 0}
    assert sim.calls == []
    client.execute("res.partner", "read", [7])
    sim.reset_calls()
    assert client.http.get("/sim/calls").json() == {"total": 0, "faulted": 0, "counts": []}


def test_http_control_endpoints(serve: Served) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, 0, 700000))
    sim = seeded_sim(clock=clock)
    client = serve(sim)
    http = client.http
    body = {
        "partner_id": 7,
        "lines": [{"product_id": 1, "qty": 2, "price_unit": 25.0}],
        "client_order_ref": "PO-HTTP",
    }
    assert http.post("/sim/orders", json=body).json() == {"id": 13, "name": "S00013"}
    draft = http.post("/sim/orders", json={**body, "confirm": False}).json()
    assert client.execute("sale.order", "read", [13, draft["id"]], fields=["state"]) == [
        {"id": 13, "state": "sale"},
        {"id": 14, "state": "draft"},
    ]
    clock.advance(2)
    confirmed = http.post("/sim/orders/14/confirm")
    assert confirmed.json() == {
        "id": 14,
        "name": "S00014",
        "state": "sale",
        "write_date": "2026-12-01 10:00:02",
    }
    clock.advance(2)
    assert http.post("/sim/orders/13/cancel").json()["state"] == "cancel"
    assert http.post("/sim/orders/13/touch").json()["write_date"] == "2026-12-01 10:00:04"
    assert http.post("/sim/orders/13/confirm").status_code == 409
    assert http.post("/sim/orders/999/confirm").status_code == 404
    assert http.post("/sim/orders/13/explode").status_code == 404
    assert http.post("/sim/orders", content=b"[1, 2").status_code == 422
    assert http.post("/sim/orders", json={**body, "partner_id": 4242}).status_code == 422
    assert http.post("/sim/orders", json={**body, "colour": "red"}).status_code == 422
    generated = http.post("/sim/orders/generate", json={"n": 10, "lines_per_order": 2}).json()
    assert generated == {"count": 10, "first_id": 15, "last_id": 24}
    assert client.execute("sale.order", "search_count", CONFIRMED) == 8 + 1 + 10  # 13 cancelled


def test_concurrent_control_calls_and_rpc_stay_consistent(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    created: list[int] = []

    def create_many() -> None:
        for _ in range(25):
            created.append(sim.create_order(8, [{"product_id": 5, "qty": 1}])["id"])

    threads = [threading.Thread(target=create_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        client.execute("sale.order", "search_count", CONFIRMED)
    for thread in threads:
        thread.join()
    assert sorted(created) == list(range(13, 113))
    names = client.execute(
        "sale.order", "search_read", [["id", ">", 12]], fields=["name"], order="id"
    )
    assert [order["name"] for order in names] == [f"S{i:05d}" for i in range(13, 113)]


# --------------------------------------------------------------------------- seeding


def test_anchor_shifts_every_seeded_time_by_one_delta(serve: Served) -> None:
    anchor = datetime(2030, 1, 1, 12, 0, 0)
    client = serve(seeded_sim(anchor=anchor))
    orders = client.execute("sale.order", "read", [1, 7, 12], fields=["create_date", "write_date"])
    assert orders == [
        {"id": 1, "create_date": "2030-01-01 11:58:59", "write_date": "2030-01-01 11:58:59"},
        {"id": 7, "create_date": "2030-01-01 11:59:58", "write_date": "2030-01-01 11:59:58"},
        {"id": 12, "create_date": "2030-01-01 11:59:59", "write_date": "2030-01-01 12:00:00"},
    ]
    assert client.execute("sale.order", "search", [["write_date", "=", "2030-01-01 12:00:00"]]) == [
        12
    ]
    first_only = serve(seeded_sim(anchor=anchor, second_batch=False))
    assert first_only.execute(
        "sale.order", "search", [["write_date", ">=", "2030-01-01 12:00:00"]]
    ) == [6]


# --------------------------------------------------------------------------- scale


def test_generated_backlog_of_100k_orders_is_fast_to_seed_page_and_read(serve: Served) -> None:
    sim = seeded_sim()
    started = time.perf_counter()
    generated = sim.add_generated_orders(100_000)
    assert time.perf_counter() - started < 5
    assert (generated[0], generated[-1]) == (13, 100_012)

    domain = [*CONFIRMED, ["write_date", ">=", "2000-01-01 00:00:00"]]
    seen: list[int] = []
    started = time.perf_counter()
    while True:
        page = sim.execute(
            "sale.order",
            "search",
            [[*domain, ["id", ">", seen[-1] if seen else 0]]],
            {"limit": 200, "order": "id asc"},
        )
        seen += page
        if len(page) < 200:
            break
    pages_per_second = (len(seen) // 200 + 1) / (time.perf_counter() - started)
    assert seen == [1, 2, 3, 4, 7, 8, 9, 10, *generated]
    assert pages_per_second > 300

    order_ids = list(generated[5000:5200])
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        orders = sim.execute(
            "sale.order",
            "read",
            [order_ids],
            {"fields": ["name", "partner_id", "amount_total", "order_line", "write_date"]},
        )
        line_ids = [line for order in orders for line in order["order_line"]]
        lines = sim.execute(
            "sale.order.line",
            "read",
            [line_ids],
            {
                "fields": [
                    "order_id",
                    "product_id",
                    "product_uom_qty",
                    "price_unit",
                    "price_total",
                    "tax_id",
                ]
            },
        )
        best = min(best, time.perf_counter() - started)
    assert (len(orders), len(lines)) == (200, 1000)
    assert best < 0.05
    assert sum(line["price_total"] for line in lines[:5]) == pytest.approx(
        orders[0]["amount_total"]
    )

    client = serve(sim)
    assert client.execute("sale.order", "search_count", domain) == 100_008
    last_page = client.execute(
        "sale.order",
        "search_read",
        [*domain, ["id", ">", 100_000]],
        fields=["write_date"],
        limit=200,
        order="id asc",
    )
    assert ids_of(last_page) == list(range(100_001, 100_013))


def test_generated_orders_stay_compact() -> None:
    sim = seeded_sim()
    tracemalloc.start()
    try:
        sim.add_generated_orders(10_000)
        allocated, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert allocated / 10_000 < 4_000  # bytes per order with its 5 lines: 100k orders < 400 MB


def test_same_second_orders_share_the_returned_write_date(serve: Served) -> None:
    sim = seeded_sim(clock=FakeClock(datetime(2026, 12, 1, 10, 0, 0, 250000)))
    generated = sim.add_generated_orders(1000, lines_per_order=2, same_second=True)
    client = serve(sim)
    new = [["id", ">=", generated[0]]]
    dates = {
        o["write_date"]
        for o in client.execute("sale.order", "search_read", new, fields=["write_date"])
    }
    assert dates == {"2026-12-01 09:59:59"}
    assert (
        client.execute("sale.order", "search", [*new, ["write_date", "=", "2026-12-01 09:59:59"]])
        == []
    )
    assert (
        client.execute(
            "sale.order", "search_count", [*new, ["write_date", ">", "2026-12-01 09:59:59"]]
        )
        == 1000
    )
    assert (
        client.execute("sale.order.line", "search_count", [["order_id", ">=", generated[0]]])
        == 2000
    )


def test_runs_standalone_and_prints_its_url() -> None:
    command = [
        sys.executable,
        "-m",
        "odoo_sim.odoo",
        "--port",
        "0",
        "--generated",
        "20",
        "--api-key",
        API_KEY,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the simulator printed nothing"
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"http://[\w.]+:\d+", line)
        assert match, line
        client = Rpc(match.group(0))
        assert client.call("common", "version")["server_version"] == "16.0"
        assert client.execute("sale.order", "search_count", CONFIRMED) == 28
        [order] = client.execute("sale.order", "read", [12], fields=["write_date"])
        latest = datetime.fromisoformat(order["write_date"])
        assert abs(latest - utcnow()) < timedelta(minutes=5)
        client.http.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported Odoo version"):
        OdooSim(version="15.0")
