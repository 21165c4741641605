"""Orders confirmed in a long transaction: `write_date` is the transaction's start, but nobody
sees them until the commit, which happens after newer orders became visible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from odoo_sim.odoo.errors import SimConflict, SimNotFound
from odoo_sim.odoo.tables import Tables

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim


@dataclass
class LateOrder:
    """A confirmed order hidden from every search and read until `commit()`."""

    sim: OdooSim
    id: int
    name: str
    write_date: datetime  # stored (with microseconds); `commit` leaves it as it is

    @property
    def committed(self) -> bool:
        return self.id not in self.sim.store.tables["sale.order"].hidden

    def commit(self) -> dict[str, Any]:
        """Make the order and its lines visible, with their old `write_date`."""
        return self.sim.commit_late_order(self.id)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "write_date": self.write_date.isoformat(" ", "seconds"),
            "committed": self.committed,
        }


def hide_order(store: Tables, order_id: int) -> None:
    """Make an order and its lines invisible to other transactions."""
    orders = store.tables["sale.order"]
    lines = store.raw("sale.order", orders.row(order_id), "order_line")
    orders.hidden.add(order_id)
    store.tables["sale.order.line"].hidden.update(lines)


def reveal_order(store: Tables, order_id: int) -> None:
    orders = store.tables["sale.order"]
    if orders.row(order_id) is None:
        raise SimNotFound(f"sale.order {order_id!r} does not exist")
    if order_id not in orders.hidden:
        raise SimConflict(f"sale.order {order_id} is not waiting for a commit")
    lines = store.raw("sale.order", orders.row(order_id), "order_line")
    orders.hidden.discard(order_id)
    store.tables["sale.order.line"].hidden.difference_update(lines)
