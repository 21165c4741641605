"""The `/sim/...` HTTP control API that tests and the demo use to change the shop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odoo_sim.odoo.errors import SimError

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim


def control_routes(sim: OdooSim) -> list[Route]:
    return [
        Route("/sim/orders", _handler(sim, _create_order), methods=["POST"]),
        Route("/sim/orders/generate", _handler(sim, _generate), methods=["POST"]),
        Route("/sim/orders/late", _handler(sim, _late_order), methods=["POST"]),
        Route("/sim/orders/{order_id:int}/{action}", _handler(sim, _action), methods=["POST"]),
        Route("/sim/calls", _handler(sim, _calls), methods=["GET"]),
        Route("/sim/calls/reset", _handler(sim, _reset_calls), methods=["POST"]),
        Route("/sim/tenant-calls", _handler(sim, _tenant_calls), methods=["GET"]),
        Route("/sim/faults", _handler(sim, _faults), methods=["GET", "POST", "DELETE"]),
        Route("/sim/latency", _handler(sim, _latency), methods=["GET", "PUT", "POST"]),
    ]


Handler = Callable[["OdooSim", Request], Any]


def _handler(sim: OdooSim, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await handler(sim, request)

    return endpoint


async def json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"__invalid_body__": True}


def answer(call: Callable[[], Any]) -> JSONResponse:
    """The call's result as JSON, or its refusal with the matching status."""
    try:
        return JSONResponse(call())
    except SimError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    except (TypeError, ValueError, KeyError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)


async def _create_order(sim: OdooSim, request: Request) -> Response:
    body = await json_object(request)
    return answer(lambda: sim.create_order(**body))


async def _generate(sim: OdooSim, request: Request) -> Response:
    body = await json_object(request)

    def generate() -> dict[str, Any]:
        ids = sim.add_generated_orders(**body)
        return {
            "count": len(ids),
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }

    return answer(generate)


async def _late_order(sim: OdooSim, request: Request) -> Response:
    body = await json_object(request)
    return answer(lambda: sim.begin_late_order(**body).as_json())


async def _action(sim: OdooSim, request: Request) -> Response:
    actions = {
        "confirm": sim.confirm,
        "cancel": sim.cancel,
        "touch": sim.touch,
        "lock": sim.lock_order,
        "commit": sim.commit_late_order,
    }
    action = actions.get(request.path_params["action"])
    if action is None:
        return JSONResponse({"error": "unknown action"}, status_code=404)
    return answer(lambda: action(request.path_params["order_id"]))


async def _calls(sim: OdooSim, request: Request) -> Response:
    counts = sim.call_counts()
    return JSONResponse(
        {
            "total": sum(counts.values()),
            "faulted": len(sim.faulted_calls),
            "counts": [{**record._asdict(), "count": count} for record, count in counts.items()],
        }
    )


async def _tenant_calls(sim: OdooSim, request: Request) -> Response:
    """Every call made under `/t/<tag>`: `[tenant, model, odoo_method, started, ended]`."""
    return JSONResponse({"calls": [list(call) for call in sim.tenant_calls]})


async def _reset_calls(sim: OdooSim, request: Request) -> Response:
    sim.reset_calls()
    return JSONResponse({"total": 0})


async def _faults(sim: OdooSim, request: Request) -> Response:
    """GET lists the faults with their counters, POST adds one or a list, DELETE clears."""
    if request.method == "DELETE":
        return JSONResponse({"cleared": sim.faults.clear()})
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        return answer(lambda: {"faults": [f.as_json() for f in sim.faults.add_json(body)]})
    return JSONResponse({"faults": [fault.as_json() for fault in sim.faults]})


async def _latency(sim: OdooSim, request: Request) -> Response:
    """GET the added latency; PUT/POST `{"seconds": 0.05}` sets it."""
    if request.method != "GET":
        body = await json_object(request)

        def set_latency() -> None:
            sim.latency_seconds = float(body["seconds"])

        failed = answer(set_latency)
        if failed.status_code != 200:
            return failed
    return JSONResponse({"seconds": sim.latency_seconds})
