"""The payloads StockMaster must receive for the seeded shop, written out field by field from
the recorded Odoo 16 data (orders 7-10 are the recorded copies of orders 1-4)."""

from __future__ import annotations

from typing import Any

ALICE = {
    "id": 7,
    "name": "Alice Martin",
    "company_name": None,
    "email": "alice.martin@example.com",
    "phone": "+1 217-555-0101",
    "vat": None,
    "street": "742 Evergreen Terrace",
    "street2": "Apt 3B",
    "city": "Springfield",
    "zip": "62704",
    "state_code": "IL",
    "country_code": "US",
}
ACME = {
    "id": 8,
    "name": "Acme Industries GmbH",
    "company_name": None,
    "email": "info@acme-industries.example",
    "phone": "+49 30 1234567",
    "vat": "DE123456788",
    "street": "Industriestrasse 12",
    "street2": None,
    "city": "Berlin",
    "zip": "10115",
    "state_code": None,
    "country_code": "DE",
}
BOB = {
    **ACME,
    "id": 9,
    "name": "Bob Builder",
    "company_name": "Acme Industries GmbH",
    "email": "bob.builder@acme-industries.example",
    "phone": "+49 30 1234568",
}
MINIMAL = {
    "id": 10,
    "name": "Minimal Customer",
    "company_name": None,
    "email": None,
    "phone": None,
    "vat": None,
    "street": None,
    "street2": None,
    "city": None,
    "zip": None,
    "state_code": None,
    "country_code": None,
}


def line(
    line_id: int,
    product_id: int,
    sku: str,
    barcode: str | None,
    name: str,
    qty: float,
    price: float,
    discount: float,
    subtotal: float,
    total: float,
    product_type: str,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "id": line_id,
        "product_id": product_id,
        "sku": sku,
        "barcode": barcode,
        "name": name,
        "description": description or f"[{sku}] {name}",
        "quantity": qty,
        "uom": "Units",
        "price_unit": price,
        "discount": discount,
        "price_subtotal": subtotal,
        "price_total": total,
        "product_type": product_type,
    }


def alice_lines(first: int) -> list[dict[str, Any]]:
    return [
        line(
            first + 1,
            1,
            "WID-001",
            "4006381333931",
            "Widget Standard",
            3.0,
            25.0,
            0.0,
            75.0,
            86.25,
            "consumable",
        ),
        line(
            first + 5,
            5,
            "SRV-INST",
            None,
            "Installation Service",
            1.5,
            80.0,
            0.0,
            120.0,
            138.0,
            "service",
        ),
    ]


def bob_lines(first: int) -> list[dict[str, Any]]:
    return [
        line(
            first, 2, "GAD-PRO", None, "Gadget Pro", 2.0, 120.5, 10.0, 216.9, 249.44, "consumable"
        ),
        line(
            first + 1,
            1,
            "WID-001",
            "4006381333931",
            "Widget Standard",
            10.0,
            22.5,
            5.0,
            213.75,
            245.81,
            "consumable",
        ),
    ]


def minimal_lines(first: int, database: str) -> list[dict[str, Any]]:
    return [
        line(
            first,
            4,
            f"ODOO-{database}-4",
            None,
            "Mystery Item (no internal ref)",
            4.0,
            15.0,
            0.0,
            60.0,
            69.0,
            "consumable",
            description="Mystery Item (no internal ref)",
        ),
        line(
            first + 1,
            5,
            "SRV-INST",
            None,
            "Installation Service",
            1.0,
            80.0,
            0.0,
            80.0,
            92.0,
            "service",
        ),
    ]


def acme_eur_lines(first: int) -> list[dict[str, Any]]:
    return [
        line(
            first, 2, "GAD-PRO", None, "Gadget Pro", 1.0, 110.86, 0.0, 110.86, 127.49, "consumable"
        ),
        line(first + 1, 3, "CAB-2M", None, "Cable 2m", 5.0, 7.35, 0.0, 36.75, 42.26, "consumable"),
    ]


def order(
    order_id: int,
    ref: str | None,
    when: str,
    currency: str,
    amounts: tuple[float, float, float],
    customer: dict[str, Any],
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": order_id,
        "name": f"S{order_id:05d}",
        "state": "sale",
        "client_order_ref": ref,
        "date_order": when,
        "commitment_date": None,
        "write_date": when,
        "currency": currency,
        "amount_untaxed": amounts[0],
        "amount_tax": amounts[1],
        "amount_total": amounts[2],
        "customer": customer,
        "shipping_address": customer,
        "lines": lines,
    }


def expected_orders(database: str) -> dict[int, dict[str, Any]]:
    """`order` objects per order id, as the webhook contract says they must arrive."""
    first, second, last = "2026-11-28T08:19:30Z", "2026-11-28T08:20:29Z", "2026-11-28T08:20:30Z"
    alice, bob = (195.0, 29.25, 224.25), (430.65, 64.6, 495.25)
    minimal, eur = (140.0, 21.0, 161.0), (147.61, 22.14, 169.75)
    return {
        1: order(1, "PO-ALICE-0001", first, "USD", alice, ALICE, alice_lines(1)),
        2: order(2, "ACME-PO-7781", first, "USD", bob, BOB, bob_lines(7)),
        3: order(3, None, first, "USD", minimal, MINIMAL, minimal_lines(9, database)),
        4: order(4, "ACME-EUR-1", first, "EUR", eur, ACME, acme_eur_lines(11)),
        7: order(7, "PO-ALICE-0001", second, "USD", alice, ALICE, alice_lines(15)),
        8: order(8, "ACME-PO-7781", second, "USD", bob, BOB, bob_lines(21)),
        9: order(9, None, second, "USD", minimal, MINIMAL, minimal_lines(23, database)),
        10: order(10, "ACME-EUR-1", last, "EUR", eur, ACME, acme_eur_lines(25)),
    }
