"""Version profiles 16.0-19.0 and saas~18.4 over real HTTP: `common.version`, `fields_get`,
error codes, and the same shop (plus the showcase orders) read through each version's names."""

from __future__ import annotations

import re
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from odoo_sim.odoo import OdooSim
from odoo_sim.seed import seed_version_showcase
from odoo_sim.server import BackgroundServer
from tests.sim.simkit import API_KEY, VERSIONS, Json2, Rpc, RpcError, load_fixture, seeded_sim
from tests.support.wire import recording

Served = Callable[[OdooSim], Rpc]
FIELDS_16 = load_fixture("odoo16-fields_get.json")
FIELDS_18 = recording("odoo18-fields_get.json")
FIELDS_19 = recording("odoo19-fields_get.json")


def selection(client: Rpc, model: str, name: str) -> list[str]:
    described = client.execute(model, "fields_get", [name], ["selection"])
    return [value for value, _label in described[name]["selection"]]


@pytest.mark.parametrize(
    ("version", "info", "serie", "build"),
    [
        ("16.0", [16, 0, 0, "final", 0, ""], "16.0", "16.0"),
        ("17.0", [17, 0, 0, "final", 0, ""], "17.0", "17.0"),
        ("18.0", [18, 0, 0, "final", 0, ""], "18.0", "18.0-20250702"),
        ("19.0", [19, 0, 0, "final", 0, ""], "19.0", "19.0+e-20251227"),
        ("saas~18.4", ["saas~18", 4, 0, "final", 0, ""], "saas~18.4", "saas~18.4"),
    ],
)
def test_common_version_answers_per_profile(
    serve: Served, version: str, info: list[Any], serie: str, build: str
) -> None:
    """`server_version` is the recorded build string where one was recorded (18, 19)."""
    client = serve(OdooSim(version=version, api_keys=[API_KEY]))
    assert client.call("common", "version") == {
        "server_version": build,
        "server_version_info": info,
        "server_serie": serie,
        "protocol_version": 1,
    }


@pytest.mark.parametrize(("version", "code"), [(v, 200 if v < "19" else 0) for v in VERSIONS])
def test_jsonrpc_error_code_is_200_up_to_18_and_0_from_saas_18_1(
    serve: Served, version: str, code: int
) -> None:
    client = serve(seeded_sim(version=version))
    with pytest.raises(RpcError) as caught:
        client.execute("sale.orderz", "search", [])
    assert caught.value.error["code"] == code
    assert caught.value.name == "odoo.exceptions.UserError"
    assert client.execute("sale.order", "search_count", [["state", "=", "sale"]]) == 8


