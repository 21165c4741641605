"""Pure mapping from Odoo records to the webhook payload. No I/O here.

One mapper serves every Odoo version: version differences are resolved into a FieldMap
before records reach this module.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from poller.contract import Address, ConnectionRef, EventType, Line, Order, WebhookPayload
from poller.odoo.fields import FieldMap
from poller.odoo.reader import CONFIRMED_STATES, OdooBundle, OrderStamp

# Fixed namespace so event ids are the same on every machine and every retry.
EVENT_NAMESPACE = uuid.UUID("6b0f3d1e-3c4a-5d7e-9f10-0a1b2c3d4e5f")


class UnmappableOrder(Exception):
    """An order that cannot be turned into a payload; it is quarantined with this reason."""


@dataclass(frozen=True)
class MappingContext:
    connection: ConnectionRef
    fields: FieldMap


@dataclass(frozen=True)
class Quarantined:
    order_id: int
    write_date: str
    reason: str


@dataclass
class MappedPage:
    payloads: list[WebhookPayload] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    left_for_next_scan: list[int] = field(default_factory=list)


def event_id(connection_id: int, order_id: int, write_date: str) -> str:
    """Deterministic per order version, so StockMaster can drop duplicates."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{connection_id}:{order_id}:{write_date}"))


def iso_utc(value: Any) -> str | None:
    """Odoo's naive UTC `YYYY-MM-DD HH:MM:SS` to ISO 8601 with `Z`, whole seconds."""
    if not value:
        return None
    text = str(value)[:19]
    return text.replace(" ", "T") + "Z"


def text_or_none(value: Any) -> str | None:
    return None if value is False or value is None or value == "" else str(value)


def need(record: dict[str, Any], key: str, what: str) -> Any:
    """A field the mapping cannot do without; a record that lacks it is malformed (a missing
    key here is Odoo's answer at fault, not the poller's code)."""
    if key not in record:
        raise UnmappableOrder(f"{what} {record.get('id', '?')} has no field '{key}'")
    return record[key]


def m2o_name(value: Any) -> str | None:
    """The display name of a many2one `[id, "name"]`, None for `false`."""
    if m2o_id(value) is None:
        return None
    return text_or_none(value[1]) if len(value) > 1 else None


def m2o_id(value: Any) -> int | None:
    """The id of a many2one `[id, "name"]`, None for `false`; anything else is malformed."""
    if not value:
        return None
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return value[0]
    raise UnmappableOrder(f"malformed many2one value {value!r}")


def _related(table: dict[int, dict[str, Any]], ref: Any, what: str) -> dict[str, Any] | None:
    related_id = m2o_id(ref)
    if related_id is None:
        return None
    record = table.get(related_id)
    if record is None:
        raise UnmappableOrder(f"{what} {related_id} could not be read from Odoo")
    return record


def _code(table: dict[int, dict[str, Any]], ref: Any) -> str | None:
    related = m2o_id(ref)
    record = table.get(related) if related is not None else None
    return text_or_none(record.get("code")) if record else None


def map_address(bundle: OdooBundle, partner: dict[str, Any]) -> Address:
    partner_id = need(partner, "id", "partner")
    commercial = partner.get("commercial_partner_id")
    company_name = m2o_name(commercial) if m2o_id(commercial) not in (None, partner_id) else None
    phone = partner.get("phone") or partner.get("mobile")
    return Address(
        id=partner_id,
        name=text_or_none(partner.get("name")),
        company_name=text_or_none(company_name),
        email=text_or_none(partner.get("email")),
        phone=text_or_none(phone),
        vat=text_or_none(partner.get("vat")),
        street=text_or_none(partner.get("street")),
        street2=text_or_none(partner.get("street2")),
        city=text_or_none(partner.get("city")),
        zip=text_or_none(partner.get("zip")),
        state_code=_code(bundle.states, partner.get("state_id")),
        country_code=_code(bundle.countries, partner.get("country_id")),
    )


def product_type(product: dict[str, Any]) -> str | None:
    """16-17 `product` and 18+ `consu` with `is_storable` are both stock-tracked goods."""
    kind = product.get("type")
    if kind == "product" or (kind == "consu" and product.get("is_storable")):
        return "storable"
    if kind == "consu":
        return "consumable"
    return kind if kind in ("service", "combo") else None


def is_delivered_goods(line: dict[str, Any]) -> bool:
    """Sections, subsections, notes, product-less and zero-quantity lines carry no stock."""
    return (
        not line.get("display_type")
        and bool(line.get("product_id"))
        and bool(line.get("product_uom_qty"))
    )


