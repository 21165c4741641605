"""JSON-2 on 19.0 and saas~18.4 over real HTTP: named arguments, bare results, real statuses
with Odoo 19's error body (as the recorded 19.0 server answers: see test_recordings.py),
`/web/version`, and its absence before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from odoo_sim.odoo import OdooSim
from odoo_sim.odoo.json2 import NO_KEY
from odoo_sim.server import BackgroundServer
from tests.sim.simkit import API_KEY, DB, Json2, Rpc, seeded_sim

ServedJson2 = Callable[..., tuple[Rpc, Json2]]
CONFIRMED = [["state", "in", ["sale", "done"]]]
JSON = "application/json; charset=utf-8"


def error(response: httpx.Response, status: int, name: str) -> dict[str, Any]:
    """Check an error answer's status and body shape; return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["name", "message", "arguments", "context", "debug"]
    assert body["name"] == name
    assert body["context"] == {}
    assert body["debug"].startswith("Traceback (most recent call last):\n")
    assert body["debug"].rstrip("\n").endswith(body["message"].rstrip("\n"))
    return body


@pytest.fixture(params=["19.0", "saas~18.4"])
def json2_sim(request: pytest.FixtureRequest) -> OdooSim:
    return seeded_sim(version=request.param, password="s3cret")


@pytest.fixture(scope="module", params=["19.0", "saas~18.4"])
def json2_shop(request: pytest.FixtureRequest) -> Iterator[tuple[Rpc, Json2]]:
    """A served JSON-2 shop for tests that change nothing in it (faults are cleared after)."""
    sim = seeded_sim(version=request.param, password="s3cret")
    with BackgroundServer(sim.app) as server:
        clients = (Rpc(server.url), Json2(server.url))
        yield clients
        for client in clients:
            client.http.close()


def test_json2_answers_bare_values_with_named_arguments(
    serve_json2: ServedJson2, json2_sim: OdooSim
) -> None:
    rpc, client = serve_json2(json2_sim)
    response = client.post(
        "sale.order",
        "search_read",
        domain=CONFIRMED,
        fields=["name", "write_date"],
        limit=3,
        order="id asc",
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == rpc.execute(
        "sale.order", "search_read", CONFIRMED, ["name", "write_date"], 0, 3, "id asc"
    )
    assert [order["name"] for order in response.json()] == ["S00001", "S00002", "S00003"]
    assert client.call("sale.order", "search", domain=CONFIRMED, offset=2, limit=2) == [8, 7]
    assert client.call("sale.order", "search_count", domain=CONFIRMED) == 8
    assert client.call("sale.order", "search_count", domain=CONFIRMED, limit=3) == 3
    assert client.call("res.partner", "read", ids=[7, 10], fields=["name"]) == [
        {"id": 7, "name": "Alice Martin"},
        {"id": 10, "name": "Minimal Customer"},
    ]
    assert client.call("res.partner", "read", ids=[999], fields=["name"]) == []
    assert client.call("sale.order", "fields_get", allfields=["state"], attributes=["type"]) == {
        "state": {"type": "selection"}
    }
    assert client.call("res.users", "context_get") == {"lang": "en_US", "tz": False, "uid": 2}
    json2_sim.write("product.product", [4], {"active": False})
    assert client.call("product.product", "search", domain=[["id", "=", 4]]) == []
    archived = client.call(
        "product.product", "search", domain=[["id", "=", 4]], context={"active_test": False}
    )
    assert archived == [4]


def test_json2_calls_are_logged(serve_json2: ServedJson2, json2_sim: OdooSim) -> None:
    _rpc, client = serve_json2(json2_sim)
    client.call("sale.order", "search", domain=[])
    client.post("sale.orderz", "search", domain=[])
    client.http.get("/web/version")
    assert json2_sim.calls == [
        ("json2", None, "sale.order", "search"),
        ("json2", None, "sale.orderz", "search"),
        ("web", "version", None, None),
    ]


def test_the_documented_401_body_for_a_bad_key(serve_json2: ServedJson2) -> None:
    _rpc, client = serve_json2(seeded_sim(version="19.0"), key="not-a-key")
    body = error(
        client.post("sale.order", "search", domain=[]), 401, "werkzeug.exceptions.Unauthorized"
    )
    assert body["message"] == "Invalid apikey"
    assert body["arguments"] == ["Invalid apikey", 401]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, NO_KEY),
        ({"Authorization": f"Basic {API_KEY}"}, NO_KEY),
        ({"Authorization": "bearer s3cret"}, "Invalid apikey"),  # the password is no API key
        ({"Authorization": "Bearer wrong"}, "Invalid apikey"),
    ],
)
def test_json2_takes_only_bearer_api_keys(
    json2_shop: tuple[Rpc, Json2], headers: dict[str, str], message: str
) -> None:
    _rpc, client = json2_shop
    response = httpx.post(
        f"{client.http.base_url}/json/2/sale.order/search", json={"domain": []}, headers=headers
    )
    body = error(response, 401, "werkzeug.exceptions.Unauthorized")
    assert body["message"] == message
    assert response.headers["www-authenticate"].lower() == "bearer"
    upper = client.http.post(
        "/json/2/sale.order/search_count",
        json={"domain": []},
        headers={"Authorization": f"BEARER {API_KEY}"},
    )
    assert upper.json() == 12


