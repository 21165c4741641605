"""Reading confirmed orders: the id-paged scan and the fixed-size batch read behind each page.

Why pages go by id under a fixed `write_date >= T`: Odoo returns `write_date` truncated to the
second but compares the stored microseconds, so a keyset on returned `(write_date, id)`
repeats rows and can loop forever. Ids only grow, so an id-paged scan always ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from poller.odoo.client import OdooClient
from poller.odoo.fields import FieldMap

CONFIRMED_STATES = ("sale", "done")
ACTIVE_TEST_OFF = {"active_test": False}


@dataclass(frozen=True)
class OrderStamp:
    """One scanned order: what the idempotency key needs and nothing more."""

    id: int
    write_date: str


def scan_domain(lower_bound: str, after_id: int, states: Sequence[str]) -> list[Any]:
    return [
        ["state", "in", list(states)],
        ["write_date", ">=", lower_bound],
        ["id", ">", after_id],
    ]


async def scan_page(
    client: OdooClient, fields: FieldMap, lower_bound: str, after_id: int, limit: int
) -> list[OrderStamp]:
    rows = await client.search_read(
        "sale.order",
        scan_domain(lower_bound, after_id, fields.scanned_states()),
        ["write_date"],
        order="id asc",
        limit=limit,
    )
    return [OrderStamp(id=row["id"], write_date=row["write_date"]) for row in rows]


async def count_scan(client: OdooClient, fields: FieldMap, lower_bound: str, after_id: int) -> int:
    """How many orders the rest of a scan will go through (for progress bars)."""
    return await client.search_count(
        "sale.order", scan_domain(lower_bound, after_id, fields.scanned_states())
    )


@dataclass
class OdooBundle:
    """Every record one page of orders needs, keyed by model then id."""

    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    lines: dict[int, dict[str, Any]] = field(default_factory=dict)
    partners: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    currencies: dict[int, dict[str, Any]] = field(default_factory=dict)
    uoms: dict[int, dict[str, Any]] = field(default_factory=dict)
    countries: dict[int, dict[str, Any]] = field(default_factory=dict)
    states: dict[int, dict[str, Any]] = field(default_factory=dict)


def many2one_ids(records: Iterable[dict[str, Any]], *names: str) -> list[int]:
    return sorted({r[n][0] for r in records for n in names if r.get(n)})


def by_id(records: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {record["id"]: record for record in records}


async def fetch_bundle(
    client: OdooClient, fields: FieldMap, order_ids: Sequence[int]
) -> OdooBundle:
    """Eight reads in three rounds, whatever the number of orders (long id lists are chunked)."""
    orders = await client.read("sale.order", order_ids, fields.order_fields())
    line_ids = sorted({line_id for order in orders for line_id in order["order_line"]})
    lines, partners, currencies = await asyncio.gather(
        client.read("sale.order.line", line_ids, fields.line_fields()),
        client.read(
            "res.partner",
            many2one_ids(orders, "partner_id", "partner_shipping_id"),
            fields.partner_fields(),
            context=ACTIVE_TEST_OFF,
        ),
        client.read("res.currency", many2one_ids(orders, "currency_id"), ["name"]),
    )
    products, uoms, countries, states = await asyncio.gather(
        client.read(
            "product.product",
            many2one_ids(lines, "product_id"),
            fields.product_fields(),
            context=ACTIVE_TEST_OFF,
        ),
        client.read("uom.uom", many2one_ids(lines, fields.line_uom), ["name"]),
        client.read("res.country", many2one_ids(partners, "country_id"), ["code"]),
        client.read("res.country.state", many2one_ids(partners, "state_id"), ["code"]),
    )
    return OdooBundle(
        orders=by_id(orders),
        lines=by_id(lines),
        partners=by_id(partners),
        products=by_id(products),
        currencies=by_id(currencies),
        uoms=by_id(uoms),
        countries=by_id(countries),
        states=by_id(states),
    )