def map_line(bundle: OdooBundle, ctx: MappingContext, line: dict[str, Any]) -> Line:
    product = _related(bundle.products, need(line, "product_id", "order line"), "product")
    if product is None:  # a product reference that names no record
        raise UnmappableOrder(f"line {line.get('id')} names no product")
    uom = bundle.uoms.get(m2o_id(line.get(ctx.fields.line_uom)) or 0)
    product_id = need(product, "id", "product")
    return Line(
        id=need(line, "id", "order line"),
        product_id=product_id,
        sku=text_or_none(product.get("default_code"))
        or f"ODOO-{ctx.connection.database}-{product_id}",
        barcode=text_or_none(product.get("barcode")),
        name=text_or_none(product.get("name"))
        or m2o_name(line["product_id"])
        or f"product {product_id}",
        description=text_or_none(line.get("name")),
        quantity=need(line, "product_uom_qty", "order line"),
        uom=text_or_none(uom.get("name")) if uom else None,
        price_unit=need(line, "price_unit", "order line"),
        discount=line.get("discount") or 0.0,
        price_subtotal=need(line, "price_subtotal", "order line"),
        price_total=need(line, "price_total", "order line"),
        product_type=product_type(product),
    )


def order_state(order: dict[str, Any]) -> str:
    """Odoo 16's `done` is 17+'s `sale` with `locked`: one state whatever the version."""
    state = need(order, "state", "order")
    if state == "sale" and order.get("locked"):
        return "done"
    return str(state)


def map_order(
    bundle: OdooBundle,
    ctx: MappingContext,
    order_id: int,
    event: EventType = "order.confirmed",
) -> WebhookPayload:
    order = bundle.orders.get(order_id)
    if order is None:
        raise UnmappableOrder(f"order {order_id} could not be read from Odoo")
    customer = _related(bundle.partners, need(order, "partner_id", "order"), "customer")
    if customer is None:
        raise UnmappableOrder(f"order {order_id} has no customer")
    shipping = _related(bundle.partners, order.get("partner_shipping_id"), "shipping address")
    line_ids = need(order, "order_line", "order")
    if not isinstance(line_ids, list):
        raise UnmappableOrder(f"order {order_id} has a malformed order_line {line_ids!r}")
    lines = []
    for line_id in line_ids:
        line = bundle.lines.get(line_id)
        if line is None:
            raise UnmappableOrder(f"order line {line_id} could not be read from Odoo")
        if is_delivered_goods(line):
            lines.append(map_line(bundle, ctx, line))
    currency = bundle.currencies.get(m2o_id(order.get("currency_id")) or 0)
    write_date = need(order, "write_date", "order")
    body = Order(
        id=order_id,
        name=need(order, "name", "order"),
        state=order_state(order),
        client_order_ref=text_or_none(order.get("client_order_ref")),
        date_order=iso_utc(order.get("date_order")),
        commitment_date=iso_utc(order.get("commitment_date")),
        write_date=iso_utc(write_date) or "",
        currency=text_or_none(currency.get("name")) if currency else None,
        amount_untaxed=need(order, "amount_untaxed", "order"),
        amount_tax=need(order, "amount_tax", "order"),
        amount_total=need(order, "amount_total", "order"),
        customer=map_address(bundle, customer),
        shipping_address=map_address(bundle, shipping) if shipping else None,
        lines=lines,
    )
    return WebhookPayload(
        event=event,
        event_id=event_id(ctx.connection.id, order_id, write_date),
        occurred_at=body.write_date,
        connection=ctx.connection,
        order=body,
    )


def map_page(bundle: OdooBundle, ctx: MappingContext, stamps: list[OrderStamp]) -> MappedPage:
    """Map every order of a page; one bad order is quarantined and never blocks the rest.

    A cancelled order maps to `order.cancelled` (whether to send it is the outbox's call);
    one that went back to quotation between the scan and the read is left for the next
    scan, which sees its new `write_date`.
    """
    page = MappedPage()
    for stamp in stamps:
        order = bundle.orders.get(stamp.id)
        state = order.get("state") if order is not None else None
        if order is not None and state not in (*CONFIRMED_STATES, "cancel"):
            page.left_for_next_scan.append(stamp.id)
            continue
        event: EventType = "order.cancelled" if state == "cancel" else "order.confirmed"
        try:
            page.payloads.append(map_order(bundle, ctx, stamp.id, event))
        except (UnmappableOrder, ValidationError) as exc:
            # Only what the data is at fault for: any other exception is a bug in the
            # poller, which fails the poll (and counts for the breaker) rather than
            # passing for a bad record.
            reason = str(exc) if isinstance(exc, UnmappableOrder) else _first_error(exc)
            write_date = (order or {}).get("write_date") or stamp.write_date
            page.quarantined.append(Quarantined(stamp.id, write_date, reason))
    return page


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"malformed record: {where}: {error['msg']} (got {error.get('input')!r})"


def content_hash(payload: WebhookPayload) -> str:
    """Hash of what StockMaster sees of an order, minus its version stamp."""
    order = payload.order.model_dump(exclude={"write_date"})
    blob = json.dumps(order, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()
