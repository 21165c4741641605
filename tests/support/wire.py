"""Recorded real Odoo 16.0 traffic (copied from the shared odoo-wire recordings)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "odoo16"
RESPONSES = "odoo16-responses.json"
POLL_CYCLE = "odoo16-poll-cycle.json"
FIELDS_GET = "odoo16-fields_get.json"


@cache
def recording(filename: str) -> dict[str, Any]:
    return json.loads((FIXTURES / filename).read_text())


def exchange(filename: str, key: str) -> dict[str, Any]:
    """One recorded call: `request`, `http_status`, `raw`."""
    return recording(filename)[key]


def result(filename: str, key: str) -> Any:
    return json.loads(exchange(filename, key)["raw"])["result"]


def error_keys() -> list[tuple[str, str]]:
    """Every recorded call whose answer is a JSON-RPC error."""
    keys = []
    for filename in (RESPONSES, POLL_CYCLE):
        for key, item in recording(filename).items():
            if '"error"' in item["raw"]:
                keys.append((filename, key))
    return keys
