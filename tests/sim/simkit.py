"""Helpers for the Odoo simulator tests: tiny JSON-RPC and JSON-2 clients, seeding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from odoo_sim.odoo import OdooSim
from odoo_sim.seed import seed_shop

API_KEY = "sim-test-api-key-0123456789"
DB = "odoo_test"
UID = 2
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "odoo16"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["data"]["message"])
        self.error = error
        self.name = error["data"]["name"]


class Rpc:
    """Just enough JSON-RPC to drive the simulator over HTTP."""

    def __init__(self, url: str, key: str = API_KEY) -> None:
        self.url = url
        self.key = key
        self.http = httpx.Client(base_url=url, timeout=30)

    def post(self, body: Any) -> httpx.Response:
        return self.http.post("/jsonrpc", json=body)

    def call(self, service: str, method: str, *args: Any) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 7,
            "params": {"service": service, "method": method, "args": list(args)},
        }
        answer = self.post(body).json()
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer["result"]

    def execute(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.call(
            "object", "execute_kw", DB, UID, self.key, model, method, list(args), kwargs
        )


class Json2:
    """Just enough JSON-2 to drive the simulator over HTTP."""

    def __init__(self, url: str, key: str | None = API_KEY, database: str | None = None) -> None:
        headers = {"Authorization": f"bearer {key}"} if key is not None else {}
        if database is not None:
            headers["X-Odoo-Database"] = database
        self.http = httpx.Client(base_url=url, timeout=30, headers=headers)

    def post(self, model: str, method: str, **args: Any) -> httpx.Response:
        return self.http.post(f"/json/2/{model}/{method}", json=args)

    def call(self, model: str, method: str, **args: Any) -> Any:
        response = self.post(model, method, **args)
        assert response.status_code == 200, response.text
        return response.json()


VERSIONS = ("16.0", "17.0", "18.0", "19.0", "saas~18.4")


def seeded_sim(**kwargs: Any) -> OdooSim:
    second_batch = kwargs.pop("second_batch", True)
    anchor = kwargs.pop("anchor", None)
    sim = OdooSim(api_keys=[API_KEY], **kwargs)
    seed_shop(sim, anchor=anchor, second_batch=second_batch)
    return sim
