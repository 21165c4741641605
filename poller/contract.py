"""The webhook body StockMaster receives, as pydantic models (the published JSON Schema's source).

Every key is always present; an empty Odoo value (`false`) becomes `null`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

EventType = Literal["order.confirmed", "order.updated", "order.cancelled"]
ProductType = Literal["storable", "consumable", "service", "combo"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Strict):
    id: int
    name: str | None
    company_name: str | None
    email: str | None
    phone: str | None
    vat: str | None
    street: str | None
    street2: str | None
    city: str | None
    zip: str | None
    state_code: str | None
    country_code: str | None


class Line(_Strict):
    id: int
    product_id: int
    sku: str
    barcode: str | None
    name: str
    description: str | None
    quantity: float
    uom: str | None
    price_unit: float
    discount: float
    price_subtotal: float
    price_total: float
    product_type: ProductType | None


class Order(_Strict):
    id: int
    name: str
    state: str
    client_order_ref: str | None
    date_order: str | None
    commitment_date: str | None
    write_date: str
    currency: str | None
    amount_untaxed: float
    amount_tax: float
    amount_total: float
    customer: Address
    shipping_address: Address | None
    lines: list[Line]


class ConnectionRef(_Strict):
    id: int
    name: str
    odoo_url: str
    database: str
    odoo_version: str


class WebhookPayload(_Strict):
    event: EventType
    event_id: str
    occurred_at: str
    connection: ConnectionRef
    order: Order
