"""The simulator's Starlette app: Odoo's endpoints (per version) plus the `/sim/...` control API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odoo_sim.odoo import jsonrpc
from odoo_sim.odoo.control import control_routes
from odoo_sim.odoo.errors import OdooFault
from odoo_sim.odoo.faults import Call
from odoo_sim.odoo.json2 import json2_endpoint, json2_get_endpoint, web_version_endpoint
from odoo_sim.odoo.tenants import TenantPrefix
from odoo_sim.odoo.wire import serve_call

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim

Endpoint = Callable[["OdooSim", Request], Awaitable[Response]]


def build_app(sim: OdooSim) -> Starlette:
    routes = [Route("/jsonrpc", _bind(sim, jsonrpc_endpoint), methods=["POST"])]
    if sim.profile.json2:
        routes += [
            Route("/json/2/{model}/{method}", _bind(sim, json2_endpoint), methods=["POST"]),
            Route("/json/2/{model}/{method}", _bind(sim, json2_get_endpoint), methods=["GET"]),
            Route("/web/version", _bind(sim, web_version_endpoint), methods=["GET"]),
            Route("/json/version", _bind(sim, web_version_endpoint), methods=["GET"]),
        ]
    return Starlette(routes=[*routes, *control_routes(sim)], middleware=[Middleware(TenantPrefix)])


def _bind(sim: OdooSim, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def bound(request: Request) -> Response:
        return await endpoint(sim, request)

    return bound


async def jsonrpc_endpoint(sim: OdooSim, request: Request) -> Response:
    parsed = jsonrpc.RpcRequest.parse(await request.body())
    if parsed is None:
        return _json(jsonrpc.not_json(sim))
    record = parsed.record()
    if record.service == "object":
        call = Call("jsonrpc", record.model, record.odoo_method)
    else:
        call = Call("jsonrpc", None, parsed.method if isinstance(parsed.method, str) else None)

    def produce(revoked: bool, injected: OdooFault | None) -> Response:
        return _json(jsonrpc.answer(sim, parsed, revoked, injected))

    return await serve_call(sim, request, call, record, produce)


def _json(envelope: object) -> Response:
    return Response(json.dumps(envelope, ensure_ascii=False), media_type="application/json")