def test_fields_get_of_16_18_19_are_the_recordings_and_17_applies_the_documented_changes(
    serve: Served,
) -> None:
    clients = {v: serve(OdooSim(version=v, api_keys=[API_KEY])) for v in VERSIONS}
    for version, client in clients.items():
        line = client.execute("sale.order.line", "fields_get", attributes=["type", "relation"])
        order = client.execute("sale.order", "fields_get", attributes=["type"])
        partner = client.execute("res.partner", "fields_get", attributes=["type"])
        product = client.execute("product.product", "fields_get", attributes=["type"])
        uom = client.execute("uom.uom", "fields_get", attributes=["type"])
        major = 19 if version == "saas~18.4" else int(version[:2])
        assert ("product_uom" in line, "product_uom_id" in line) == (major < 19, major >= 19)
        assert ("tax_id" in line, "tax_ids" in line) == (major < 19, major >= 19)
        assert line["tax_ids" if major >= 19 else "tax_id"]["relation"] == "account.tax"
        assert ("combo_item_id" in line, "linked_line_id" in line) == (major >= 18,) * 2
        assert ("product_packaging_id" in line) == (major < 19)
        assert ("locked" in order) == (major >= 17)
        assert ("mobile" in partner, "title" in partner) == (major < 19,) * 2
        assert ("category_id" in uom) == (major < 19)
        assert "is_storable" not in product  # the Inventory app is not installed
        assert ("detailed_type" in product, "__last_update" in product) == (major < 18,) * 2
        states = selection(client, "sale.order", "state")
        assert states == (
            ["draft", "sent", "sale", "done", "cancel"]
            if major == 16
            else ["draft", "sent", "sale", "cancel"]
        )
        kinds = selection(client, "product.template", "type")
        assert kinds == (["consu", "service"] if major < 18 else ["consu", "service", "combo"])
        display = selection(client, "sale.order.line", "display_type")
        assert ("line_subsection" in display) == (major >= 19)
    attributes = ["type", "relation", "string", "store", "required", "selection"]
    for version, fixture in (("16.0", FIELDS_16), ("18.0", FIELDS_18), ("19.0", FIELDS_19)):
        for model, fields in fixture.items():
            assert clients[version].execute(model, "fields_get", attributes=attributes) == fields
    required = clients["19.0"].execute("product.template", "fields_get", ["categ_id"], ["required"])
    assert required == {"categ_id": {"required": False}}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_storable_product_adds_product_to_the_type_only_before_18(
    serve: Served, version: str
) -> None:
    client = serve(seeded_sim(version=version))
    [rack] = client.execute("product.product", "read", [6], ["name", "default_code", "type"])
    assert (rack["name"], rack["default_code"]) == ("Pallet Rack", "RACK-01")
    if version in ("16.0", "17.0"):
        assert rack["type"] == "product"
        assert selection(client, "product.product", "type") == ["consu", "service", "product"]
    else:
        assert rack["type"] == "consu"
        assert client.execute("product.product", "read", [6], ["is_storable"])[0]["is_storable"]
        assert client.execute("product.product", "read", [1], ["is_storable"])[0] == {
            "id": 1,
            "is_storable": False,
        }
    assert client.execute("sale.order.line", "search", [["product_id", "=", 6]]) == []


def test_search_count_keyword_exists_only_in_16(serve: Served) -> None:
    assert serve(seeded_sim(version="16.0")).execute("sale.order", "search", [], count=True) == 12
    with pytest.raises(RpcError) as caught:
        serve(seeded_sim(version="17.0")).execute("sale.order", "search", [], count=True)
    assert caught.value.name == "builtins.TypeError"
    assert "BaseModel.search() got an unexpected keyword argument 'count'" in str(caught.value)


# --------------------------------------------------------------------------- same content


class Names:
    """Field names resolved from a server's `fields_get`, as a poller must."""

    def __init__(self, client: Rpc) -> None:
        line = client.execute("sale.order.line", "fields_get", attributes=["type"])
        self.uom = "product_uom_id" if "product_uom_id" in line else "product_uom"
        self.taxes = "tax_ids" if "tax_ids" in line else "tax_id"
        self.combo = "combo_item_id" in line
        self.locked = "locked" in client.execute("sale.order", "fields_get", attributes=["type"])
        product = client.execute("product.product", "fields_get", attributes=["type"])
        self.storable = "is_storable" in product
        partner = client.execute("res.partner", "fields_get", attributes=["type"])
        self.mobile = "mobile" in partner


