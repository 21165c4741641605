"""The webhook body's JSON Schema, generated from the pydantic contract and committed at
`poller/schemas/webhook-payload.schema.json` so StockMaster can validate against it.

Regenerate with `python -m poller.schema` (a test fails when the committed file is stale).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from poller.contract import WebhookPayload

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "webhook-payload.schema.json"
SCHEMA_ID = "https://stockmaster.example/schemas/odoo-order-poller/webhook-payload.json"


def webhook_schema() -> dict[str, Any]:
    schema = WebhookPayload.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Odoo Order Poller webhook",
        **schema,
    }


def render() -> str:
    return json.dumps(webhook_schema(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(render())
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
