"""The demo's check of what StockMaster received for the seeded shop: every confirmed order
once, valid against the contract, equal to the expected shop (`expected_shop`, the one the
tests use) but for its times, which the demo's seed moves to now."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from odoo_sim.expected_shop import expected_orders
from poller.contract import WebhookPayload

NOT_CONFIRMED = ("S00005", "S00006", "S00011", "S00012")  # drafts and cancelled orders
MOVED_BY_THE_SEED = ("date_order", "write_date")


def seeded_confirmed(database: str) -> dict[str, dict[str, Any]]:
    """The expected `order` objects by order name."""
    return {order["name"]: order for order in expected_orders(database).values()}


def _order_problems(name: str, body: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    order = body["order"]
    problems = [
        f"{name}: {field} is {order.get(field)!r}, expected {want!r}"
        for field, want in expected.items()
        if field not in MOVED_BY_THE_SEED and order.get(field) != want
    ]
    if body["occurred_at"] != order["write_date"] or not order["write_date"].endswith("Z"):
        problems.append(f"{name}: occurred_at/write_date not the ISO UTC write_date")
    return problems


def contract_problems(bodies: list[dict[str, Any]], database: str) -> list[str]:
    """Every seeded confirmed order exactly once, valid against the contract, right content."""
    problems: list[str] = []
    by_name: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        try:
            WebhookPayload.model_validate(body)
        except ValidationError as exc:
            problems.append(f"a body does not match the contract: {exc.errors()[0]}")
            continue
        by_name.setdefault(body["order"]["name"], []).append(body)
    for name, expected in seeded_confirmed(database).items():
        received = by_name.get(name, [])
        if len(received) != 1:
            problems.append(f"{name}: received {len(received)} times, expected once")
        else:
            problems.extend(_order_problems(name, received[0], expected))
    problems.extend(
        f"{name}: not confirmed, yet delivered" for name in NOT_CONFIRMED if name in by_name
    )
    return problems
