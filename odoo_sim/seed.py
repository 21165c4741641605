"""The recorded Odoo 16.0 shop of `tests/fixtures/odoo16/`: same ids, names, amounts and times.

Orders 1-6 were created first (`odoo16-responses.json` was recorded then), orders 7-12 about a
minute later as a copy of them (`odoo16-poll-cycle.json`). Stored times carry microseconds, so
replaying the recorded keyset requests gives the recorded answers: orders 7, 8 and 9 are stored
at 08:20:29.38, .69 and .93 and all read back as "2026-11-28 08:20:29".

The same shop loads into every version profile, through that version's field names (19's
`product_uom_id`/`tax_ids`, no `mobile`, 18's product types), so that a poller reading it with
the right names gets the same content. Besides the recording there is one storable product
(id 6, on no seeded order). `seed_version_showcase` adds orders that exercise what differs.

`seed_recorded_shop` loads the shop the 18.0 and 19.0 recordings were made on instead
(`tests/fixtures/odoo18|19/`): the same seeder run three times (orders 1-18, lines 1-42), USD
currency 1 and EUR 125, partners 7-10 on 18 and 6-9 on 19, no Inventory app (so no storable
product), and on 19 products without a category. The recordings show times to the second; the
microseconds here are made up (any non-zero ones behave alike). Amounts follow the 16 taxes
everywhere: 19's fiscal position on the Acme orders is not played.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from odoo_sim.odoo import OdooSim, naive_utc

DAY = "2026-11-28 08:"
MASTER_DATA_TIME = "19:28.402117"
EUR, USD = 1, 2
ALICE, ACME, BOB, MINIMAL = 7, 8, 9, 10
WIDGET, GADGET, CABLE, MYSTERY, SERVICE, RACK = 1, 2, 3, 4, 5, 6
COMBO = 7  # 18+ only, added by `seed_version_showcase`
NOTE = "<p>Deliver to the back door.</p>"

LineSpec = dict[str, Any]


def _section(name: str) -> LineSpec:
    return {"display_type": "line_section", "name": name}


def _product(product_id: int, qty: float, price: float, discount: float = 0.0) -> LineSpec:
    return {"product_id": product_id, "qty": qty, "price_unit": price, "discount": discount}


ALICE_LINES = (
    _section("Hardware"),
    _product(WIDGET, 3, 25.0),
    _product(CABLE, 0, 7.99),
    {"display_type": "line_note", "name": "Cables are optional; quantity left at 0 on purpose."},
    _section("Services"),
    _product(SERVICE, 1.5, 80.0),
)
ACME_CONTACT_LINES = (_product(GADGET, 2, 120.5, 10.0), _product(WIDGET, 10, 22.5, 5.0))
MINIMAL_LINES = (_product(MYSTERY, 4, 15.0), _product(SERVICE, 1, 80.0))
ACME_EUR_LINES = (_product(GADGET, 1, 110.86), _product(CABLE, 5, 7.35))
DRAFT_LINES = (_product(WIDGET, 1, 25.0),)  # not in the recording: plausible filler
CANCELLED_LINES = (_product(GADGET, 1, 120.5),)  # idem


@dataclass(frozen=True)
class SeedOrder:
    order_id: int
    first_line_id: int
    partner_id: int
    lines: Sequence[LineSpec]
    state: str
    client_order_ref: str | None = None
    note: str | None = None
    currency_id: int = USD


FIRST_BATCH = (
    SeedOrder(1, 1, ALICE, ALICE_LINES, "sale", "PO-ALICE-0001", NOTE),
    SeedOrder(2, 7, BOB, ACME_CONTACT_LINES, "sale", "ACME-PO-7781"),
    SeedOrder(3, 9, MINIMAL, MINIMAL_LINES, "sale"),
    SeedOrder(4, 11, ACME, ACME_EUR_LINES, "sale", "ACME-EUR-1", currency_id=EUR),
    SeedOrder(5, 13, ALICE, DRAFT_LINES, "draft"),
    SeedOrder(6, 14, MINIMAL, CANCELLED_LINES, "cancel"),
)
#: Orders 7-12 repeat 1-6 (lines 15-28).
SECOND_BATCH = tuple(
    replace(order, order_id=order.order_id + 6, first_line_id=order.first_line_id + 14)
    for order in FIRST_BATCH
)

#: order id -> (create_date, date_order, write_date), minutes and seconds past 08:00 on the day.
#: date_order is the confirmation time; cancelled orders were confirmed, then cancelled.
# fmt: off
TIMES: dict[int, tuple[str, str, str]] = {
    1: ("19:29.812345", "19:30.104822", "19:30.104822"),
    2: ("19:30.151204", "19:30.236610", "19:30.236610"),
    3: ("19:30.262158", "19:30.351972", "19:30.351972"),
    4: ("19:30.377436", "19:30.458813", "19:30.458813"),
    5: ("19:30.520907", "19:30.520907", "19:30.520907"),
    6: ("19:30.581230", "19:30.640155", "19:31.071548"),
    7: ("20:29.214637", "20:29.381204", "20:29.381204"),
    8: ("20:29.527781", "20:29.692517", "20:29.692517"),
    9: ("20:29.801346", "20:29.934061", "20:29.934061"),
    10: ("20:30.021894", "20:30.163370", "20:30.163370"),
    11: ("20:30.307725", "20:30.307725", "20:30.307725"),
    12: ("20:30.402219", "20:30.455061", "20:30.612480"),
}
# fmt: on

#: The 18.0 and 19.0 recordings: three batches (orders 1-6, 7-12, 13-18) on 2026-12-01 07:.
# fmt: off
TIMES_18: dict[int, tuple[str, str, str]] = {
    1: ("44:53.101200", "44:53.180400", "44:53.180400"),
    2: ("44:53.231100", "44:53.302700", "44:53.302700"),
    3: ("44:53.350800", "44:53.421300", "44:53.421300"),
    4: ("44:53.470200", "44:53.546900", "44:53.546900"),
    5: ("44:53.601500", "44:53.601500", "44:53.601500"),
    6: ("44:53.652300", "44:53.720800", "44:53.811600"),
    7: ("45:13.102400", "45:13.171300", "45:13.171300"),
    8: ("45:13.230500", "45:13.305100", "45:13.305100"),
    9: ("45:13.360700", "45:13.432800", "45:13.432800"),
    10: ("45:13.490600", "45:13.563400", "45:13.563400"),
    11: ("45:13.631900", "45:13.631900", "45:13.631900"),
    12: ("45:13.702200", "45:13.781500", "45:14.020300"),
    13: ("45:15.101700", "45:15.170900", "45:15.170900"),
    14: ("45:15.245300", "45:15.310200", "45:15.310200"),
    15: ("45:15.370400", "45:15.440100", "45:15.440100"),
    16: ("45:15.500900", "45:15.575600", "45:15.575600"),
    17: ("45:15.640300", "45:15.640300", "45:15.640300"),
    18: ("45:15.700100", "45:15.770600", "45:15.905200"),
}
TIMES_19: dict[int, tuple[str, str, str]] = {
    1: ("49:18.102300", "49:18.181700", "49:18.181700"),
    2: ("49:18.240500", "49:18.311900", "49:18.311900"),
    3: ("49:18.372600", "49:18.450300", "49:18.450300"),
    4: ("49:18.512800", "49:18.590400", "49:18.590400"),
    5: ("49:19.020500", "49:19.020500", "49:19.020500"),
    6: ("49:19.080300", "49:19.150700", "49:19.230400"),
    7: ("49:30.101100", "49:30.170200", "49:30.170200"),
    8: ("49:30.230900", "49:30.302400", "49:30.302400"),
    9: ("49:30.361500", "49:30.433700", "49:30.433700"),
    10: ("49:30.492200", "49:30.566800", "49:30.566800"),
    11: ("49:30.630700", "49:30.630700", "49:30.630700"),
    12: ("49:30.700200", "49:30.780100", "49:31.050600"),
    13: ("49:36.101900", "49:36.172500", "49:36.172500"),
    14: ("49:36.240600", "49:36.315300", "49:36.315300"),
    15: ("49:36.372100", "49:36.441800", "49:36.441800"),
    16: ("49:36.503300", "49:36.577200", "49:36.577200"),
    17: ("49:36.640800", "49:36.640800", "49:36.640800"),
    18: ("49:36.700300", "49:36.770800", "49:37.040200"),
}
# fmt: on


@dataclass(frozen=True)
class Layout:
    """Where a seeded shop puts its records (the defaults: the 16.0 recording's shop)."""

    eur: int = EUR
    usd: int = USD
    alice: int = ALICE  # Acme, Bob and Minimal follow
    day: str = DAY
    times: Mapping[int, tuple[str, str, str]] = field(default_factory=lambda: TIMES)
    batches: int = 2  # the six orders of FIRST_BATCH, repeated
    storable: bool = True  # the Inventory app and the storable product 6
    categorized: bool = True  # products in category 1 "All"

    def partner(self, seeded: int) -> int:
        """The id of a partner the 16 recording numbers `seeded` (ALICE...MINIMAL)."""
        return self.alice + seeded - ALICE

    def currency(self, seeded: int) -> int:
        return self.eur if seeded == EUR else self.usd

    def orders(self, batches: int) -> tuple[SeedOrder, ...]:
        return tuple(
            replace(
                order,
                order_id=order.order_id + 6 * batch,
                first_line_id=order.first_line_id + 14 * batch,
                partner_id=self.partner(order.partner_id),
                currency_id=self.currency(order.currency_id),
            )
            for batch in range(batches)
            for order in FIRST_BATCH
        )


#: The shops of the 18.0 and 19.0 recordings (`seed_recorded_shop`).
RECORDED_LAYOUTS = {
    18: Layout(eur=125, usd=1, day="2026-12-01 07:", times=TIMES_18, batches=3, storable=False),
    19: Layout(
        eur=125,
        usd=1,
        alice=6,
        day="2026-12-01 07:",
        times=TIMES_19,
        batches=3,
        storable=False,
        categorized=False,
    ),
}

Stamp = Callable[[str], datetime]


def seed_shop(
    sim: OdooSim,
    anchor: datetime | None = None,
    *,
    second_batch: bool = True,
    layout: Layout | None = None,
) -> None:
    """Load the recorded shop into an empty simulator.

    With `anchor`, every time is shifted by one delta so that the latest seeded `write_date`
    equals `anchor` (naive UTC). `second_batch=False` stops after orders 1-6, the state of the
    shop when `odoo16-responses.json` was recorded. `layout` places it elsewhere (ids, times).
    """
    layout = layout or Layout()
    orders = layout.orders(layout.batches if second_batch else 1)
    stamp = _stamper(layout, orders, anchor)
    _seed_geography(sim, stamp, layout)
    _seed_currencies_and_units(sim, stamp, layout)
    _seed_products(sim, stamp, PRODUCTS if layout.storable else PRODUCTS[:5], layout)
    _seed_partners(sim, stamp, layout)
    for order in orders:
        _seed_order(sim, order, stamp, layout)


def seed_recorded_shop(sim: OdooSim, anchor: datetime | None = None) -> None:
    """Load the shop the 18.0 or 19.0 recording was made on (by the simulator's version;
    16 and 17 get the 16.0 one)."""
    seed_shop(sim, anchor, layout=RECORDED_LAYOUTS.get(sim.profile.fieldset, Layout()))


def _stamper(layout: Layout, orders: Sequence[SeedOrder], anchor: datetime | None) -> Stamp:
    def recorded(clock: str) -> datetime:
        return datetime.fromisoformat(layout.day + clock)

    latest = max(recorded(layout.times[order.order_id][2]) for order in orders)
    delta = timedelta(0) if anchor is None else naive_utc(anchor) - latest
    return lambda clock: recorded(clock) + delta


def _create(sim: OdooSim, model: str, stamp: Stamp, rows: Sequence[dict[str, Any]]) -> None:
    """Create the rows; values of fields the version does not have are left out (19 has no
    `mobile`, `uom_po_id`, `uom.uom.category_id`; 18 no `priority`...)."""
    moment = stamp(MASTER_DATA_TIME)
    known = sim.store.fields[model]
    for values in rows:
        kept = {name: value for name, value in values.items() if name in known or name == "id"}
        sim.create(model, {"create_date": moment, "write_date": moment, **kept})


def _seed_geography(sim: OdooSim, stamp: Stamp, layout: Layout) -> None:
    _create(
        sim,
        "res.country",
        stamp,
        [
            {
                "id": 57,
                "name": "Germany",
                "code": "DE",
                "currency_id": layout.eur,
                "phone_code": 49,
                "vat_label": "USt-IdNr.",
                "name_position": "before",
            },
            {
                "id": 233,
                "name": "United States",
                "code": "US",
                "currency_id": layout.usd,
                "phone_code": 1,
                "state_required": True,
                "zip_required": True,
                "name_position": "before",
            },
        ],
    )
    _create(
        sim,
        "res.country.state",
        stamp,
        [
            {"id": 22, "name": "Illinois", "code": "IL", "country_id": 233},
        ],
    )


def _seed_currencies_and_units(sim: OdooSim, stamp: Stamp, layout: Layout) -> None:
    common = {
        "active": True,
        "decimal_places": 2,
        "rounding": 0.01,
        "currency_subunit_label": "Cents",
    }
    _create(
        sim,
        "res.currency",
        stamp,
        [
            {
                **common,
                "id": layout.eur,
                "name": "EUR",
                "symbol": "€",
                "full_name": "Euro",
                "position": "after",
                "currency_unit_label": "Euros",
            },
            {
                **common,
                "id": layout.usd,
                "name": "USD",
                "symbol": "$",
                "full_name": "United States dollar",
                "position": "before",
                "currency_unit_label": "Dollars",
            },
        ],
    )
    _create(
        sim,
        "uom.uom",
        stamp,
        [
            {
                "id": 1,
                "name": "Units",
                "category_id": 1,
                "factor": 1.0,
                "rounding": 0.01,
                "uom_type": "reference",
                "active": True,
            },
        ],
    )


PRODUCTS = (
    # id, name, default_code, barcode, kind (consu, service, storable or combo), list_price
    (WIDGET, "Widget Standard", "WID-001", "4006381333931", "consu", 25.0),
    (GADGET, "Gadget Pro", "GAD-PRO", None, "consu", 120.5),
    (CABLE, "Cable 2m", "CAB-2M", None, "consu", 7.99),
    (MYSTERY, "Mystery Item (no internal ref)", None, None, "consu", 15.0),
    (SERVICE, "Installation Service", "SRV-INST", None, "service", 80.0),
    (RACK, "Pallet Rack", "RACK-01", None, "storable", 199.0),  # not in the recording
)
COMBO_PRODUCT = (COMBO, "Office Starter Combo", "COMBO-OFF", None, "combo", 145.5)

Product = tuple[int, str, str | None, str | None, str, float]


def product_type_values(sim: OdooSim, kind: str) -> dict[str, Any]:
    """The type fields of a product of `kind` in the simulator's version: storable goods are
    `type=product` in 16/17 and `type=consu` with `is_storable` from 18."""
    if kind == "storable" and sim.profile.storable_flag:
        values: dict[str, Any] = {"type": "consu", "is_storable": True}
    else:
        values = {"type": "product" if kind == "storable" else kind}
    if "detailed_type" in sim.store.fields["product.template"]:
        values["detailed_type"] = values["type"]
    return values


def _seed_products(
    sim: OdooSim,
    stamp: Stamp,
    products: Sequence[Product] = PRODUCTS,
    layout: Layout | None = None,
) -> None:
    layout = layout or Layout()
    if any(product[4] == "storable" for product in products):
        sim.enable_storable_products()
    templates, variants = [], []
    for product_id, name, code, barcode, kind, price in products:
        templates.append(
            {
                "id": product_id,
                "name": name,
                "default_code": code,
                **product_type_values(sim, kind),
                "list_price": price,
                "uom_id": 1,
                "uom_po_id": 1,
                "categ_id": 1 if layout.categorized else False,
                "sale_ok": True,
                "purchase_ok": True,
                "active": True,
                "invoice_policy": "order",
                "expense_policy": "no",
                "sale_line_warn": "no-message",
                "priority": "0",
                "service_type": "manual",
            }
        )
        variants.append(
            {
                "id": product_id,
                "product_tmpl_id": product_id,
                "default_code": code,
                "barcode": barcode,
                "active": True,
            }
        )
    _create(sim, "product.template", stamp, templates)
    _create(sim, "product.product", stamp, variants)


PARTNERS = (
    {
        "id": ALICE,
        "name": "Alice Martin",
        "email": "alice.martin@example.com",
        "phone": "+1 217-555-0101",
        "mobile": "+1 217-555-0199",
        "street": "742 Evergreen Terrace",
        "street2": "Apt 3B",
        "city": "Springfield",
        "zip": "62704",
        "state_id": 22,
        "country_id": 233,
        "ref": "SEED-FULL",
    },
    {
        "id": ACME,
        "name": "Acme Industries GmbH",
        "email": "info@acme-industries.example",
        "phone": "+49 30 1234567",
        "vat": "DE123456788",
        "street": "Industriestrasse 12",
        "city": "Berlin",
        "zip": "10115",
        "country_id": 57,
        "is_company": True,
        "ref": "SEED-COMPANY",
    },
    {
        "id": BOB,
        "name": "Bob Builder",
        "parent_id": ACME,
        "email": "bob.builder@acme-industries.example",
        "phone": "+49 30 1234568",
        "vat": "DE123456788",
        "street": "Industriestrasse 12",
        "city": "Berlin",
        "zip": "10115",
        "country_id": 57,
        "ref": "SEED-CONTACT",
    },
    {"id": MINIMAL, "name": "Minimal Customer", "ref": "SEED-MIN"},
)


def _seed_partners(sim: OdooSim, stamp: Stamp, layout: Layout) -> None:
    common = {"active": True, "type": "contact", "lang": "en_US", "customer_rank": 1}
    rows = [{**common, **partner} for partner in PARTNERS]
    for row in rows:
        row["id"] = layout.partner(row["id"])
        if "parent_id" in row:
            row["parent_id"] = layout.partner(row["parent_id"])
    _create(sim, "res.partner", stamp, rows)


def _seed_order(sim: OdooSim, order: SeedOrder, stamp: Stamp, layout: Layout) -> None:
    created, date_order, written = (stamp(clock) for clock in layout.times[order.order_id])
    lines = [
        {**spec, "id": order.first_line_id + offset} for offset, spec in enumerate(order.lines)
    ]
    sim.insert_order(
        {
            "id": order.order_id,
            "name": f"S{order.order_id:05d}",
            "state": order.state,
            "partner_id": order.partner_id,
            "currency_id": order.currency_id,
            "client_order_ref": order.client_order_ref,
            "note": order.note,
            "create_date": created,
            "date_order": date_order,
            "write_date": written,
        },
        lines,
    )


def seed_version_showcase(sim: OdooSim) -> dict[str, int]:
    """Add, after the recorded shop, confirmed orders that exercise what differs between
    versions; returns their ids by role:

    - "storable": a line of the storable product 6;
    - "locked": then locked (16: state `done`; 17+: state `sale` with `locked` true);
    - "subsection": sections around product lines, one a `line_subsection` on 19 (a
      `line_section` before), which a payload leaves out;
    - "combo" (18+ only): combo product 7 sold as a parent line at price 0 and two child lines
      pointing at it with `linked_line_id` and `combo_item_id`.
    """
    ids = {
        "storable": sim.create_order(ALICE, [_product(RACK, 2, 199.0), _product(WIDGET, 4, 25.0)]),
        "locked": sim.create_order(ACME, [_product(GADGET, 1, 120.5), _product(CABLE, 3, 7.99)]),
        "subsection": sim.create_order(BOB, _subsection_lines(sim), client_order_ref="BOB-FIT-1"),
    }
    sim.lock_order(ids["locked"]["id"])
    if sim.profile.combos:
        ids["combo"] = _combo_order(sim)
    return {role: created["id"] for role, created in ids.items()}


def _subsection_lines(sim: OdooSim) -> list[LineSpec]:
    inner = "line_subsection" if sim.profile.subsections else "line_section"
    return [
        _section("Warehouse fit-out"),
        {"display_type": inner, "name": "Shelving"},
        _product(RACK, 1, 199.0),
        {"display_type": inner, "name": "Fixings"},
        _product(CABLE, 10, 7.99, 5.0),
    ]


def _combo_order(sim: OdooSim) -> dict[str, Any]:
    with sim.mutex:  # the parent line's id is taken before the order is written
        if sim.store.tables["product.product"].row(COMBO) is None:
            _seed_products(sim, lambda clock: sim.clock(), [COMBO_PRODUCT])
        parent = sim.store.tables["sale.order.line"].next_id()
        lines = [
            {"id": parent, **_product(COMBO, 1, 0.0)},
            {**_product(WIDGET, 1, 25.0), "combo_item_id": 1, "linked_line_id": parent},
            {**_product(GADGET, 1, 120.5), "combo_item_id": 2, "linked_line_id": parent},
        ]
        return sim.create_order(MINIMAL, lines, client_order_ref="COMBO-1")
