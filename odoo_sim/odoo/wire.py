"""What happens on the wire around one Odoo call: the call logged, then latency, hangs, proxy
answers, truncated bodies and revoked keys applied from the simulator's faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from odoo_sim.odoo import tenants
from odoo_sim.odoo.calllog import CallRecord
from odoo_sim.odoo.errors import OdooFault
from odoo_sim.odoo.faults import HANG_SECONDS, Call, Fault
from odoo_sim.odoo.tenants import TenantCall, tenant_of

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim

#: Builds the real answer; told whether API keys are revoked and which error to raise instead.
Produce = Callable[[bool, OdooFault | None], Response]
_POLL = 0.05


async def serve_call(
    sim: OdooSim, request: Request, call: Call, record: CallRecord, produce: Produce
) -> Response:
    tenant, started = tenant_of(request.scope), tenants.now()
    try:
        return await _serve(sim, request, call, record, produce)
    finally:
        if tenant is not None:
            sim.log_tenant_call(
                TenantCall(tenant, record.model, record.odoo_method, started, tenants.now())
            )


async def _serve(
    sim: OdooSim, request: Request, call: Call, record: CallRecord, produce: Produce
) -> Response:
    faults = sim.faults.take(call)
    sim.log_call(record, tuple(fault.kind for fault in faults))
    delay = sim.latency_seconds + sum(f.seconds or 0.0 for f in faults if f.kind == "latency")
    if delay > 0:
        await asyncio.sleep(delay)
    hangs = [f.seconds or HANG_SECONDS for f in faults if f.kind == "hang"]
    if hangs and not await _hang(request, max(hangs)):
        return Response(status_code=504)  # the client is gone; nobody reads this
    for fault in faults:
        if fault.kind in ("http_status", "html"):
            return fault_response(fault)
    revoked = any(fault.kind == "revoked_key" for fault in faults)
    injected = next((injected_error(f) for f in faults if f.kind == "odoo_error"), None)
    response = produce(revoked, injected)
    if any(fault.kind == "truncated" for fault in faults):
        return truncated(response)
    return response


async def _hang(request: Request, seconds: float) -> bool:
    """Sleep without answering; False as soon as the client hangs up."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(_POLL, left))
        if await request.is_disconnected():
            return False
    return True


def fault_response(fault: Fault) -> Response:
    if fault.kind == "html":
        status = fault.status or 200
        return Response(fault.body or _html_page(status), status, media_type="text/html")
    status = fault.status or 500
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    body = _phrase(status) if fault.body is None else fault.body
    return Response(body, status, headers=headers, media_type="text/plain")


def truncated(response: Response) -> Response:
    """The same answer cut in half (HTTP 200), as a dropped connection or a proxy would."""
    body = bytes(response.body)
    media_type = response.headers.get("content-type")
    return Response(body[: len(body) // 2], 200, media_type=media_type)


def injected_error(fault: Fault) -> OdooFault:
    name = fault.error or "builtins.Exception"
    return OdooFault(
        name, fault.message or f"{name.rsplit('.', 1)[-1]} (injected by the simulator)"
    )


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _html_page(status: int) -> str:
    title = _phrase(status) if status != 200 else "Maintenance in progress"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
