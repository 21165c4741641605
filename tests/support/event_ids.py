"""The webhook's `event_id` as the contract writes it down, computed apart from the product.

A uuid5 in a fixed namespace over `"{connection id}:{order id}:{write_date}"`, the
write_date in Odoo's own `YYYY-MM-DD HH:MM:SS` (UTC, whole seconds): the same on every
retry of one version of an order, so StockMaster can drop duplicates.
"""

from __future__ import annotations

import re
import uuid

#: the namespace the contract fixes for every event id
EVENT_NAMESPACE = uuid.UUID("6b0f3d1e-3c4a-5d7e-9f10-0a1b2c3d4e5f")
ODOO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def expected_event_id(connection_id: int, order_id: int, write_date: str) -> str:
    """The event id StockMaster must see for this version of an order."""
    if not ODOO_DATETIME.fullmatch(write_date):
        raise ValueError(f"write_date must be Odoo's YYYY-MM-DD HH:MM:SS, not {write_date!r}")
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{connection_id}:{order_id}:{write_date}"))
