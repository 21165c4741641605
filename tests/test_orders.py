"""The mapper on the recorded real Odoo 16 responses."""

from __future__ import annotations

import pytest

from odoo_sim.expected_shop import ALICE
from poller.odoo.reader import OrderStamp
from poller.orders import (
    content_hash,
    event_id,
    iso_utc,
    map_order,
    map_page,
    product_type,
)
from tests.support.bundles import recorded_bundle, recorded_context
from tests.support.event_ids import expected_event_id


@pytest.fixture
def bundle():
    return recorded_bundle()


def test_order_with_sections_notes_and_zero_quantity_keeps_only_goods(bundle) -> None:
    payload = map_order(bundle, recorded_context(), 1).model_dump()
    assert payload["event"] == "order.confirmed"
    assert payload["occurred_at"] == "2026-11-28T08:19:30Z"
    assert payload["event_id"] == expected_event_id(1, 1, "2026-11-28 08:19:30")
    assert payload["connection"] == {
        "id": 1,
        "name": "acme",
        "odoo_url": "https://acme.odoo.com",
        "database": "odoo_test",
        "odoo_version": "16.0",
    }
    order = payload["order"]
    assert {
        k: order[k]
        for k in (
            "id",
            "name",
            "state",
            "client_order_ref",
            "date_order",
            "commitment_date",
            "write_date",
            "currency",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
        )
    } == {
        "id": 1,
        "name": "S00001",
        "state": "sale",
        "client_order_ref": "PO-ALICE-0001",
        "date_order": "2026-11-28T08:19:30Z",
        "commitment_date": None,
        "write_date": "2026-11-28T08:19:30Z",
        "currency": "USD",
        "amount_untaxed": 195.0,
        "amount_tax": 29.25,
        "amount_total": 224.25,
    }
    assert order["customer"] == ALICE
    assert order["shipping_address"] == order["customer"]
    assert order["lines"] == [
        {
            "id": 2,
            "product_id": 1,
            "sku": "WID-001",
            "barcode": "4006381333931",
            "name": "Widget Standard",
            "description": "[WID-001] Widget Standard",
            "quantity": 3.0,
            "uom": "Units",
            "price_unit": 25.0,
            "discount": 0.0,
            "price_subtotal": 75.0,
            "price_total": 86.25,
            "product_type": "consumable",
        },
        {
            "id": 6,
            "product_id": 5,
            "sku": "SRV-INST",
            "barcode": None,
            "name": "Installation Service",
            "description": "[SRV-INST] Installation Service",
            "quantity": 1.5,
            "uom": "Units",
            "price_unit": 80.0,
            "discount": 0.0,
            "price_subtotal": 120.0,
            "price_total": 138.0,
            "product_type": "service",
        },
    ]


def test_child_contact_names_its_company_and_discounts_pass_through(bundle) -> None:
    order = map_order(bundle, recorded_context(), 2).order
    assert order.customer.name == "Bob Builder"
    assert order.customer.company_name == "Acme Industries GmbH"
    assert order.customer.country_code == "DE"
    assert order.customer.state_code is None
    assert [(line.sku, line.discount, line.price_subtotal) for line in order.lines] == [
        ("GAD-PRO", 10.0, 216.9),
        ("WID-001", 5.0, 213.75),
    ]


def test_product_without_internal_reference_gets_fallback_sku(bundle) -> None:
    order = map_order(bundle, recorded_context(), 3).order
    assert order.client_order_ref is None
    assert order.customer.email is None and order.customer.country_code is None
    assert order.lines[0].sku == "ODOO-odoo_test-4"
    assert order.lines[0].name == "Mystery Item (no internal ref)"


def test_second_currency_and_company_customer(bundle) -> None:
    order = map_order(bundle, recorded_context(), 4).order
    assert order.currency == "EUR"
    assert (order.amount_untaxed, order.amount_tax, order.amount_total) == (147.61, 22.14, 169.75)
    assert order.customer.company_name is None  # the company is its own commercial partner
    assert order.customer.vat == "DE123456788"


def test_phone_falls_back_to_mobile(bundle) -> None:
    bundle.partners[7] = {**bundle.partners[7], "phone": False}
    order = map_order(bundle, recorded_context(), 1).order
    assert order.customer.phone == "+1 217-555-0199"


def test_missing_product_quarantines_only_that_order(bundle) -> None:
    del bundle.products[5]  # used by orders 1 and 3
    page = map_page(
        bundle,
        recorded_context(),
        [OrderStamp(i, "2026-11-28 08:19:30") for i in (1, 2, 3, 4)],
    )
    assert [p.order.id for p in page.payloads] == [2, 4]
    assert [(q.order_id, q.reason) for q in page.quarantined] == [
        (1, "product 5 could not be read from Odoo"),
        (3, "product 5 could not be read from Odoo"),
    ]


