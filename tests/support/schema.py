"""Validate a delivered body against the committed JSON Schema, as StockMaster would."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from poller.schema import SCHEMA_PATH


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def validate_payload(body: dict[str, Any]) -> None:
    _validator().validate(body)
