"""Every call recorded from real Odoo 18.0 and 19.0 servers (`tests/fixtures/odoo18|19/`, over
JSON-RPC and JSON-2), replayed against the simulator playing that version, on the shop the
recordings were made on (`seed_recorded_shop`: same record ids, times to the second).

"Same answer" means the same HTTP status and the same shape, never the same bytes: tracebacks,
times, names and amounts may differ between the recording and the simulator's seed.

- Every answer: the HTTP status; JSON-2 also the `Content-Type` header, the `WWW-Authenticate`
  header (compared without the trailing space Odoo sends: HTTP strips it from a field value)
  and the `session_id` cookie's attributes where a cookie was set.
- Success (a JSON-RPC `result`, a bare JSON-2 value): the same shape, `shape()` of
  tests/support/recordings.py: the same JSON type at every place (`false` is a boolean and
  never `null`, `3.0` a float and `3` an integer), the same keys for every object (records,
  `fields_get`), lists element by element, so a many2one is `[int, str]` and an empty value
  `false` in both, and x2many id lists have the same length; and for a list of records the
  same ids in the same order (the seed reuses the recorded ids, so searches, keyset pages and
  reads of missing ids must pick the same records).
- A JSON-RPC error: the envelope's keys in order (`jsonrpc`, `id`, `error`), the same `id`,
  `error.code` (200 on 18, 0 on 19), `error.message`, the keys of `error.data` in order (19
  moved `debug` last), the same `error.data.name`, and the same shape of `error.data`.
- A JSON-2 error: the bare error object's keys in order (`name`, `message`, `arguments`,
  `context`, `debug`), the same `name`, the same shape (werkzeug errors carry `[message,
  status]` in `arguments`, Odoo's own `[message]`).
- Both kinds of error also carry the recorded `message` and `arguments` word for word: none
  of the recorded ones depends on the data, and 19 words several differently ("on
  'sale.order'", "in condition", "Invalid operator"). The `debug` traceback is only a string.
- An answer that is not JSON (a wrong `X-Odoo-Database`): the same page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from odoo_sim.odoo import OdooSim
from odoo_sim.seed import seed_recorded_shop
from odoo_sim.server import BackgroundServer
from tests.sim.simkit import API_KEY
from tests.support.recordings import (
    DATABASES,
    FIELDS_GET,
    Exchange,
    exchanges,
    record_ids,
    shape,
    with_key,
)
from tests.support.wire import recording

EXCHANGES = exchanges()
ATTRIBUTES = ["type", "relation", "string", "store", "required", "selection"]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, httpx.Client]]:
    """Per recorded version, a simulator on the recorded shop (read-only: no call writes)."""
    clients: dict[str, httpx.Client] = {}
    started: list[BackgroundServer] = []
    for version, database in DATABASES.items():
        sim = OdooSim(database, "admin", "admin", [API_KEY], version=version)
        seed_recorded_shop(sim)
        started.append(BackgroundServer(sim.app).start())
        clients[version] = httpx.Client(base_url=started[-1].url, timeout=30)
    yield clients
    for client in clients.values():
        client.close()
    for server in started:
        server.stop()


def replay(client: httpx.Client, recorded: Exchange) -> httpx.Response:
    request = with_key(recorded.request, API_KEY)
    if recorded.transport == "jsonrpc":
        return client.post("/jsonrpc", json=request)
    content = request.get("body_raw")
    if request.get("body") is not None:
        content = httpx.Request("POST", "/", json=request["body"]).content
    return client.request(
        request["method"], request["path"], headers=request["headers"], content=content
    )


@pytest.mark.parametrize("recorded", EXCHANGES, ids=[item.name for item in EXCHANGES])
def test_the_simulator_answers_every_recorded_call_alike(
    servers: dict[str, httpx.Client], recorded: Exchange
) -> None:
    response = replay(servers[recorded.version], recorded)
    assert response.status_code == recorded.http_status, response.text
    if recorded.transport == "jsonrpc":
        check_jsonrpc(recorded, response)
    else:
        check_json2(recorded, response)


def check_jsonrpc(recorded: Exchange, response: httpx.Response) -> None:
    expected, answered = recorded.body(), response.json()
    assert list(answered) == list(expected)
    assert answered["id"] == expected["id"]
    if "error" in expected:
        check_rpc_error(expected["error"], answered["error"])
    else:
        check_result(expected["result"], answered["result"])


def check_rpc_error(expected: dict[str, Any], answered: dict[str, Any]) -> None:
    assert (answered["code"], answered["message"]) == (expected["code"], expected["message"])
    assert list(answered["data"]) == list(expected["data"])
    assert answered["data"]["name"] == expected["data"]["name"], answered["data"]["message"]
    assert shape(answered["data"]) == shape(expected["data"])
    check_wording(expected["data"], answered["data"])


def check_json2(recorded: Exchange, response: httpx.Response) -> None:
    assert response.headers.get("content-type") == recorded.header("Content-Type")
    challenge = response.headers.get("www-authenticate")
    expected_challenge = recorded.header("WWW-Authenticate")
    assert (challenge and challenge.strip()) == (expected_challenge and expected_challenge.strip())
    assert cookie_attributes(response.headers.get("set-cookie")) == cookie_attributes(
        recorded.header("Set-Cookie")
    )
    expected = recorded.body()
    if expected is None:
        assert response.text == recorded.raw
    elif recorded.http_status != 200:
        answered = response.json()
        assert list(answered) == list(expected)
        assert answered["name"] == expected["name"], answered["message"]
        assert shape(answered) == shape(expected)
        check_wording(expected, answered)
    else:
        check_result(expected, response.json())


def check_wording(expected: dict[str, Any], answered: dict[str, Any]) -> None:
    assert answered["message"] == expected["message"]
    assert answered["arguments"] == expected["arguments"]


def check_result(expected: Any, answered: Any) -> None:
    assert shape(answered) == shape(expected), answered
    assert record_ids(answered) == record_ids(expected)


def cookie_attributes(header: str | None) -> dict[str, Any] | None:
    """A `Set-Cookie` header as its cookie names and their attributes (names lowercased,
    values dropped but for Max-Age and Path)."""
    if header is None:
        return None
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    return {
        name: {
            "max-age": morsel["max-age"],
            "path": morsel["path"],
            "httponly": bool(morsel["httponly"]),
            "expires": bool(morsel["expires"]),
        }
        for name, morsel in cookie.items()
    }


def test_every_recorded_file_and_key_is_replayed() -> None:
    per_file = Counter(item.filename for item in EXCHANGES)
    assert per_file == {
        filename: len(recording(filename))
        for filename in (
            "odoo18-responses.json",
            "odoo18-poll-cycle.json",
            "odoo19-jsonrpc-responses.json",
            "odoo19-poll-cycle-jsonrpc.json",
            "odoo19-json2-responses.json",
            "odoo19-poll-cycle-json2.json",
        )
    }
    assert sum(per_file.values()) == 121


@pytest.mark.parametrize("version", list(FIELDS_GET))
def test_fields_get_is_the_recorded_one(servers: dict[str, httpx.Client], version: str) -> None:
    """The simulator answers the recorded `fields_get` of every recorded model, attribute for
    attribute (the recorded servers had no Inventory app: no `is_storable`)."""
    recorded = recording(FIELDS_GET[version])
    for model, fields in recorded.items():
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [DATABASES[version], 2, API_KEY, model, "fields_get", [], {}],
            },
        }
        body["params"]["args"][-1] = {"attributes": ATTRIBUTES}
        answered = servers[version].post("/jsonrpc", json=body).json()["result"]
        assert answered == fields, model
    assert "is_storable" not in recorded["product.product"]