def normalized(client: Rpc, order_ids: list[int]) -> list[dict[str, Any]]:
    """The version-independent content of orders, read with each version's names."""
    names = Names(client)
    order_fields = ["name", "state", "amount_total", "partner_id", "currency_id", "order_line"]
    orders = client.execute(
        "sale.order", "read", order_ids, [*order_fields, *(["locked"] * names.locked)]
    )
    line_fields = ["display_type", "product_id", "name", "product_uom_qty", "price_unit"]
    line_fields += ["price_total", names.uom, names.taxes]
    line_fields += ["combo_item_id", "linked_line_id"] if names.combo else []
    line_ids = [line for order in orders for line in order["order_line"]]
    lines = {
        row["id"]: row for row in client.execute("sale.order.line", "read", line_ids, line_fields)
    }
    product_ids = sorted({row["product_id"][0] for row in lines.values() if row["product_id"]})
    products = {
        row["id"]: row
        for row in client.execute(
            "product.product", "read", product_ids, ["type", *(["is_storable"] * names.storable)]
        )
    }
    partner_ids = sorted({order["partner_id"][0] for order in orders})
    partner_fields = ["name", "phone", *(["mobile"] * names.mobile)]
    partners = {
        row["id"]: row for row in client.execute("res.partner", "read", partner_ids, partner_fields)
    }

    def kind(product_id: int) -> str:
        product = products[product_id]
        if product["type"] == "product" or product.get("is_storable"):
            return "storable"
        return {"consu": "consumable"}.get(product["type"], product["type"])

    def line(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "product": row["product_id"][1],
            "kind": kind(row["product_id"][0]),
            "qty": row["product_uom_qty"],
            "price_unit": row["price_unit"],
            "price_total": row["price_total"],
            "uom": row[names.uom][1],
            "taxes": row[names.taxes],
        }

    def order(row: dict[str, Any]) -> dict[str, Any]:
        partner = partners[row["partner_id"][0]]
        return {
            "name": row["name"],
            "state": "locked" if row["state"] == "done" or row.get("locked") else row["state"],
            "amount_total": row["amount_total"],
            "currency": row["currency_id"][1],
            "customer": (partner["name"], partner["phone"] or partner.get("mobile") or None),
            "lines": [line(lines[i]) for i in row["order_line"] if not lines[i]["display_type"]],
        }

    return [order(row) for row in orders]


def test_the_seeded_shop_reads_the_same_through_every_version(
    showcases: dict[str, tuple[Rpc, dict[str, int]]],
) -> None:
    contents = {v: normalized(showcases[v][0], list(range(1, 13))) for v in VERSIONS}
    assert contents["16.0"][0]["lines"][0] == {
        "product": "[WID-001] Widget Standard",
        "kind": "consumable",
        "qty": 3.0,
        "price_unit": 25.0,
        "price_total": 86.25,
        "uom": "Units",
        "taxes": [1],
    }
    for version in VERSIONS[1:]:
        assert contents[version] == contents["16.0"], version


@pytest.fixture(scope="module")
def showcases() -> Iterator[dict[str, tuple[Rpc, dict[str, int]]]]:
    """Per version: the recorded shop plus `seed_version_showcase`, served (read-only)."""
    with ExitStack() as stack:
        shown = {}
        for version in VERSIONS:
            sim = seeded_sim(version=version)
            ids = seed_version_showcase(sim)
            server = stack.enter_context(BackgroundServer(sim.app))
            client = Rpc(server.url)
            stack.callback(client.http.close)
            shown[version] = (client, ids)
        yield shown


