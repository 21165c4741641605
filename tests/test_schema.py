"""The committed JSON Schema is current, and real payloads validate against it."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, ValidationError

from poller.orders import map_order
from poller.schema import SCHEMA_PATH, render
from tests.support.bundles import recorded_bundle, recorded_context


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run `python -m poller.schema` and commit"


@pytest.mark.parametrize("order_id", [1, 2, 3, 4, 7, 8, 9, 10])
def test_recorded_orders_validate(validator, order_id: int) -> None:
    payload = map_order(recorded_bundle(), recorded_context(), order_id)
    validator.validate(json.loads(payload.model_dump_json()))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda body: body.pop("event_id"),
        lambda body: body["order"].pop("lines"),
        lambda body: body["order"]["customer"].update(extra="field"),
        lambda body: body.update(event="order.deleted"),
        lambda body: body["order"]["lines"][0].update(product_type="gadget"),
        lambda body: body["order"].update(amount_total="224.25"),
    ],
)
def test_schema_rejects_what_the_contract_forbids(validator, breakage) -> None:
    body = json.loads(map_order(recorded_bundle(), recorded_context(), 1).model_dump_json())
    breakage(body)
    with pytest.raises(ValidationError):
        validator.validate(body)
