"""The JSON-RPC edge on recorded real error bodies and on broken answers (respx)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from poller.odoo.client import OdooClient
from poller.odoo.errors import (
    OdooAuthError,
    OdooBadRequest,
    OdooDatabaseNotFound,
    OdooError,
    OdooMissingError,
    OdooProtocolError,
    OdooRateLimited,
    OdooServerError,
    OdooTransportError,
)
from tests.support.wire import POLL_CYCLE, RESPONSES, error_keys, exchange

URL = "http://odoo.test"
KEY = "k-0123456789abcdef"

EXPECTED = {
    "error_uid_false": OdooAuthError,
    "error_wrong_password": OdooAuthError,
    "error_unknown_model": OdooMissingError,
    "error_unknown_field": OdooMissingError,
    "error_unknown_field_in_domain": OdooMissingError,
    "error_bad_order": OdooMissingError,
    "error_bad_operator": OdooBadRequest,
    "error_wrong_method": OdooMissingError,
}


def recorded_reply(filename: str, key: str):
    """A respx side effect answering with the recorded raw body, echoing the request id."""
    item = exchange(filename, key)
    body = json.loads(item["raw"])

    def reply(request: httpx.Request) -> httpx.Response:
        body["id"] = json.loads(request.content)["id"]
        return httpx.Response(item["http_status"], text=json.dumps(body))

    return reply


async def run_call(*, uid: int | None = 2) -> OdooClient:
    async with httpx.AsyncClient() as http:
        client = OdooClient(
            http, url=URL, database="odoo_test", login="admin", secret=KEY, connection="acme"
        )
        client.transport.uid = uid
        await client.search_read("sale.order", [], ["name"], limit=1)
    return client


#: The 18.0 and 19.0 recordings: the same calls, and the 16 requests with the fields they lost
#: (`_16_fields`), which must read as missing fields so that the poll detects them again.
NEWER_FILES = (
    "odoo18-responses.json",
    "odoo18-poll-cycle.json",
    "odoo19-jsonrpc-responses.json",
    "odoo19-poll-cycle-jsonrpc.json",
)
EXPECTED_NEWER = {
    **EXPECTED,
    "read_templates_16_fields": OdooMissingError,  # detailed_type (gone in 18)
    "read_templates_is_storable": OdooMissingError,  # is_storable (no Inventory app)
    "read_sale_order_line_16_fields": OdooMissingError,  # tax_id (19: tax_ids)
    "read_lines_16_fields": OdooMissingError,  # product_uom (19: product_uom_id)
    "read_partners_16_fields": OdooMissingError,  # mobile (gone in 19)
}


def test_every_recorded_error_has_an_expected_class() -> None:
    assert {key for _, key in error_keys()} == set(EXPECTED)
    assert {key for _, key in error_keys(NEWER_FILES)} == set(EXPECTED_NEWER)


@pytest.mark.parametrize(("filename", "key"), error_keys(NEWER_FILES))
@respx.mock
async def test_recorded_18_and_19_errors_map_to_named_errors(filename: str, key: str) -> None:
    """Code 200 (18) or 0 (19) and 19's wording ("on 'sale.order'", "in condition",
    "Invalid operator") classify alike."""
    respx.post(f"{URL}/jsonrpc").mock(side_effect=_route(filename, key))
    with pytest.raises(OdooError) as err:
        await run_call()
    assert type(err.value) is EXPECTED_NEWER[key]
    recorded = json.loads(exchange(filename, key)["raw"])["error"]["data"]
    assert err.value.odoo_exception == recorded["name"]
    assert recorded["message"] in str(err.value) and "\n" not in str(err.value)


@respx.mock
async def test_a_database_that_does_not_exist_is_named() -> None:
    """`execute_kw` on a database name the server does not have: PostgreSQL's refusal."""
    message = (
        'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
        'FATAL:  database "odoo_test" does not exist\n'
    )
    error = {"code": 200, "message": "Odoo Server Error"}
    error["data"] = {"name": "psycopg2.OperationalError", "message": message}
    respx.post(f"{URL}/jsonrpc").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"jsonrpc": "2.0", "id": json.loads(request.content)["id"], "error": error}
        )
    )
    with pytest.raises(OdooDatabaseNotFound) as err:
        await run_call()
    assert isinstance(err.value, OdooMissingError) and not err.value.transient
    assert "poller edit NAME --database" in str(err.value)