def test_the_showcase_orders_read_the_same_through_every_version(
    showcases: dict[str, tuple[Rpc, dict[str, int]]],
) -> None:
    shown = showcases
    expected_roles = {"storable", "locked", "subsection"}
    contents = {}
    for version, (client, ids) in shown.items():
        combos = version not in ("16.0", "17.0")
        assert set(ids) == expected_roles | ({"combo"} if combos else set())
        assert [ids["storable"], ids["locked"], ids["subsection"]] == [13, 14, 15]
        contents[version] = normalized(client, [ids[role] for role in sorted(expected_roles)])
    for version in VERSIONS[1:]:
        assert contents[version] == contents["16.0"], version
    locked, storable, subsection = contents["16.0"]
    assert locked["state"] == "locked"
    assert storable["lines"][0]["kind"] == "storable"
    assert storable["lines"][0]["price_unit"] == 199.0
    assert [line["product"] for line in subsection["lines"]] == [
        "[RACK-01] Pallet Rack",
        "[CAB-2M] Cable 2m",
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_locked_order_is_done_in_16_and_sale_with_locked_from_17(
    showcases: dict[str, tuple[Rpc, dict[str, int]]], version: str
) -> None:
    client, ids = showcases[version]
    fields = ["state"] if version == "16.0" else ["state", "locked"]
    [order] = client.execute("sale.order", "read", [ids["locked"]], fields)
    if version == "16.0":
        assert order == {"id": 14, "state": "done"}
    else:
        assert order == {"id": 14, "state": "sale", "locked": True}
        confirmed = client.execute("sale.order", "search", [["state", "in", ["sale", "done"]]])
        assert 14 in confirmed


@pytest.mark.parametrize("version", VERSIONS)
def test_subsection_lines_exist_only_in_19(
    showcases: dict[str, tuple[Rpc, dict[str, int]]], version: str
) -> None:
    client, ids = showcases[version]
    [order] = client.execute("sale.order", "read", [ids["subsection"]], ["order_line"])
    lines = client.execute("sale.order.line", "read", order["order_line"], ["display_type"])
    inner = "line_subsection" if version in ("19.0", "saas~18.4") else "line_section"
    assert [line["display_type"] for line in lines] == [
        "line_section",
        inner,
        False,
        inner,
        False,
    ]


@pytest.mark.parametrize("version", ["18.0", "19.0", "saas~18.4"])
def test_combo_order_has_a_zero_priced_parent_and_linked_children(
    showcases: dict[str, tuple[Rpc, dict[str, int]]], version: str
) -> None:
    client, ids = showcases[version]
    [order] = client.execute("sale.order", "read", [ids["combo"]], ["order_line", "amount_total"])
    parent, *children = client.execute(
        "sale.order.line",
        "read",
        order["order_line"],
        ["product_id", "price_unit", "price_total", "combo_item_id", "linked_line_id"],
    )
    [combo] = client.execute("product.product", "read", [parent["product_id"][0]], ["type"])
    assert combo["type"] == "combo"
    assert (parent["price_unit"], parent["combo_item_id"], parent["linked_line_id"]) == (
        0.0,
        False,
        False,
    )
    assert len(children) == 2
    assert {child["linked_line_id"][0] for child in children} == {parent["id"]}
    assert [child["combo_item_id"][0] for child in children] == [1, 2]
    assert order["amount_total"] == pytest.approx(sum(c["price_total"] for c in children))


def test_showcase_on_16_and_17_has_no_combo(
    showcases: dict[str, tuple[Rpc, dict[str, int]]],
) -> None:
    for version in ("16.0", "17.0"):
        _client, ids = showcases[version]
        assert "combo" not in ids


def test_generated_orders_use_each_versions_line_fields(serve: Served) -> None:
    sim = seeded_sim(version="19.0")
    seed_version_showcase(sim)
    generated = sim.add_generated_orders(14, lines_per_order=1)
    client = serve(sim)
    lines = client.execute(
        "sale.order.line",
        "search_read",
        [["order_id", "in", list(generated)]],
        ["product_id", "product_uom_id", "tax_ids"],
    )
    assert {line["product_uom_id"][0] for line in lines} == {1}
    assert {tuple(line["tax_ids"]) for line in lines} == {(1,)}
    assert 7 not in {line["product_id"][0] for line in lines}  # the combo is never sold alone
    assert 6 in {line["product_id"][0] for line in lines}


def test_http_lock_action(serve: Served) -> None:
    sim = seeded_sim(version="17.0")
    client = serve(sim)
    locked = client.http.post("/sim/orders/1/lock").json()
    assert (locked["state"], locked["locked"]) == ("sale", True)
    assert client.http.post("/sim/orders/1/lock").status_code == 409
    assert client.http.post("/sim/orders/5/lock").status_code == 409  # a draft


def test_standalone_plays_a_version_with_the_showcase() -> None:
    command = [sys.executable, "-m", "odoo_sim.odoo", "--port", "0", "--version", "19.0"]
    command += ["--showcase", "--api-key", API_KEY]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the simulator printed nothing"
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"http://[\w.]+:\d+", line)
        assert match and "Odoo 19.0 simulator" in line, line
        client = Json2(match.group(0))
        assert client.http.get("/web/version").json()["version"] == "19.0+e-20251227"
        assert client.call("sale.order", "search_count", domain=[["id", ">", 12]]) == 4
        client.http.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
