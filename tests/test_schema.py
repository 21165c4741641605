"""The committed JSON Schema is current, and it says what the webhook contract says: a
payload written by hand from the contract (tests/fixtures/reference-payload.json, not
produced by the poller) validates, and what the contract forbids does not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from poller.schema import SCHEMA_PATH, render
from tests.support.event_ids import expected_event_id

REFERENCE_PAYLOAD = Path(__file__).parent / "fixtures" / "reference-payload.json"

Body = dict[str, Any]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture
def reference() -> Body:
    return json.loads(REFERENCE_PAYLOAD.read_text())


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run `python -m poller.schema` and commit"


def test_the_reference_payload_follows_the_contract(reference: Body) -> None:
    """The fixture itself, checked against the contract's rules before it judges the schema."""
    order = reference["order"]
    assert reference["occurred_at"] == order["write_date"]
    write_date = order["write_date"].removesuffix("Z").replace("T", " ")
    assert reference["event_id"] == expected_event_id(
        reference["connection"]["id"], order["id"], write_date
    )
    subtotals = [line["price_subtotal"] for line in order["lines"]]
    assert order["amount_untaxed"] == pytest.approx(sum(subtotals))
    assert order["amount_total"] == pytest.approx(order["amount_untaxed"] + order["amount_tax"])


def test_the_reference_payload_validates(validator: Draft202012Validator, reference: Body) -> None:
    validator.validate(reference)


def _cancelled(body: Body) -> None:
    body.update(event="order.cancelled")
    body["order"].update(state="cancel")


def _all_empty(body: Body) -> None:
    """Every field an empty Odoo value can leave empty, as null."""
    order = body["order"]
    order.update(client_order_ref=None, date_order=None, currency=None, shipping_address=None)
    order["customer"].update(name=None, company_name=None, country_code=None)
    order["lines"][0].update(barcode=None, description=None, uom=None, product_type=None)


@pytest.mark.parametrize(
    "variant",
    [
        lambda body: body.update(event="order.updated"),
        _cancelled,
        _all_empty,
        lambda body: body["order"]["lines"][1].update(product_type="service"),
        lambda body: body["order"]["lines"][1].update(product_type="combo"),
    ],
    ids=["updated", "cancelled", "nulls", "service", "combo"],
)
def test_schema_accepts_what_the_contract_allows(
    validator: Draft202012Validator, reference: Body, variant: Callable[[Body], object]
) -> None:
    variant(reference)
    validator.validate(reference)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda body: body.pop("event_id"),
        lambda body: body["order"].pop("lines"),
        lambda body: body["order"]["customer"].pop("country_code"),
        lambda body: body["connection"].pop("odoo_version"),
        lambda body: body.update(event="order.deleted"),
        lambda body: body.update(event="order.created"),
        lambda body: body["order"].update(amount_total="169.75"),
        lambda body: body["order"]["lines"][0].update(price_total="138.58"),
        lambda body: body["order"]["lines"][0].update(quantity=None),
        lambda body: body["order"]["customer"].update(extra="field"),
        lambda body: body["order"]["lines"][0].update(product_type="gadget"),
        lambda body: body["connection"].update(id="1"),
    ],
    ids=[
        "no-event-id",
        "no-lines",
        "no-country-code",
        "no-odoo-version",
        "event-deleted",
        "event-created",
        "amount-as-string",
        "line-total-as-string",
        "quantity-null",
        "extra-field",
        "unknown-product-type",
        "connection-id-as-string",
    ],
)
def test_schema_rejects_what_the_contract_forbids(
    validator: Draft202012Validator, reference: Body, breakage: Callable[[Body], object]
) -> None:
    validator.validate(reference)  # whole before the breakage: the breakage is what fails it
    breakage(reference)
    with pytest.raises(ValidationError):
        validator.validate(reference)
