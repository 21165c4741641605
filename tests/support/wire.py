"""Recorded real Odoo traffic (copied from the shared odoo-wire recordings): 16.0 by default;
a file name's prefix picks its version's folder (`odoo18-...` -> `tests/fixtures/odoo18/`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURES = ROOT / "odoo16"
RESPONSES = "odoo16-responses.json"
POLL_CYCLE = "odoo16-poll-cycle.json"
FIELDS_GET = "odoo16-fields_get.json"


def fixture_path(filename: str) -> Path:
    """`odoo19-json2-responses.json` -> `tests/fixtures/odoo19/odoo19-json2-responses.json`."""
    return ROOT / filename.split("-", 1)[0] / filename


@cache
def recording(filename: str) -> dict[str, Any]:
    return json.loads(fixture_path(filename).read_text(encoding="utf-8"))


def exchange(filename: str, key: str) -> dict[str, Any]:
    """One recorded call: `request`, `http_status`, `raw` (JSON-2: also `response_headers`)."""
    return recording(filename)[key]


def result(filename: str, key: str) -> Any:
    return json.loads(exchange(filename, key)["raw"])["result"]


def error_keys(files: tuple[str, ...] = (RESPONSES, POLL_CYCLE)) -> list[tuple[str, str]]:
    """Every recorded JSON-RPC call (of `files`) whose answer is an error."""
    keys = []
    for filename in files:
        for key, item in recording(filename).items():
            if '"error"' in item["raw"]:
                keys.append((filename, key))
    return keys
