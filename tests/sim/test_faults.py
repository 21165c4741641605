"""Fault injection over real HTTP: each kind, its filters and counting, the HTTP control API,
the constant latency, and the call log of faulted calls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from odoo_sim.odoo import OdooSim, SimError
from tests.sim.simkit import API_KEY, DB, UID, Json2, Rpc, RpcError, seeded_sim

ServedJson2 = Callable[..., tuple[Rpc, Json2]]
Served = Callable[[OdooSim], Rpc]


def count_body(key: str = API_KEY) -> dict:
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 3,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [DB, UID, key, "sale.order", "search_count", [[]], {}],
        },
    }


def test_latency_delays_a_correct_answer(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.faults.add("latency", seconds=0.4)
    started = time.perf_counter()
    assert client.execute("sale.order", "search_count", []) == 12
    assert time.perf_counter() - started >= 0.4
    started = time.perf_counter()
    assert client.execute("sale.order", "search_count", []) == 12  # times=1: spent
    assert time.perf_counter() - started < 0.3


def test_constant_latency_applies_to_every_call(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0", latency_seconds=0.05)
    rpc, client = serve_json2(sim)
    started = time.perf_counter()
    for _ in range(4):
        rpc.call("common", "version")
        client.call("sale.order", "search_count", domain=[])
    assert time.perf_counter() - started >= 8 * 0.05
    assert rpc.http.put("/sim/latency", json={"seconds": 0}).json() == {"seconds": 0.0}
    assert sim.latency_seconds == 0.0
    started = time.perf_counter()
    for _ in range(8):
        rpc.call("common", "version")
    assert time.perf_counter() - started < 8 * 0.05
    assert rpc.http.put("/sim/latency", json={"seconds": -1}).status_code == 422
    with pytest.raises(SimError):
        sim.latency_seconds = -0.5


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_http_status_answers_like_a_proxy_then_recovers(serve: Served, status: int) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.faults.add("http_status", status=status, retry_after=7 if status == 429 else None)
    response = client.post(count_body())
    assert response.status_code == status
    assert len(response.content) < 100
    assert response.headers.get("retry-after") == ("7" if status == 429 else None)
    assert client.post(count_body()).json()["result"] == 12


def test_http_status_with_an_empty_body_on_json2(serve_json2: ServedJson2) -> None:
    rpc, client = serve_json2(seeded_sim(version="19.0"))
    rpc.http.post(
        "/sim/faults", json={"kind": "http_status", "status": 503, "body": "", "times": 2}
    )
    for _ in range(2):
        response = client.post("sale.order", "search_count", domain=[])
        assert (response.status_code, response.content) == (503, b"")
    assert client.call("sale.order", "search_count", domain=[]) == 12


def test_html_error_page(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.faults.add("html")
    sim.faults.add("html", status=502, after=1)
    maintenance = client.post(count_body())
    assert maintenance.status_code == 200
    assert maintenance.headers["content-type"].startswith("text/html")
    assert maintenance.text.startswith("<html>")
    with pytest.raises(json.JSONDecodeError):
        maintenance.json()
    bad_gateway = client.post(count_body())
    assert bad_gateway.status_code == 502
    assert "<h1>502 Bad Gateway</h1>" in bad_gateway.text
    assert client.post(count_body()).json()["result"] == 12


def test_truncated_answer_is_the_first_half_of_the_real_one(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0")
    rpc, client = serve_json2(sim)
    whole = rpc.http.post("/jsonrpc", json=count_body()).content
    sim.faults.add("truncated", transport="jsonrpc")
    cut = rpc.http.post("/jsonrpc", json=count_body())
    assert cut.status_code == 200
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        cut.json()
    sim.faults.add("truncated", transport="json2")
    fields = client.post("sale.order", "search_read", domain=[], fields=["name"])
    assert fields.status_code == 200
    assert fields.text.startswith('[{"id": ')
    with pytest.raises(json.JSONDecodeError):
        fields.json()


def test_hang_times_the_client_out_without_blocking_other_requests(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.faults.add("hang", seconds=5, method="search_read")
    outcome: dict[str, object] = {}

    def hanging_call() -> None:
        started = time.perf_counter()
        try:
            client.http.post(
                "/jsonrpc",
                json={
                    **count_body(),
                    "params": {
                        "service": "object",
                        "method": "execute_kw",
                        "args": [DB, UID, API_KEY, "sale.order", "search_read", [[]], {"limit": 1}],
                    },
                },
                timeout=1.5,
            )
        except httpx.TimeoutException as exc:
            outcome["error"] = exc
        outcome["waited"] = time.perf_counter() - started

    thread = threading.Thread(target=hanging_call)
    thread.start()
    time.sleep(0.3)  # the hanging request is in the server now
    other = Rpc(client.url)
    started = time.perf_counter()
    assert other.execute("sale.order", "search_count", []) == 12
    assert time.perf_counter() - started < 0.5
    thread.join(timeout=10)
    other.http.close()
    assert isinstance(outcome.get("error"), httpx.ReadTimeout)
    assert 1.4 < outcome["waited"] < 3  # type: ignore[operator]


def test_revoked_key_fails_every_transport_until_cleared(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0", password="s3cret")
    rpc, client = serve_json2(sim)
    rpc.http.post("/sim/faults", json={"kind": "revoked_key"})
    for _ in range(3):  # no `times`: lasts until cleared
        assert rpc.call("common", "authenticate", DB, "admin", API_KEY, {}) is False
        with pytest.raises(RpcError) as caught:
            rpc.execute("sale.order", "search_count", [])
        assert caught.value.name == "odoo.exceptions.AccessDenied"
        denied = client.post("sale.order", "search_count", domain=[])
        assert (denied.status_code, denied.json()["message"]) == (401, "Invalid apikey")
    assert rpc.call("common", "authenticate", DB, "admin", "s3cret", {}) == UID
    assert Rpc(rpc.url, key="s3cret").execute("sale.order", "search_count", []) == 12
    assert rpc.http.delete("/sim/faults").json() == {"cleared": 1}
    assert rpc.call("common", "authenticate", DB, "admin", API_KEY, {}) == UID
    assert client.call("sale.order", "search_count", domain=[]) == 12


def test_odoo_error_fault_answers_an_odoo_exception(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    sim.faults.add("odoo_error", error="odoo.exceptions.AccessError", message="No access")
    with pytest.raises(RpcError) as caught:
        client.execute("sale.order", "search_count", [])
    assert (caught.value.name, str(caught.value)) == ("odoo.exceptions.AccessError", "No access")
    assert caught.value.error["code"] == 200


def test_after_and_times_count_only_matching_calls(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0")
    rpc, client = serve_json2(sim)
    added = rpc.http.post(
        "/sim/faults",
        json={
            "kind": "http_status",
            "status": 502,
            "model": "sale.order",
            "method": "search_read",
            "after": 2,
            "times": 2,
        },
    ).json()["faults"]
    assert added[0]["remaining"] == 2

    def page() -> int:
        return rpc.post(
            {
                **count_body(),
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [DB, UID, API_KEY, "sale.order", "search_read", [[]], {"limit": 1}],
                },
            }
        ).status_code

    statuses = []
    for _ in range(5):
        statuses.append(page())
        rpc.execute("sale.order", "search_count", [])  # another method: not counted
        rpc.execute("res.partner", "search_read", [], fields=["name"])  # another model
        json2 = client.post("sale.order", "search_read", domain=[], limit=1)  # counted too
        statuses.append(json2.status_code)
    assert statuses == [200, 200, 502, 502, 200, 200, 200, 200, 200, 200]
    [fault] = rpc.http.get("/sim/faults").json()["faults"]
    assert (fault["matched"], fault["applied"], fault["remaining"]) == (10, 2, 0)


def test_transport_filter(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0")
    rpc, client = serve_json2(sim)
    sim.faults.add("http_status", status=500, transport="json2", times=None)
    for _ in range(3):
        assert rpc.execute("sale.order", "search_count", []) == 12
        assert client.post("sale.order", "search_count", domain=[]).status_code == 500
    assert sim.faults.clear() == 1
    assert client.call("sale.order", "search_count", domain=[]) == 12


def test_faulted_calls_are_logged_and_flagged(serve_json2: ServedJson2) -> None:
    sim = seeded_sim(version="19.0")
    rpc, client = serve_json2(sim)
    sim.faults.add("http_status", status=429, method="version")
    sim.faults.add("truncated", transport="json2")
    rpc.http.post(
        "/jsonrpc",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"service": "common", "method": "version", "args": []},
        },
    )
    client.post("sale.order", "search_count", domain=[])
    rpc.call("common", "version")
    assert sim.calls == [
        ("common", "version", None, None),
        ("json2", None, "sale.order", "search_count"),
        ("common", "version", None, None),
    ]
    assert sim.faulted_calls == [
        (("common", "version", None, None), ("http_status",)),
        (("json2", None, "sale.order", "search_count"), ("truncated",)),
    ]
    assert rpc.http.get("/sim/calls").json()["faulted"] == 2


def test_fault_control_api(serve: Served) -> None:
    sim = seeded_sim()
    client = serve(sim)
    http = client.http
    assert http.get("/sim/faults").json() == {"faults": []}
    added = http.post(
        "/sim/faults",
        json=[{"kind": "latency", "seconds": 0.01, "times": None}, {"kind": "hang", "after": 5}],
    ).json()["faults"]
    assert [(f["id"], f["kind"], f["times"], f["remaining"]) for f in added] == [
        (1, "latency", None, None),
        (2, "hang", 1, 1),
    ]
    assert [f.kind for f in sim.faults] == ["latency", "hang"]
    for bad in (
        {"kind": "explode"},
        {"kind": "http_status"},
        {"kind": "latency", "colour": "red"},
        {"kind": "latency", "transport": "smtp"},
        {"kind": "odoo_error"},
        [1, 2],
    ):
        assert http.post("/sim/faults", json=bad).status_code == 422, bad
    assert http.post("/sim/faults", content=b"{oops").status_code == 422
    assert http.delete("/sim/faults").json() == {"cleared": 2}
    assert len(sim.faults) == 0
    with pytest.raises(SimError):
        sim.faults.add("latency", after=-1)
