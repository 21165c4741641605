"""What StockMaster must receive for the seeded shop, written out by hand from the recorded
Odoo 16 data (orders 7-10 repeat 1-4), and a checker the demo's `--once` uses.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from poller.contract import WebhookPayload

# (currency, amount_total, customer name, company_name, country, [(sku, qty, subtotal)])
Expected = tuple[str, float, str, str | None, str | None, list[tuple[str, float, float]]]
_ALICE: Expected = (
    "USD",
    224.25,
    "Alice Martin",
    None,
    "US",
    [("WID-001", 3.0, 75.0), ("SRV-INST", 1.5, 120.0)],
)
_BOB: Expected = (
    "USD",
    495.25,
    "Bob Builder",
    "Acme Industries GmbH",
    "DE",
    [("GAD-PRO", 2.0, 216.9), ("WID-001", 10.0, 213.75)],
)
_MINIMAL: Expected = (
    "USD",
    161.0,
    "Minimal Customer",
    None,
    None,
    [("ODOO-{db}-4", 4.0, 60.0), ("SRV-INST", 1.0, 80.0)],
)
_ACME_EUR: Expected = (
    "EUR",
    169.75,
    "Acme Industries GmbH",
    None,
    "DE",
    [("GAD-PRO", 1.0, 110.86), ("CAB-2M", 5.0, 36.75)],
)
SEEDED_CONFIRMED: dict[str, Expected] = {
    "S00001": _ALICE,
    "S00002": _BOB,
    "S00003": _MINIMAL,
    "S00004": _ACME_EUR,
    "S00007": _ALICE,
    "S00008": _BOB,
    "S00009": _MINIMAL,
    "S00010": _ACME_EUR,
}
NOT_CONFIRMED = ("S00005", "S00006", "S00011", "S00012")  # drafts and cancelled orders


def _order_problems(name: str, body: dict[str, Any], database: str) -> list[str]:
    currency, total, customer, company, country, lines = SEEDED_CONFIRMED[name]
    order = body["order"]
    got = (
        order["currency"],
        order["amount_total"],
        order["customer"]["name"],
        order["customer"]["company_name"],
        order["customer"]["country_code"],
    )
    want = (currency, total, customer, company, country)
    problems = [] if got == want else [f"{name}: got {got}, expected {want}"]
    got_lines = [(line["sku"], line["quantity"], line["price_subtotal"]) for line in order["lines"]]
    want_lines = [(sku.format(db=database), qty, sub) for sku, qty, sub in lines]
    if got_lines != want_lines:
        problems.append(f"{name}: lines {got_lines}, expected {want_lines}")
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
    for name in SEEDED_CONFIRMED:
        received = by_name.get(name, [])
        if len(received) != 1:
            problems.append(f"{name}: received {len(received)} times, expected once")
        else:
            problems.extend(_order_problems(name, received[0], database))
    problems.extend(
        f"{name}: not confirmed, yet delivered" for name in NOT_CONFIRMED if name in by_name
    )
    return problems
