"""The JSON-2 edge (respx): bearer key, named arguments, errors by HTTP status and exception
name, on the error answers recorded from a real 19.0 server (`tests/fixtures/odoo19/`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from poller.odoo.client import OdooClient, OdooSession
from poller.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooBadRequest,
    OdooDatabaseNotFound,
    OdooError,
    OdooMissingError,
    OdooProtocolError,
    OdooRateLimited,
    OdooServerError,
)
from tests.support.wire import exchange, recording

URL = "http://odoo19.test"
KEY = "json2-key-7c1e9a"
HTML = {"content-type": "text/html; charset=utf-8"}
RECORDED_FILES = ("odoo19-json2-responses.json", "odoo19-poll-cycle-json2.json")
#: The class every recorded JSON-2 error answer must raise.
RECORDED_ERRORS: dict[str, type[OdooError]] = {
    "error_bad_operator": OdooBadRequest,  # 500 ValueError "Invalid operator in condition"
    "error_bad_order": OdooMissingError,  # 500 ValueError "Invalid field" (in `order`)
    "error_get_instead_of_post": OdooMissingError,  # 404 NotFound
    "error_ids_on_model_method": OdooBadRequest,  # 422 UnprocessableEntity
    "error_invalid_json_body": OdooBadRequest,  # 400 BadRequest
    "error_no_key": OdooAuthError,  # 401 Unauthorized
    "error_positional_args": OdooBadRequest,  # 422
    "error_positional_args_read": OdooBadRequest,  # 422
    "error_positional_args_search_read": OdooBadRequest,  # 500 TypeError
    "error_private_method_compute_display_name": OdooAccessError,  # 403 AccessError
    "error_private_method_read_group": OdooAccessError,
    "error_unknown_argument": OdooBadRequest,  # 500 TypeError
    "error_unknown_field": OdooMissingError,  # 500 ValueError "Invalid field"
    "error_unknown_field_in_domain": OdooMissingError,  # 500 ValueError "Invalid field"
    "error_unknown_method": OdooMissingError,  # 404 NotFound
    "error_wrong_method": OdooMissingError,  # 404 NotFound
    "error_unknown_model": OdooMissingError,  # 404 NotFound
    "error_wrong_database": OdooDatabaseNotFound,  # 404 text/html
    "error_wrong_key": OdooAuthError,  # 401 Unauthorized
}


def recorded_error_keys() -> list[tuple[str, str]]:
    return [
        (filename, key)
        for filename in RECORDED_FILES
        for key, item in recording(filename).items()
        if item["http_status"] != 200
    ]


def odoo_error(status: int, name: str, message: str) -> httpx.Response:
    """The error body Odoo 19 documents for JSON-2."""
    return httpx.Response(
        status,
        json={
            "name": name,
            "message": message,
            "arguments": [message, status],
            "context": {},
            "debug": "Traceback (most recent call last):\n  ...\n",
        },
    )


def client(http: httpx.AsyncClient, transport: str = "json2") -> OdooClient:
    return OdooClient(
        http,
        url=URL,
        database="acme",
        login="bot",
        secret=KEY,
        connection="acme",
        transport=transport,  # type: ignore[arg-type]
    )


@respx.mock
async def test_calls_carry_the_bearer_key_database_and_named_arguments() -> None:
    route = respx.post(f"{URL}/json/2/sale.order/search_read").mock(
        return_value=httpx.Response(200, json=[{"id": 1, "write_date": "2026-11-28 08:19:30"}])
    )
    async with httpx.AsyncClient() as http:
        rows = await client(http).search_read(
            "sale.order", [["state", "in", ["sale"]]], ["write_date"], order="id asc", limit=200
        )
    assert rows == [{"id": 1, "write_date": "2026-11-28 08:19:30"}]
    request = route.calls.last.request
    assert request.headers["authorization"] == f"bearer {KEY}"
    assert request.headers["x-odoo-database"] == "acme"
    assert json.loads(request.content) == {
        "domain": [["state", "in", ["sale"]]],
        "fields": ["write_date"],
        "order": "id asc",
        "limit": 200,
    }


@respx.mock
async def test_read_sends_ids_and_context_as_special_keys() -> None:
    route = respx.post(f"{URL}/json/2/product.product/read").mock(
        return_value=httpx.Response(200, json=[{"id": 4, "default_code": False}])
    )
    async with httpx.AsyncClient() as http:
        await client(http).read(
            "product.product", [4, 4], ["default_code"], context={"active_test": False}
        )
    assert json.loads(route.calls.last.request.content) == {
        "ids": [4],
        "fields": ["default_code"],
        "context": {"active_test": False},
    }


@pytest.mark.parametrize(
    ("response", "error", "transient"),
    [
        (
            odoo_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey"),
            OdooAuthError,
            False,
        ),
        (
            odoo_error(403, "odoo.exceptions.AccessError", "You are not allowed"),
            OdooAccessError,
            False,
        ),
        (
            odoo_error(404, "werkzeug.exceptions.NotFound", "the model 'x' does not exist"),
            OdooMissingError,
            False,
        ),
        (
            odoo_error(500, "builtins.ValueError", "Invalid field 'nope' on 'sale.order'"),
            OdooMissingError,
            False,
        ),
        (
            odoo_error(
                500, "builtins.ValueError", "Invalid operator in condition ('state', 'x', 1)"
            ),
            OdooBadRequest,
            False,
        ),
        (
            odoo_error(422, "werkzeug.exceptions.UnprocessableEntity", "Invalid field 'x'"),
            OdooBadRequest,
            False,
        ),
        (
            httpx.Response(404, text="<p>No database is selected</p>", headers=HTML),
            OdooDatabaseNotFound,
            False,
        ),
        (httpx.Response(404, text="<p>Not Found</p>", headers=HTML), OdooMissingError, False),
        (
            odoo_error(409, "psycopg2.errors.LockNotAvailable", "could not obtain lock"),
            OdooServerError,
            True,
        ),
        (odoo_error(500, "builtins.KeyError", "'x'"), OdooServerError, False),
        (httpx.Response(429, headers={"Retry-After": "3"}), OdooRateLimited, True),
        (httpx.Response(503, text="<html>maintenance</html>"), OdooServerError, True),
        (httpx.Response(500, text="<html>oops</html>"), OdooServerError, False),
        (httpx.Response(200, text='[{"id": 1'), OdooProtocolError, True),
    ],
)
@respx.mock
async def test_errors_are_named_by_status(
    response: httpx.Response, error: type[OdooError], transient: bool
) -> None:
    respx.post(f"{URL}/json/2/sale.order/search_read").mock(return_value=response)
    async with httpx.AsyncClient() as http:
        with pytest.raises(error) as caught:
            await client(http).search_read("sale.order", [], ["name"])
    assert caught.value.transient is transient
    message = str(caught.value)
    assert "Odoo connection 'acme', sale.order.search_read" in message
    assert KEY not in message and "Traceback" not in message and "\n" not in message


@respx.mock
async def test_auto_picks_json2_on_19_and_learns_the_uid_from_context_get() -> None:
    respx.post(f"{URL}/jsonrpc").mock(
        return_value=httpx.Response(
            200,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "result": {
                    "server_version": "19.0",
                    "server_serie": "19.0",
                    "server_version_info": [19, 0, 0, "final", 0, ""],
                    "protocol_version": 1,
                },
            },
        )
    )
    respx.post(f"{URL}/json/2/res.users/context_get").mock(
        return_value=httpx.Response(200, json={"uid": 6, "lang": "en_US", "tz": "UTC"})
    )
    respx.post(url__regex=rf"{URL}/json/2/.+/fields_get").mock(
        return_value=httpx.Response(
            200, json={"product_uom_id": {"type": "many2one"}, "is_storable": {"type": "boolean"}}
        )
    )
    async with httpx.AsyncClient() as http:
        odoo = client(http, transport="auto")
        session = await odoo.open_session()
    assert (session.transport, session.uid, session.version.major) == ("json2", 6, 19)
    assert session.fields.line_uom == "product_uom_id"
    assert session.fields.partner_mobile is False


@respx.mock
async def test_auto_falls_back_to_jsonrpc_when_json2_refuses_a_password() -> None:
    answers = {
        "version": {
            "server_version": "19.0",
            "server_serie": "19.0",
            "server_version_info": [19, 0, 0, "final", 0, ""],
            "protocol_version": 1,
        },
        "authenticate": 2,
        "execute_kw": {"product_uom": {"type": "many2one"}},
    }

    def jsonrpc(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        result = answers[body["params"]["method"]]
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    respx.post(f"{URL}/jsonrpc").mock(side_effect=jsonrpc)
    respx.post(f"{URL}/json/2/res.users/context_get").mock(
        return_value=odoo_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
    )
    async with httpx.AsyncClient() as http:
        session = await client(http, transport="auto").open_session()
    assert (session.transport, session.uid) == ("jsonrpc", 2)


@respx.mock
async def test_cached_session_costs_no_call_and_its_version_is_checked_hourly() -> None:
    version = {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
    route = respx.get(f"{URL}/web/version").mock(return_value=httpx.Response(200, json=version))
    respx.post(f"{URL}/json/2/res.users/context_get").mock(
        return_value=httpx.Response(200, json={"uid": 6})
    )
    respx.post(url__regex=rf"{URL}/json/2/.+/fields_get").mock(
        return_value=httpx.Response(200, json={})
    )
    opened_at = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    async with httpx.AsyncClient() as http:
        first = await client(http).open_session(now=opened_at)
        odoo = client(http)
        again = await odoo.open_session(first, now=opened_at + timedelta(minutes=59))
        assert again is first and odoo.calls == 0 and odoo.uid == 6
        checked = client(http)
        later = await checked.open_session(first, now=opened_at + timedelta(hours=1))
        assert checked.calls == 1 and later.checked_at == opened_at + timedelta(hours=1)
        upgrade = {"version_info": ["saas~19", 1, 0, "final", 0, ""], "version": "saas~19.1+e"}
        route.mock(return_value=httpx.Response(200, json=upgrade))
        upgraded = await client(http).open_session(later, now=opened_at + timedelta(hours=2))
    assert upgraded.version.serie == "saas~19.1" and upgraded.uid == 6


def test_every_recorded_error_answer_has_an_expected_class() -> None:
    assert {key for _, key in recorded_error_keys()} == set(RECORDED_ERRORS)


@pytest.mark.parametrize(("filename", "key"), recorded_error_keys())
@respx.mock
async def test_recorded_error_answers_map_to_named_errors(filename: str, key: str) -> None:
    """The raw recorded answer (status, headers, body) raises the class the operator needs:
    an unknown field is a missing field (the poll re-detects the fields), a wrong database
    says so, a bad operator or keyword is a bad request."""
    item = exchange(filename, key)
    respx.post(url__regex=rf"{URL}/json/2/.+").mock(
        return_value=httpx.Response(
            item["http_status"], text=item["raw"], headers=item["response_headers"]
        )
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(OdooError) as caught:
            await client(http).search_read("sale.order", [], ["name"])
    assert type(caught.value) is RECORDED_ERRORS[key]
    assert caught.value.http_status == item["http_status"]
    assert not caught.value.transient
    message = str(caught.value)
    assert "Odoo connection 'acme', sale.order.search_read" in message
    assert KEY not in message and "Traceback" not in message and "\n" not in message
    if key == "error_wrong_database":
        assert "no database 'acme'" in message and "poller edit NAME --database" in message


@respx.mock
async def test_the_hourly_check_over_json2_keeps_a_session_on_the_recorded_19_build() -> None:
    """`/web/version` on 19 says "19.0+e-20251227": the serie is still 19.0, the one
    `common.version` gave when the session was opened, so nothing is detected again."""
    recorded = exchange("odoo19-json2-responses.json", "version")
    route = respx.get(f"{URL}/web/version").mock(
        return_value=httpx.Response(200, text=recorded["raw"])
    )
    opened_at = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    async with httpx.AsyncClient() as http:
        odoo = client(http, transport="auto")
        version = await odoo._transports["json2"].version()
        assert version["version"] == "19.0+e-20251227"
        session = OdooSession.model_validate(
            {
                "uid": 6,
                "version": {"serie": "19.0", "major": 19, "minor": 0},
                "fields": {},
                "transport": "json2",
                "checked_at": opened_at,
            }
        )
        checked = await odoo.open_session(session, now=opened_at + timedelta(hours=1))
    assert route.call_count == 2 and odoo.calls == 2
    assert checked.version == session.version and checked.uid == 6
