"""One shop, four Odoo versions, one payload: the seeded orders and the version showcase are
polled through real flow runs from simulated Odoo 16, 17, 18 and 19 (JSON-2 on 19)."""

from __future__ import annotations

import pytest

from flows.poll_connection import poll_connection
from odoo_sim.expected_shop import expected_orders
from odoo_sim.seed import seed_version_showcase
from poller.blocks import save_connection
from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, ODOO_DATABASE, make_config, running_odoo
from tests.support.schema import validate_payload

pytestmark = pytest.mark.slow
VERSIONS = ["16.0", "17.0", "18.0", "19.0"]


async def poll_version(version: str, poller_settings, stockmaster) -> tuple[dict, dict, object]:
    with running_odoo(version) as odoo:
        showcase = seed_version_showcase(odoo.sim)
        config = make_config(poller_settings, odoo, stockmaster, name=f"v{version[:2]}")
        await save_connection(config)
        default_store().states.ensure_connection(config.name, since=BEFORE_SEED)
        state = await poll_connection(config.name, return_state=True)
        assert state.is_completed(), state.message
        session = default_store().states.find_connection(config.name).session_json
    received = {
        item.body["order"]["id"]: item.body
        for item in stockmaster.receiver.deliveries
        if item.body["connection"]["name"] == config.name
    }
    return received, showcase, session


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_version_delivers_the_same_payloads(
    version, prefect_api, poller_settings, stockmaster
) -> None:
    received, showcase, session = await poll_version(version, poller_settings, stockmaster)
    assert f'"serie":"{version}"' in session
    assert ('"transport":"json2"' in session) is (version == "19.0")

    for body in received.values():
        validate_payload(body)
    expected = expected_orders(ODOO_DATABASE)
    for order_id, order in expected.items():
        assert received[order_id]["order"] == order, f"order {order_id} on {version}"
        assert received[order_id]["connection"]["odoo_version"] == version

    storable = received[showcase["storable"]]["order"]["lines"]
    assert [(x["sku"], x["product_type"], x["quantity"]) for x in storable] == [
        ("RACK-01", "storable", 2.0),
        ("WID-001", "consumable", 4.0),
    ]
    assert received[showcase["locked"]]["order"]["state"] == "done"
    fit_out = received[showcase["subsection"]]["order"]["lines"]
    assert [x["sku"] for x in fit_out] == ["RACK-01", "CAB-2M"]  # no section or subsection
    if "combo" in showcase:
        combo = received[showcase["combo"]]["order"]["lines"]
        assert combo[0]["product_type"] == "combo" and combo[0]["price_unit"] == 0.0
        assert len(combo) == 3


async def test_versions_agree_field_for_field(prefect_api, poller_settings, stockmaster) -> None:
    """The showcase orders (except the combo, which 16-17 cannot have) are identical."""
    orders_by_version = {}
    for version in VERSIONS:
        received, showcase, _ = await poll_version(version, poller_settings, stockmaster)
        orders_by_version[version] = {
            role: _comparable(received[order_id]["order"])
            for role, order_id in showcase.items()
            if role != "combo"
        }
    first = orders_by_version["16.0"]
    for version in VERSIONS[1:]:
        assert orders_by_version[version] == first, version


def _comparable(order: dict) -> dict:
    """What may differ between two simulated servers: the clock and nothing else."""
    return {k: v for k, v in order.items() if k not in ("write_date", "date_order")}