def test_cancelled_order_maps_to_a_cancellation(bundle) -> None:
    bundle.orders[2] = {**bundle.orders[2], "state": "cancel"}
    page = map_page(bundle, recorded_context(), [OrderStamp(2, "2026-11-28 08:19:30")])
    assert [(p.event, p.order.state) for p in page.payloads] == [("order.cancelled", "cancel")]


def test_order_back_to_quotation_between_scan_and_read_is_left_for_next_scan(bundle) -> None:
    bundle.orders[2] = {**bundle.orders[2], "state": "draft"}
    page = map_page(bundle, recorded_context(), [OrderStamp(2, "2026-11-28 08:19:30")])
    assert page.payloads == [] and page.quarantined == []
    assert page.left_for_next_scan == [2]


def test_locked_order_of_odoo_17_is_done_like_in_16(bundle) -> None:
    bundle.orders[1] = {**bundle.orders[1], "state": "sale", "locked": True}
    assert map_order(bundle, recorded_context(), 1).order.state == "done"


def test_malformed_record_is_quarantined_with_reason(bundle) -> None:
    bundle.orders[4] = {**bundle.orders[4], "partner_id": "not a many2one"}
    page = map_page(bundle, recorded_context(), [OrderStamp(4, "2026-11-28 08:19:30")])
    assert page.payloads == []
    assert [(q.order_id, q.reason) for q in page.quarantined] == [
        (4, "malformed many2one value 'not a many2one'")
    ]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"type": "product"}, "storable"),
        ({"type": "consu", "is_storable": True}, "storable"),
        ({"type": "consu", "is_storable": False}, "consumable"),
        ({"type": "consu"}, "consumable"),
        ({"type": "service"}, "service"),
        ({"type": "combo"}, "combo"),
        ({"type": False}, None),
    ],
)
def test_product_type_is_normalised_across_versions(record: dict, expected: str | None) -> None:
    assert product_type(record) == expected


VERSIONS = [
    (1, 42, "2026-11-28 08:19:30"),
    (1, 42, "2026-11-28 08:19:31"),
    (2, 42, "2026-11-28 08:19:30"),
]


def test_event_id_is_the_written_formula_per_version() -> None:
    """One id per (connection, order, write_date): the contract's uuid5, computed apart."""
    ids = [event_id(*version) for version in VERSIONS]
    assert ids == [expected_event_id(*version) for version in VERSIONS]
    assert len(set(ids)) == len(VERSIONS)
    assert ids[0] == "422f86f7-a2fd-524c-a167-d0b484d4e704"  # also in reference-payload.json


def test_iso_utc_formats_odoo_datetimes() -> None:
    assert iso_utc("2026-11-28 08:19:30") == "2026-11-28T08:19:30Z"
    assert iso_utc(False) is None


def test_content_hash_ignores_the_version_stamp_only(bundle) -> None:
    first = map_order(bundle, recorded_context(), 1)
    bundle.orders[1] = {**bundle.orders[1], "write_date": "2026-11-28 09:00:00"}
    bumped = map_order(bundle, recorded_context(), 1)
    assert content_hash(first) == content_hash(bumped)
    bundle.lines[2] = {**bundle.lines[2], "product_uom_qty": 4.0}
    changed = map_order(bundle, recorded_context(), 1)
    assert content_hash(changed) != content_hash(first)


def test_a_record_missing_a_field_is_quarantined_naming_the_field(bundle) -> None:
    bundle.orders[4] = {k: v for k, v in bundle.orders[4].items() if k != "amount_total"}
    page = map_page(bundle, recorded_context(), [OrderStamp(4, "2026-11-28 08:19:30")])
    assert [(q.order_id, q.reason) for q in page.quarantined] == [
        (4, "order 4 has no field 'amount_total'")
    ]


def test_a_field_of_the_wrong_type_is_quarantined_as_malformed(bundle) -> None:
    bundle.orders[4] = {**bundle.orders[4], "amount_total": "lots"}
    page = map_page(bundle, recorded_context(), [OrderStamp(4, "2026-11-28 08:19:30")])
    [quarantined] = page.quarantined
    assert quarantined.reason.startswith("malformed record: amount_total:")
    assert "'lots'" in quarantined.reason


def test_a_bug_in_the_mapper_is_raised_not_quarantined(bundle, monkeypatch) -> None:
    def broken(*_args: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr("poller.orders.map_address", broken)
    with pytest.raises(TypeError, match="a bug"):
        map_page(bundle, recorded_context(), [OrderStamp(4, "2026-11-28 08:19:30")])
