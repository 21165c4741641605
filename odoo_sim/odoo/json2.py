"""JSON-2 (saas~18.4, 19.0): `POST /json/2/<model>/<method>` with a bearer API key and named
arguments; the bare JSON result, or an error body with a real HTTP status. Shaped after the
recorded 19.0 server (`tests/fixtures/odoo19/odoo19-json2-responses.json`): an unknown field or
a bad operator is 500 `ValueError`, an unknown keyword 500 `TypeError`, a wrong
`X-Odoo-Database` a 404 HTML page."""

from __future__ import annotations

import inspect
import json
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from odoo_sim.odoo.calllog import CallRecord
from odoo_sim.odoo.errors import (
    OdooFault,
    http_error,
    no_such_method,
    private_method,
    python_error,
)
from odoo_sim.odoo.faults import Call
from odoo_sim.odoo.methods import RECORD_METHODS, bound_method, has_method, has_model, is_private
from odoo_sim.odoo.wire import serve_call

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim

JSON = "application/json; charset=utf-8"
SESSION_SECONDS = 604800  # the `session_id` cookie `/web/version` sets lasts a week
_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)
#: Odoo's answer when `X-Odoo-Database` names no database (recorded, byte for byte).
NO_DATABASE_PAGE = (
    "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>No database is selected and the requested URL was not found in the server-wide "
    "controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try "
    "again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n"
)
NO_KEY = "User not authenticated, use an API Key with a Bearer Authorization header."
#: Exceptions with their own status; anything else (ValueError, TypeError...) is a 500.
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
}


def status_of(error: OdooFault) -> int:
    """The HTTP status JSON-2 answers for an exception (500 for anything unexpected)."""
    return _STATUS.get(error.name, 500)


def error_body(error: OdooFault) -> dict[str, Any]:
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

    def produce(revoked: bool, injected: OdooFault | None) -> Response:
        return respond(sim, model, method, headers, body, revoked, injected)

    record = CallRecord("json2", None, model, method)
    return await serve_call(sim, request, Call("json2", model, method), record, produce)


async def json2_get_endpoint(sim: OdooSim, request: Request) -> Response:
    """`GET /json/2/...`: Odoo answers 404 with a hint, not 405."""
    if not database_ok(sim, request.headers.get("x-odoo-database")):
        return no_database()
    return error_response(http_error(404, "Did you mean POST /json/2/<model>/<method>?"))


async def web_version_endpoint(sim: OdooSim, request: Request) -> Response:
    def produce(revoked: bool, injected: OdooFault | None) -> Response:
        response = Response(json.dumps(sim.profile.web_version()), media_type=JSON)
        response.set_cookie(
            "session_id",
            secrets.token_urlsafe(30),
            max_age=SESSION_SECONDS,
            expires=SESSION_SECONDS,
            httponly=True,
            samesite=None,
        )
        return response

    record = CallRecord("web", "version", None, None)
    return await serve_call(sim, request, Call("web", None, "version"), record, produce)


def respond(
    sim: OdooSim,
    model: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    revoked: bool = False,
    injected: OdooFault | None = None,
) -> Response:
    """One JSON-2 request -> its HTTP response."""
    if not database_ok(sim, headers.get("x-odoo-database")):
        return no_database()
    try:
        result = call(sim, model, method, headers, body, revoked, injected)
    except OdooFault as exc:
        return error_response(exc)
    except Exception as exc:
        return error_response(python_error(exc))
    return Response(json.dumps(result, ensure_ascii=False), media_type=JSON)


def call(
    sim: OdooSim,
    model: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    revoked: bool,
    injected: OdooFault | None,
) -> Any:
    """Key, body, model, method and arguments: checked in that order, then the call."""
    _authenticate(sim, headers.get("authorization"), revoked)
    args = _arguments(body)
    if injected is not None:
        raise injected
    _check_method(sim, model, method)
    ids, context = args.pop("ids", None), args.pop("context", None)
    if ids and method not in RECORD_METHODS:
        raise http_error(422, f"cannot call {model}.{method} with ids")
    with sim.mutex:
        func = bound_method(
            sim.store, model, method, context, ids or [], sim.uid, sim.profile.search_count_kwarg
        )
        try:
            inspect.signature(func).bind(**args)
        except TypeError as exc:
            raise http_error(422, str(exc)) from None
        return func(**args)


def database_ok(sim: OdooSim, database: str | None) -> bool:
    """No header is fine (the server has one database); a wrong one selects none."""
    return database is None or database == sim.database


def no_database() -> Response:
    return Response(NO_DATABASE_PAGE, 404, media_type="text/html")


def _authenticate(sim: OdooSim, authorization: str | None, revoked: bool) -> None:
    match = _BEARER.match(authorization or "")
    if match is None:
        raise http_error(401, NO_KEY)
    if not sim.credentials.accepts_bearer(match.group(1).strip(), revoked):
        raise http_error(401, "Invalid apikey")


def _arguments(body: bytes) -> dict[str, Any]:
    try:
        args = json.loads(body)
    except ValueError as exc:
        raise http_error(400, f"could not parse the body as json: {exc}") from None
    if not isinstance(args, dict):
        raise http_error(422, "the body must be a JSON object of named arguments")
    return args


def _check_method(sim: OdooSim, model: str, method: str) -> None:
    """The model first, then `get_public_method`: private, then missing."""
    wording = sim.profile.wording
    if not has_model(sim.store, model):
        raise http_error(404, f"the model {model!r} does not exist")
    if is_private(method):
        raise OdooFault(
            "odoo.exceptions.AccessError", private_method(model, method, wording), "json2"
        )
    if not has_method(model, method):
        raise http_error(404, no_such_method(model, method, wording))


def error_response(error: OdooFault) -> Response:
    status = status_of(error)
    error.where = "json2"
    # Odoo sends "Bearer " with a trailing space; HTTP strips it from a field value (RFC 9110
    # 5.5) and h11 refuses to send it, so the simulator sends what a client reads.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        json.dumps(error_body(error), ensure_ascii=False), status, headers=headers, media_type=JSON
    )