@pytest.mark.parametrize(("filename", "key"), error_keys())
@respx.mock
async def test_recorded_error_maps_to_named_error(filename: str, key: str) -> None:
    # authenticate succeeds, so a refused uid re-authenticates once and still fails
    respx.post(f"{URL}/jsonrpc").mock(side_effect=_route(filename, key))
    with pytest.raises(EXPECTED[key]) as err:
        await run_call()
    message = str(err.value)
    recorded = json.loads(exchange(filename, key)["raw"])["error"]["data"]["message"]
    assert recorded in message
    assert "Odoo connection 'acme', sale.order.search_read" in message
    assert KEY not in message and "\n" not in message


def _route(filename: str, key: str):
    error_reply = recorded_reply(filename, key)
    auth_reply = recorded_reply(RESPONSES, "authenticate_good")

    def reply(request: httpx.Request) -> httpx.Response:
        service = json.loads(request.content)["params"]["service"]
        return auth_reply(request) if service == "common" else error_reply(request)

    return reply


@respx.mock
async def test_authenticate_false_is_an_auth_error() -> None:
    respx.post(f"{URL}/jsonrpc").mock(side_effect=recorded_reply(RESPONSES, "authenticate_bad"))
    async with httpx.AsyncClient() as http:
        client = OdooClient(
            http, url=URL, database="odoo_test", login="admin", secret=KEY, connection="acme"
        )
        with pytest.raises(OdooAuthError, match="refused login 'admin'"):
            await client.authenticate()


@respx.mock
async def test_refused_uid_re_authenticates_once_then_succeeds() -> None:
    answers = iter(["error_uid_false", "authenticate_good", "search_read_sale_order"])

    def reply(request: httpx.Request) -> httpx.Response:
        return recorded_reply(RESPONSES, next(answers))(request)

    route = respx.post(f"{URL}/jsonrpc").mock(side_effect=reply)
    client = await run_call(uid=7)
    assert route.call_count == 3
    assert client.uid == 2


@respx.mock
async def test_revoked_key_fails_after_one_re_authentication() -> None:
    answers = iter(["error_wrong_password", "authenticate_bad"])
    route = respx.post(f"{URL}/jsonrpc").mock(
        side_effect=lambda r: recorded_reply(RESPONSES, next(answers))(r)
    )
    with pytest.raises(OdooAuthError):
        await run_call()
    assert route.call_count == 2


@respx.mock
async def test_read_of_missing_id_is_an_empty_list_not_an_error() -> None:
    respx.post(f"{URL}/jsonrpc").mock(
        side_effect=recorded_reply(POLL_CYCLE, "error_read_missing_id")
    )
    async with httpx.AsyncClient() as http:
        client = OdooClient(
            http, url=URL, database="odoo_test", login="admin", secret=KEY, connection="acme"
        )
        client.transport.uid = 2
        assert await client.read("sale.order", [999999], ["name"]) == []


@pytest.mark.parametrize(
    ("response", "error", "fragment"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}), OdooRateLimited, "429"),
        (httpx.Response(502, text="<html>bad gateway</html>"), OdooServerError, "HTTP 502"),
        (httpx.Response(503), OdooServerError, "HTTP 503"),
        (httpx.Response(404, text="nope"), OdooMissingError, "no JSON-RPC endpoint"),
        (
            httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}),
            OdooProtocolError,
            "answered text/html instead of JSON",
        ),
        (
            httpx.Response(200, text='{"jsonrpc": "2.0", "id": 1, "res'),
            OdooProtocolError,
            "truncated",
        ),
        (
            httpx.Response(200, json={"jsonrpc": "2.0", "id": 999, "result": []}),
            OdooProtocolError,
            "does not match",
        ),
        (
            httpx.Response(200, json={"jsonrpc": "2.0", "id": 1}),
            OdooProtocolError,
            "neither result",
        ),
    ],
)
@respx.mock
async def test_broken_answers_are_named(
    response: httpx.Response, error: type[OdooError], fragment: str
) -> None:
    respx.post(f"{URL}/jsonrpc").mock(return_value=response)
    with pytest.raises(error) as err:
        await run_call()
    assert fragment in str(err.value)


@respx.mock
async def test_rate_limit_carries_retry_after_and_is_transient() -> None:
    respx.post(f"{URL}/jsonrpc").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "7"})
    )
    with pytest.raises(OdooRateLimited) as err:
        await run_call()
    assert err.value.retry_after == 7.0 and err.value.transient


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
@respx.mock
async def test_transport_failures_are_transient(exc: Exception) -> None:
    respx.post(f"{URL}/jsonrpc").mock(side_effect=exc)
    with pytest.raises(OdooTransportError) as err:
        await run_call()
    assert err.value.transient


def test_auth_and_bad_requests_are_not_transient() -> None:
    assert not OdooAuthError("x").transient
    assert not OdooBadRequest("x").transient
    assert not OdooMissingError("x").transient
