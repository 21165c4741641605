"""Sale orders as Odoo writes them: lines priced and taxed, totals summed, confirm, cancel and
touch moving `state` and `write_date`. No locking here: `OdooSim` serializes the calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from odoo_sim.odoo.errors import SimConflict, SimError, SimNotFound
from odoo_sim.odoo.models import TAX_ID
from odoo_sim.odoo.profiles import VersionProfile
from odoo_sim.odoo.table import Row
from odoo_sim.odoo.tables import Tables
from odoo_sim.odoo.values import float_round, format_datetime, line_amounts

LINE_TAXES = (TAX_ID,)
#: Line keys a spec may set as is (each where the version has the field).
_PASSED = ("combo_item_id", "linked_line_id")


def order_amounts(lines: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    untaxed = float_round(sum(line.get("price_subtotal", 0.0) for line in lines))
    tax = float_round(sum(line.get("price_tax", 0.0) for line in lines))
    total = float_round(untaxed + tax)
    return {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total}


class OrderBook:
    """Creates and moves sale orders in a store, as user `uid`, at the clock's time."""

    def __init__(
        self, store: Tables, uid: int, clock: Callable[[], datetime], profile: VersionProfile
    ) -> None:
        self.store = store
        self.uid = uid
        self.clock = clock
        self.profile = profile

    def insert(self, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        order = self._order_values(values)
        line_values = [self._line_values(order, spec) for spec in lines]
        order.update(order_amounts(line_values))
        now = self.clock()
        order_id = self.store.create("sale.order", order, now, self.uid)
        for line in line_values:
            self.store.create("sale.order.line", {**line, "order_id": order_id}, now, self.uid)
        return order_id

    def confirm(self, order_id: int) -> dict[str, Any]:
        state = self.value(order_id, "state")
        if state not in ("draft", "sent"):
            raise SimConflict(f"sale.order {order_id} is {state!r}; only quotations confirm")
        now = self.clock()
        self._set_state(order_id, "sale", now, {"date_order": now})
        return self.summary(order_id)

    def cancel(self, order_id: int) -> dict[str, Any]:
        self.value(order_id, "state")
        self._set_state(order_id, "cancel", self.clock(), {})
        return self.summary(order_id)

    def lock(self, order_id: int) -> dict[str, Any]:
        """Lock a sales order: state `done` in 16, `locked` set (state stays `sale`) from 17."""
        state = self.value(order_id, "state")
        if state != "sale" or (self.profile.locked_field and self.value(order_id, "locked")):
            raise SimConflict(f"sale.order {order_id} is {state!r}; only open sales orders lock")
        if self.profile.locked_field:
            self.store.write("sale.order", [order_id], {"locked": True}, self.clock(), self.uid)
        else:
            self._set_state(order_id, "done", self.clock(), {})
        return self.summary(order_id)

    def touch(self, order_id: int) -> dict[str, Any]:
        self.value(order_id, "state")
        self.store.write("sale.order", [order_id], {}, self.clock(), self.uid)
        return self.summary(order_id)

    def value(self, order_id: Any, name: str) -> Any:
        row = self.store.tables["sale.order"].row(order_id)
        if row is None:
            raise SimNotFound(f"sale.order {order_id!r} does not exist")
        return self.store.raw("sale.order", row, name)

    def summary(self, order_id: int) -> dict[str, Any]:
        summary = {
            "id": order_id,
            "name": self.value(order_id, "name"),
            "state": self.value(order_id, "state"),
            "write_date": format_datetime(self.value(order_id, "write_date")),
        }
        if self.profile.locked_field:
            summary["locked"] = bool(self.value(order_id, "locked"))
        return summary

    def _set_state(self, order_id: int, state: str, now: datetime, extra: dict[str, Any]) -> None:
        self.store.write("sale.order", [order_id], {"state": state, **extra}, now, self.uid)
        lines = self.value(order_id, "order_line")
        self.store.write("sale.order.line", lines, {"state": state}, now, self.uid)

    def _order_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        order = {
            "state": "draft",
            "currency_id": 2,
            "company_id": 1,
            "user_id": self.uid,
            "pricelist_id": 1,
            "team_id": 1,
            **{key: value for key, value in values.items() if value is not None},
        }
        partner = order.get("partner_id")
        for key in ("partner_id", "partner_invoice_id", "partner_shipping_id"):
            order.setdefault(key, partner)
            self._require("res.partner", order[key])
        self._require("res.currency", order["currency_id"])
        table = self.store.tables["sale.order"]
        order["id"] = order.get("id") or table.next_id()
        order.setdefault("name", f"S{order['id']:05d}")
        created = order.setdefault("create_date", self.clock())
        order.setdefault("write_date", created)
        order.setdefault("date_order", created)
        return order

    def _line_values(self, order: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
        line = {
            "sequence": spec.get("sequence", 10),
            "state": order["state"],
            "currency_id": order["currency_id"],
            "company_id": order["company_id"],
            "order_partner_id": order["partner_id"],
            "salesman_id": order["user_id"],
            "create_date": order["create_date"],
            "write_date": order["write_date"],
        }
        if "id" in spec:
            line["id"] = spec["id"]
        line.update({key: spec[key] for key in _PASSED if key in spec})
        if spec.get("display_type"):
            return {**line, "display_type": spec["display_type"], "name": spec.get("name") or ""}
        product_id = spec.get("product_id")
        row = self._require("product.product", product_id)
        qty = float(spec.get("qty", 1.0))
        price = spec.get("price_unit")
        price = float(
            self.store.getter("product.product", "list_price")(row) if price is None else price
        )
        discount = float(spec.get("discount") or 0.0)
        subtotal, tax, total = line_amounts(qty, price, discount)
        return {
            **line,
            "product_id": product_id,
            "name": spec.get("name") or self.store.display_name("product.product", product_id),
            "product_uom_qty": qty,
            self.profile.line_uom: self.store.getter("product.product", "uom_id")(row),
            "price_unit": price,
            "discount": discount,
            "price_subtotal": subtotal,
            "price_tax": tax,
            "price_total": total,
            self.profile.line_taxes: LINE_TAXES,
        }

    def _require(self, model: str, rid: Any) -> Row:
        row = self.store.tables[model].row(rid)
        if row is None:
            raise SimError(f"{model} {rid!r} does not exist")
        return row
