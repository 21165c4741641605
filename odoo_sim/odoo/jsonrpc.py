"""`POST /jsonrpc`: the `common` and `object` services of `dispatch_rpc`, with Odoo's error
envelopes (always HTTP 200; `error.code` per version)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odoo_sim.odoo.calllog import CallRecord
from odoo_sim.odoo.errors import (
    OdooFault,
    access_denied,
    error_envelope,
    no_such_method,
    private_method,
    python_error,
)
from odoo_sim.odoo.methods import (
    RECORD_METHODS,
    bound_method,
    has_method,
    has_model,
    is_private,
)

if TYPE_CHECKING:
    from odoo_sim.odoo.sim import OdooSim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RpcRequest:
    """One parsed `/jsonrpc` body (anything malformed inside reads as missing)."""

    id: Any
    service: Any
    method: Any
    args: list[Any]

    @classmethod
    def parse(cls, body: bytes | str) -> RpcRequest | None:
        """None when the body is not JSON at all."""
        try:
            request = json.loads(body)
        except ValueError:
            return None
        request = request if isinstance(request, dict) else {}
        params = request.get("params")
        params = params if isinstance(params, dict) else {}
        args = params.get("args")
        args = list(args) if isinstance(args, (list, tuple)) else []
        return cls(request.get("id"), params.get("service"), params.get("method"), args)

    def record(self) -> CallRecord:
        model = odoo_method = None
        if self.service == "object" and len(self.args) > 4:
            model, odoo_method = self.args[3], self.args[4]
        return CallRecord(self.service, self.method, model, odoo_method)


def not_json(sim: OdooSim) -> dict[str, Any]:
    bad = OdooFault("werkzeug.exceptions.BadRequest", "400 Bad Request: Invalid JSON data")
    return error_envelope(None, bad, sim.profile)


def answer(
    sim: OdooSim, request: RpcRequest, revoked: bool = False, injected: OdooFault | None = None
) -> dict[str, Any]:
    """The response envelope of a parsed (and already logged) request."""
    try:
        if injected is not None:
            raise injected
        with sim.mutex:
            result = dispatch(sim, request.service, request.method, request.args, revoked)
    except OdooFault as exc:
        return error_envelope(request.id, exc, sim.profile)
    except Exception as exc:
        log.debug("odoo sim: call failed", exc_info=True)
        return error_envelope(request.id, python_error(exc), sim.profile)
    return {"jsonrpc": "2.0", "id": request.id, "result": result}


def dispatch(
    sim: OdooSim, service: Any, method: Any, args: list[Any], revoked: bool = False
) -> Any:
    """`dispatch_rpc(service, method, args)`: raises OdooFault like the server would."""
    if service == "common":
        return _common(sim, method, args, revoked)
    if service == "object":
        return _object(sim, method, args, revoked)
    raise OdooFault("builtins.KeyError", repr(service), "common")


def _common(sim: OdooSim, method: Any, args: list[Any], revoked: bool) -> Any:
    if method == "version":
        return sim.profile.version_payload()
    if method == "authenticate":
        return _exp_authenticate(sim, revoked, *args)
    if method == "login":
        return _exp_login(sim, revoked, *args)
    raise OdooFault("builtins.KeyError", repr(f"exp_{method}"), "common")


def _exp_authenticate(
    sim: OdooSim, revoked: bool, db: Any, login: Any, password: Any, user_agent_env: Any
) -> Any:
    return _exp_login(sim, revoked, db, login, password)


def _exp_login(sim: OdooSim, revoked: bool, db: Any, login: Any, password: Any) -> Any:
    check_database(sim, db)
    return sim.uid if sim.credentials.accepts_login(login, password, revoked) else False


def check_database(sim: OdooSim, db: Any) -> None:
    if db != sim.database:
        raise OdooFault(
            "psycopg2.OperationalError",
            'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
            f'FATAL:  database "{db}" does not exist\n',
            "db",
        )


def _object(sim: OdooSim, method: Any, args: list[Any], revoked: bool) -> Any:
    db, uid, password = args[0], int(args[1]), args[2]
    check_database(sim, db)
    if uid != sim.uid or not sim.credentials.accepts(password, revoked):
        raise access_denied()
    if method == "execute_kw":
        return _execute_kw(sim, *args[3:])
    if method == "execute":
        return _execute_kw(sim, args[3], args[4], args[5:])
    raise OdooFault("builtins.NameError", f"Method not available {method}")


def _execute_kw(sim: OdooSim, model: Any, name: Any, args: Any, kw: Any = None) -> Any:
    _check_method(sim, model, name)
    kwargs = dict(kw or {})
    context = kwargs.pop("context", None)
    args = list(args)
    ids = args.pop(0) if name in RECORD_METHODS else None
    method = bound_method(
        sim.store, model, name, context, ids, sim.uid, sim.profile.search_count_kwarg
    )
    return method(*args, **kwargs)


def _check_method(sim: OdooSim, model: Any, name: Any) -> None:
    """16 refuses a private name before it looks the model up; 18 (`get_public_method`)
    after."""
    wording = sim.profile.wording
    if wording < 18:
        _check_private(model, name, wording)
    if not has_model(sim.store, model):
        raise OdooFault("odoo.exceptions.UserError", f"Object {model} doesn't exist", "model")
    if wording >= 18:
        _check_private(model, name, wording)
    if not has_method(model, name):
        raise OdooFault("builtins.AttributeError", no_such_method(model, name, wording), "method")


def _check_private(model: Any, name: Any, wording: int) -> None:
    if is_private(name):
        raise OdooFault("odoo.exceptions.AccessError", private_method(model, name, wording))
