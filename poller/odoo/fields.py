"""Field names that move between Odoo 16 and 19, resolved per tenant from `fields_get`.

The mapper reads one normalized record shape; this module decides which Odoo field fills it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

RESOLVED_MODELS = ("sale.order", "sale.order.line", "res.partner", "product.product")

ORDER_FIELDS = [
    "name",
    "state",
    "write_date",
    "date_order",
    "commitment_date",
    "client_order_ref",
    "partner_id",
    "partner_shipping_id",
    "currency_id",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "order_line",
]
LINE_FIELDS = [
    "order_id",
    "sequence",
    "display_type",
    "product_id",
    "name",
    "product_uom_qty",
    "price_unit",
    "discount",
    "price_subtotal",
    "price_total",
]
PARTNER_FIELDS = [
    "name",
    "email",
    "phone",
    "vat",
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "country_id",
    "commercial_partner_id",
]
PRODUCT_FIELDS = ["name", "default_code", "barcode", "type"]


class FieldMap(BaseModel):
    """Which optional or renamed fields this tenant's Odoo has."""

    line_uom: str = "product_uom"
    partner_mobile: bool = True
    product_is_storable: bool = False
    line_combo: bool = False
    order_locked: bool = False
    order_states: list[str] = ["draft", "sent", "sale", "done", "cancel"]

    @classmethod
    def from_fields_get(cls, fields: dict[str, dict[str, Any]]) -> FieldMap:
        line = fields.get("sale.order.line", {})
        return cls(
            line_uom="product_uom_id" if "product_uom_id" in line else "product_uom",
            partner_mobile="mobile" in fields.get("res.partner", {}),
            product_is_storable="is_storable" in fields.get("product.product", {}),
            line_combo="combo_item_id" in line,
            order_locked="locked" in fields.get("sale.order", {}),
            order_states=[
                value
                for value, _label in fields.get("sale.order", {}).get("state", {}).get("selection")
                or []
            ]
            or cls().order_states,
        )

    def scanned_states(self) -> list[str]:
        """Confirmed, locked (16's `done`) and cancelled orders: the ones StockMaster hears of."""
        return [state for state in ("sale", "done", "cancel") if state in self.order_states]

    def order_fields(self) -> list[str]:
        return [*ORDER_FIELDS, "locked"] if self.order_locked else list(ORDER_FIELDS)

    def line_fields(self) -> list[str]:
        extra = ["combo_item_id", "linked_line_id"] if self.line_combo else []
        return [*LINE_FIELDS, self.line_uom, *extra]

    def partner_fields(self) -> list[str]:
        return [*PARTNER_FIELDS, "mobile"] if self.partner_mobile else list(PARTNER_FIELDS)

    def product_fields(self) -> list[str]:
        return (
            [*PRODUCT_FIELDS, "is_storable"] if self.product_is_storable else list(PRODUCT_FIELDS)
        )
