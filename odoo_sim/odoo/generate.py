"""Bulk orders for benchmarks and bursts: columns filled straight from a repeating pattern."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from odoo_sim.odoo.errors import SimError
from odoo_sim.odoo.orders import LINE_TAXES, order_amounts
from odoo_sim.odoo.profiles import VersionProfile
from odoo_sim.odoo.tables import Tables
from odoo_sim.odoo.values import line_amounts


def generated_times(now: datetime, n: int, same_second: bool) -> list[datetime]:
    if not same_second:
        start = now - timedelta(milliseconds=n)
        return [start + timedelta(milliseconds=i) for i in range(n)]
    if n > 999_999:
        raise SimError("at most 999,999 orders fit in one second with distinct microseconds")
    second = now.replace(microsecond=0) - timedelta(seconds=1)
    step = 999_999 // n  # from .000001 on: `write_date = <that second>` matches none of them
    return [second + timedelta(microseconds=1 + i * step) for i in range(n)]


def _active_ids(store: Tables, model: str) -> list[int]:
    table = store.tables[model]
    active = store.getter(model, "active")
    return [table.ids[row] for row in range(len(table)) if active(row)]


def _sellable_ids(store: Tables) -> list[int]:
    """Active products to put on generated lines; combos are sold with their items, not alone."""
    kind = store.getter("product.product", "type")
    table = store.tables["product.product"]
    return [pid for pid in _active_ids(store, "product.product") if kind(table.row(pid)) != "combo"]


def _sold_product(store: Tables, product_id: int) -> tuple[int, str, Any, float]:
    """(id, line name, unit, list price) of a product to put on generated lines."""
    row = store.tables["product.product"].row(product_id)
    uom = store.getter("product.product", "uom_id")(row)
    price = float(store.getter("product.product", "list_price")(row))
    return product_id, store.display_name("product.product", product_id), uom, price


def _repeat(block: Sequence[Any], total: int) -> list[Any]:
    return (list(block) * (total // len(block) + 1))[:total]


class Generator:
    """Fills the order and line columns straight from a repeating pattern (fast, compact)."""

    def __init__(
        self, store: Tables, uid: int, lines_per_order: int, profile: VersionProfile
    ) -> None:
        self.store = store
        self.profile = profile
        self.uid = uid
        self.k = lines_per_order
        self.partners = _active_ids(store, "res.partner")
        self.products = [_sold_product(store, rid) for rid in _sellable_ids(store)]
        if not self.partners or not self.products:
            raise SimError("seed partners and products before generating orders")
        self.period = math.lcm(len(self.products), 3)

    def add(self, times: list[datetime]) -> range:
        n, k = len(times), self.k
        orders = self.store.tables["sale.order"]
        lines = self.store.tables["sale.order.line"]
        first_order, first_line = orders.next_id(), lines.next_id()
        order_ids = range(first_order, first_order + n)
        line_ids = range(first_line, first_line + n * k)
        patterns = [self._pattern(i) for i in range(self.period)]
        partner_ids = _repeat(self.partners, n)
        orders.extend(
            order_ids, self._order_columns(order_ids, first_line, times, partner_ids, patterns)
        )
        lines.extend(line_ids, self._line_columns(order_ids, times, partner_ids, patterns))
        return order_ids

    def _pattern(self, i: int) -> list[tuple[Any, ...]]:
        """Line values of the order at offset `i` of the period."""
        result = []
        for j in range(self.k):
            product_id, name, uom, price = self.products[(i + j) % len(self.products)]
            qty = float(1 + (i + j) % 3)
            result.append((product_id, name, uom, price, qty, *line_amounts(qty, price)))
        return result

    def _order_columns(
        self,
        order_ids: range,
        first_line: int,
        times: list[datetime],
        partner_ids: list[int],
        patterns: list[list[tuple[Any, ...]]],
    ) -> dict[str, list[Any]]:
        n, k, uid = len(order_ids), self.k, self.uid
        amounts = [
            order_amounts([{"price_subtotal": p[5], "price_tax": p[6]} for p in pattern])
            for pattern in patterns
        ]
        return {
            "name": [f"S{oid:05d}" for oid in order_ids],
            "state": ["sale"] * n,
            "partner_id": partner_ids,
            "partner_invoice_id": partner_ids,
            "partner_shipping_id": partner_ids,
            "currency_id": [2] * n,
            "company_id": [1] * n,
            "user_id": [uid] * n,
            "pricelist_id": [1] * n,
            "team_id": [1] * n,
            "create_uid": [uid] * n,
            "write_uid": [uid] * n,
            "create_date": times,
            "write_date": times,
            "date_order": times,
            "order_line": [
                tuple(range(first_line + i * k, first_line + (i + 1) * k)) for i in range(n)
            ],
            **{
                key: _repeat([amount[key] for amount in amounts], n)
                for key in ("amount_untaxed", "amount_tax", "amount_total")
            },
        }

    def _line_columns(
        self,
        order_ids: range,
        times: list[datetime],
        partner_ids: list[int],
        patterns: list[list[tuple[Any, ...]]],
    ) -> dict[str, list[Any]]:
        n, k, uid = len(order_ids), self.k, self.uid
        total = n * k
        block = [values for pattern in patterns for values in pattern]
        per_line = {
            name: _repeat([values[index] for values in block], total)
            for index, name in enumerate(
                (
                    "product_id",
                    "name",
                    self.profile.line_uom,
                    "price_unit",
                    "product_uom_qty",
                    "price_subtotal",
                    "price_tax",
                    "price_total",
                )
            )
        }
        return {
            **per_line,
            "order_id": [oid for oid in order_ids for _ in range(k)],
            "order_partner_id": [pid for pid in partner_ids for _ in range(k)],
            "create_date": [moment for moment in times for _ in range(k)],
            "write_date": [moment for moment in times for _ in range(k)],
            "sequence": [10] * total,
            "state": ["sale"] * total,
            "currency_id": [2] * total,
            "company_id": [1] * total,
            "salesman_id": [uid] * total,
            "create_uid": [uid] * total,
            "write_uid": [uid] * total,
            self.profile.line_taxes: [LINE_TAXES] * total,
        }
