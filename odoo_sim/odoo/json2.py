"""JSON-2 (saas~18.4, 19.0): `POST /json/2/<model>/<method>` with a bearer API key and named
arguments; the bare JSON result, or an error body with a real HTTP status."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from odoo_sim.odoo.calllog import CallRecord
from odoo_sim.odoo.errors import OdooError, http_error, python_error
from odoo_sim.odoo.faults import Call
from odoo_sim.odoo.methods import bound_method, has_method, has_model, is_private
from odoo_sim.odoo.wire import serve_call

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim

JSON = "application/json; charset=utf-8"
_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)
_STATUS = {
    "werkzeug.exceptions.BadRequest": 400,
    "werkzeug.exceptions.Unauthorized": 401,
    "odoo.exceptions.AccessDenied": 401,
    "werkzeug.exceptions.Forbidden": 403,
    "odoo.exceptions.AccessError": 403,
    "werkzeug.exceptions.NotFound": 404,
    "odoo.exceptions.MissingError": 404,
    "werkzeug.exceptions.Conflict": 409,
    "odoo.exceptions.ConcurrencyError": 409,
    "psycopg2.errors.LockNotAvailable": 409,
    "psycopg2.errors.SerializationFailure": 409,
    "werkzeug.exceptions.UnprocessableEntity": 422,
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "builtins.ValueError": 422,
    "builtins.TypeError": 422,
    "builtins.AssertionError": 422,
}


def status_of(error: OdooError) -> int:
    """The HTTP status JSON-2 answers for an exception (500 for anything unexpected)."""
    return _STATUS.get(error.name, 500)


def error_body(error: OdooError) -> dict[str, Any]:
    return {
        "name": error.name,
        "message": error.message,
        "arguments": error.arguments,
        "context": {},
        "debug": error.debug(),
    }


async def json2_endpoint(sim: OdooSim, request: Request) -> Response:
    model, method = request.path_params["model"], request.path_params["method"]
    body = await request.body()
    headers = dict(request.headers)

    def produce(revoked: bool, injected: OdooError | None) -> Response:
        return respond(sim, model, method, headers, body, revoked, injected)

    record = CallRecord("json2", None, model, method)
    return await serve_call(sim, request, Call("json2", model, method), record, produce)


async def web_version_endpoint(sim: OdooSim, request: Request) -> Response:
    def produce(revoked: bool, injected: OdooError | None) -> Response:
        return Response(json.dumps(sim.profile.web_version()), media_type=JSON)

    record = CallRecord("web", "version", None, None)
    return await serve_call(sim, request, Call("web", None, "version"), record, produce)


def respond(
    sim: OdooSim,
    model: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    revoked: bool = False,
    injected: OdooError | None = None,
) -> Response:
    """One JSON-2 request -> its HTTP response."""
    try:
        result = call(sim, model, method, headers, body, revoked, injected)
    except OdooError as exc:
        return _error_response(exc)
    except Exception as exc:
        return _error_response(python_error(exc))
    return Response(json.dumps(result, ensure_ascii=False), media_type=JSON)


def call(
    sim: OdooSim,
    model: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    revoked: bool,
    injected: OdooError | None,
) -> Any:
    """Database, key, body, method, arguments: checked in that order, then the call."""
    _check_database(sim, headers.get("x-odoo-database"))
    _authenticate(sim, headers.get("authorization"), revoked)
    args = _arguments(body)
    if injected is not None:
        raise injected
    _check_method(sim, model, method)
    ids, context = args.pop("ids", None), args.pop("context", None)
    with sim.mutex:
        func = bound_method(
            sim.store, model, method, context, ids or [], sim.uid, sim.profile.search_count_kwarg
        )
        try:
            inspect.signature(func).bind(**args)
        except TypeError as exc:
            raise http_error(422, str(exc)) from None
        return func(**args)


def _check_database(sim: OdooSim, database: str | None) -> None:
    if database is not None and database != sim.database:
        raise http_error(404, f"database {database!r} not found")


def _authenticate(sim: OdooSim, authorization: str | None, revoked: bool) -> None:
    match = _BEARER.match(authorization or "")
    if match is None:
        raise http_error(401, 'User not authenticated, use the "Authorization" header')
    if not sim.credentials.accepts_bearer(match.group(1).strip(), revoked):
        raise http_error(401, "Invalid apikey")


def _arguments(body: bytes) -> dict[str, Any]:
    try:
        args = json.loads(body)
    except ValueError:
        raise http_error(400, "could not parse the body as json") from None
    if not isinstance(args, dict):
        raise http_error(422, "the body must be a JSON object of named arguments")
    return args


def _check_method(sim: OdooSim, model: str, method: str) -> None:
    if is_private(method):
        raise OdooError(
            "odoo.exceptions.AccessError",
            f"Private methods (such as {method}) cannot be called remotely.",
            "json2",
        )
    if not has_model(sim.store, model):
        raise http_error(404, f"the model {model!r} does not exist")
    if not has_method(model, method):
        raise http_error(404, f"the method {method!r} does not exist on the model {model!r}")


def _error_response(error: OdooError) -> Response:
    status = status_of(error)
    error.where = "json2"
    headers = {"WWW-Authenticate": "bearer"} if status == 401 else None
    return Response(
        json.dumps(error_body(error), ensure_ascii=False), status, headers=headers, media_type=JSON
    )
