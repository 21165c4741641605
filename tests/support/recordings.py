"""The recorded Odoo 18.0 and 19.0 calls (`tests/fixtures/odoo18|19/`) as replayable
exchanges, and the "shape" the simulator's answers are compared on (see tests/sim/
test_recordings.py for what the comparison means)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.wire import recording

API_KEY_PLACEHOLDER = "<api-key>"
#: (version, transport) -> the recorded files of calls (not the `fields_get` dumps).
FILES: dict[tuple[str, str], tuple[str, ...]] = {
    ("18.0", "jsonrpc"): ("odoo18-responses.json", "odoo18-poll-cycle.json"),
    ("19.0", "jsonrpc"): ("odoo19-jsonrpc-responses.json", "odoo19-poll-cycle-jsonrpc.json"),
    ("19.0", "json2"): ("odoo19-json2-responses.json", "odoo19-poll-cycle-json2.json"),
}
FIELDS_GET = {"18.0": "odoo18-fields_get.json", "19.0": "odoo19-fields_get.json"}
DATABASES = {"18.0": "odoo18", "19.0": "odoo19"}


@dataclass(frozen=True)
class Exchange:
    """One recorded call and the real server's answer."""

    version: str
    transport: str
    filename: str
    key: str
    request: dict[str, Any]
    http_status: int
    raw: str
    response_headers: dict[str, str]

    @property
    def name(self) -> str:
        return f"{self.filename.removesuffix('.json')}:{self.key}"

    def body(self) -> Any:
        """The answer parsed as JSON, or None for a page that is not JSON."""
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        lowered = {key.lower(): value for key, value in self.response_headers.items()}
        return lowered.get(name.lower())


def exchanges() -> list[Exchange]:
    """Every recorded call of 18.0 and 19.0, over JSON-RPC and JSON-2, in file order."""
    found = []
    for (version, transport), filenames in FILES.items():
        for filename in filenames:
            for key, item in recording(filename).items():
                found.append(
                    Exchange(
                        version,
                        transport,
                        filename,
                        key,
                        item["request"],
                        item["http_status"],
                        item["raw"],
                        item.get("response_headers", {}),
                    )
                )
    return found


def with_key(value: Any, api_key: str) -> Any:
    """The recorded request with the `<api-key>` placeholder replaced by a real key."""
    if isinstance(value, str):
        return value.replace(API_KEY_PLACEHOLDER, api_key)
    if isinstance(value, list):
        return [with_key(item, api_key) for item in value]
    if isinstance(value, dict):
        return {key: with_key(item, api_key) for key, item in value.items()}
    return value


def shape(value: Any) -> Any:
    """A JSON value with every scalar replaced by its type name (`false` is "bool", never
    "null"; 3.0 is "float", 3 "int"), lists element by element, objects key by key."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if value is None:
        return "null"
    return type(value).__name__


def record_ids(value: Any) -> list[Any] | None:
    """The `id`s of a list of records, in order (None if the value is no such list)."""
    if isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in value):
        return [item["id"] for item in value]
    return None