def test_x_odoo_database_must_name_the_database(serve_json2: ServedJson2) -> None:
    """A wrong database selects none: Odoo's 404 HTML page, not a JSON error."""
    sim = seeded_sim(version="19.0")
    _rpc, right = serve_json2(sim, database=DB)
    assert right.call("sale.order", "search_count", domain=[]) == 12
    _rpc, wrong = serve_json2(sim, database="other_db")
    for response in (
        wrong.post("sale.order", "search_count", domain=[]),
        wrong.http.get("/json/2/sale.order/search_count"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "No database is selected" in response.text
        assert "X-Odoo-Database" in response.text


@pytest.mark.parametrize(
    ("model", "method", "args", "status", "name", "message"),
    [
        (
            "sale.order",
            "_search",
            {"domain": []},
            403,
            "odoo.exceptions.AccessError",
            "Private methods (such as 'sale.order._search') cannot be called remotely.",
        ),
        (
            "sale.orderz",
            "_search",
            {"domain": []},
            404,
            "werkzeug.exceptions.NotFound",
            "the model 'sale.orderz' does not exist",
        ),
        (
            "sale.orderz",
            "search",
            {"domain": []},
            404,
            "werkzeug.exceptions.NotFound",
            "the model 'sale.orderz' does not exist",
        ),
        (
            "sale.order",
            "no_such_method",
            {},
            404,
            "werkzeug.exceptions.NotFound",
            "The method 'sale.order.no_such_method' does not exist",
        ),
        (
            "sale.order",
            "search",
            {"domain": [], "bogus": 1},
            422,
            "werkzeug.exceptions.UnprocessableEntity",
            "got an unexpected keyword argument 'bogus'",
        ),
        (
            "sale.order",
            "search",
            {"domain": [], "count": True},
            422,
            "werkzeug.exceptions.UnprocessableEntity",
            "got an unexpected keyword argument 'count'",
        ),
        (
            "sale.order",
            "search",
            {},
            422,
            "werkzeug.exceptions.UnprocessableEntity",
            "missing a required argument: 'domain'",
        ),
        (
            "sale.order",
            "search_count",
            {"domain": [], "ids": [1]},
            422,
            "werkzeug.exceptions.UnprocessableEntity",
            "cannot call sale.order.search_count with ids",
        ),
        (
            "sale.order",
            "search_read",
            {"domain": [], "fields": ["name", "nope"]},
            500,
            "builtins.ValueError",
            "Invalid field 'nope' on 'sale.order'",
        ),
        (
            "sale.order",
            "search_read",
            {"domain": [["state", "=", "sale"]], "fields": ["name"], "order": "nope desc"},
            500,
            "builtins.ValueError",
            "Invalid field 'nope' on model 'sale.order'",
        ),
        (
            "sale.order",
            "search_read",
            {"domain": [["nope", "=", 1]]},
            500,
            "builtins.ValueError",
            "Invalid field sale.order.nope in condition ('nope', '=', 1)",
        ),
        (
            "sale.order",
            "search",
            {"domain": [["state", "LIKE", "x"]]},
            500,
            "builtins.ValueError",
            "Invalid operator in condition ('state', 'LIKE', 'x')",
        ),
        (
            "sale.order",
            "search_read",
            {"domain": [], "limit": 1, "bogus": 1},
            500,
            "builtins.TypeError",
            "BaseModel._read_format() got an unexpected keyword argument 'bogus'",
        ),
        (
            "sale.order",
            "search",
            {"domain": [], "order": "id; drop"},
            422,
            "odoo.exceptions.UserError",
            'Invalid "order" specified (id; drop)',
        ),
        (
            "sale.order",
            "search",
            {"domain": [["write_date", ">", "yesterday"]]},
            500,
            "psycopg2.errors.InvalidDatetimeFormat",
            'invalid input syntax for type timestamp: "yesterday"',
        ),
    ],
)
def test_json2_errors_use_real_statuses(
    json2_shop: tuple[Rpc, Json2],
    model: str,
    method: str,
    args: dict[str, Any],
    status: int,
    name: str,
    message: str,
) -> None:
    _rpc, client = json2_shop
    body = error(client.post(model, method, **args), status, name)
    assert message in body["message"]
    if name.startswith("werkzeug."):
        assert body["arguments"] == [body["message"], status]
    else:
        assert body["arguments"] == [body["message"]]


def test_json2_lock_conflict_is_409(serve_json2: ServedJson2, json2_sim: OdooSim) -> None:
    _rpc, client = serve_json2(json2_sim)
    json2_sim.faults.add(
        "odoo_error",
        error="psycopg2.errors.LockNotAvailable",
        message='could not obtain lock on row in relation "sale_order"',
    )
    body = error(
        client.post("sale.order", "search", domain=[]), 409, "psycopg2.errors.LockNotAvailable"
    )
    assert body["message"] == 'could not obtain lock on row in relation "sale_order"'
    assert client.call("sale.order", "search_count", domain=[]) == 12


def test_json2_body_must_be_a_json_object(json2_shop: tuple[Rpc, Json2]) -> None:
    _rpc, client = json2_shop
    not_json = client.http.post("/json/2/sale.order/search", content=b"{nope")
    error(not_json, 400, "werkzeug.exceptions.BadRequest")
    positional = client.http.post("/json/2/sale.order/search", json=[[]])
    error(positional, 422, "werkzeug.exceptions.UnprocessableEntity")


@pytest.mark.parametrize(
    ("version", "info", "build"),
    [
        ("19.0", [19, 0, 0, "final", 0, ""], "19.0+e-20251227"),
        ("saas~18.4", ["saas~18", 4, 0, "final", 0, ""], "saas~18.4"),
    ],
)
@pytest.mark.parametrize("path", ["/web/version", "/json/version"])
def test_web_version_on_json2_profiles(
    serve_json2: ServedJson2, version: str, info: list[Any], build: str, path: str
) -> None:
    """No key needed; like Odoo it opens a session (a `session_id` cookie for a week)."""
    _rpc, client = serve_json2(OdooSim(version=version), key=None)
    response = client.http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {"version_info": info, "version": build}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session_id=") and "Max-Age=604800" in cookie
    assert "HttpOnly" in cookie and "Path=/" in cookie


def test_get_instead_of_post_is_a_404_with_a_hint(json2_shop: tuple[Rpc, Json2]) -> None:
    _rpc, client = json2_shop
    body = error(
        client.http.get("/json/2/sale.order/search_read"), 404, "werkzeug.exceptions.NotFound"
    )
    assert body["message"] == "Did you mean POST /json/2/<model>/<method>?"
    assert body["arguments"] == [body["message"], 404]


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_no_json2_and_no_web_version_before_saas_18_4(
    serve_json2: ServedJson2, version: str
) -> None:
    rpc, client = serve_json2(seeded_sim(version=version))
    assert client.http.get("/web/version").status_code == 404
    assert client.post("sale.order", "search", domain=[]).status_code == 404
    assert rpc.execute("sale.order", "search_count", []) == 12


def test_jsonrpc_keeps_working_on_19_with_error_code_0(json2_shop: tuple[Rpc, Json2]) -> None:
    rpc, _client = json2_shop
    assert rpc.call("common", "authenticate", DB, "admin", API_KEY, {}) == 2
    assert rpc.execute("sale.order", "search_count", CONFIRMED) == 8
    answer = rpc.post(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [DB, 2, API_KEY, "sale.orderz", "search", [[]], {}],
            },
        }
    ).json()
    assert answer["error"]["code"] == 0
