"""Odoo's exceptions as the wire shows them (name, message, a short traceback) and the
simulator's own control-API refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odoo_sim.odoo.profiles import VersionProfile


def _frame(where: str, code: str) -> str:
    """One traceback frame; `where` is "path:line:function" under /opt/odoo/odoo/."""
    path, line, function = where.split(":")
    return f'  File "/opt/odoo/odoo/{path}", line {line}, in {function}\n    {code}\n'


_HEAD = (
    _frame("http.py:1632:_serve_db", "return service_model.retrying(self._serve_ir_http, self.env)")
    + _frame(
        "addons/base/controllers/rpc.py:155:jsonrpc", "return dispatch_rpc(service, method, args)"
    )
    + _frame("http.py:369:dispatch_rpc", "return dispatch(method, params)")
)
_CALL = _frame(
    "service/model.py:59:execute_kw", "return execute(db, uid, obj, method, *args, **kw or {})"
) + _frame("api.py:464:call_kw", "result = _call_kw_model(method, model, args, kwargs)")
_SEARCH = _CALL + _frame("models.py:4682:_search", "query = self._where_calc(domain)")
_INVALID_FIELD = 'raise ValueError("Invalid field %r on model %r" % (name, self._name))'

#: The frames under the common head, by where the error is raised.
_FRAMES: dict[str, str] = {
    "auth": _frame("service/model.py:28:dispatch", "security.check(db, uid, passwd)")
    + _frame("addons/base/models/res_users.py:855:check", "raise AccessDenied()"),
    "db": _frame("sql_db.py:638:borrow", "result = psycopg2.connect(dsn=dsn)"),
    "common": _frame("service/common.py:64:dispatch", "fn = globals()['exp_' + method]"),
    "model": _frame(
        "service/model.py:49:execute_cr", 'raise UserError(_("Object %s doesn\'t exist", obj))'
    ),
    "method": _frame(
        "api.py:461:call_kw",
        "raise AttributeError(f\"The method '{name}' does not exist on the model "
        "'{model._name}'\")",
    ),
    "call": _CALL + _frame("api.py:435:_call_kw_model", "result = method(recs, *args, **kwargs)"),
    "read": _CALL + _frame("models.py:2985:read", _INVALID_FIELD),
    "leaf": _SEARCH
    + _frame(
        "osv/expression.py:396:check_leaf", 'raise ValueError("Invalid leaf %s" % str(element))'
    ),
    "domain": _SEARCH
    + _frame(
        "osv/expression.py:674:parse",
        'raise ValueError("Invalid field %s.%s in leaf %s" % (model._name, path[0], str(leaf)))',
    ),
    "order": _CALL
    + _frame(
        "models.py:4541:_generate_order_by_inner",
        _INVALID_FIELD.replace("(name,", "(order_field,"),
    ),
}


_JSON2 = (
    _frame("http.py:2302:_serve_db", "return service_model.retrying(serve_func, env=self.env)")
    + _frame(
        "http.py:2416:_serve_ir_http", "response = self.dispatcher.dispatch(rule.endpoint, args)"
    )
    + _frame("addons/web/controllers/json2.py:120:call_model", "result = func(**args)")
)


class OdooFault(Exception):
    """An exception as Odoo serializes it in a JSON-RPC error (`name` is the Python path)."""

    def __init__(
        self, name: str, message: str, where: str = "call", arguments: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.where = where
        self.arguments = [message] if arguments is None else arguments

    def data(self, wording: int = 16) -> dict[str, Any]:
        """The `error.data` of a JSON-RPC answer; 19 moved `debug` to the end."""
        data = {
            "name": self.name,
            "debug": self.debug(wording),
            "message": self.message,
            "arguments": self.arguments,
            "context": {},
        }
        if wording >= 19:
            data["debug"] = data.pop("debug")
        return data

    def debug(self, wording: int = 16) -> str:
        """A short traceback ending in the exception line, as Odoo's `debug` field does
        (19 shows only the exception line for a refused login)."""
        exception = f"{self.name.removeprefix('builtins.')}: {self.message}"
        if wording >= 19 and self.name == "odoo.exceptions.AccessDenied":
            return f"{self.name}: {self.message}\n"
        if self.where == "json2":
            frames = _JSON2
        else:
            frames = _HEAD + _FRAMES.get(self.where, _FRAMES["call"])
        return f"Traceback (most recent call last):\n{frames}{exception}\n"


def access_denied() -> OdooFault:
    return OdooFault("odoo.exceptions.AccessDenied", "Access Denied", "auth")


def value_error(message: str, where: str) -> OdooFault:
    return OdooFault("builtins.ValueError", message, where)


def not_supported(message: str) -> OdooFault:
    return OdooFault("builtins.NotImplementedError", f"odoo simulator: {message}", "call")


def python_error(exc: BaseException) -> OdooFault:
    kind = type(exc)
    return OdooFault(f"{kind.__module__}.{kind.__qualname__}", str(exc), "call")


def http_error(status: int, message: str) -> OdooFault:
    """A werkzeug HTTP exception as JSON-2 reports it (`arguments` = [message, status])."""
    name = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        422: "UnprocessableEntity",
    }[status]
    return OdooFault(f"werkzeug.exceptions.{name}", message, "json2", [message, status])


def error_envelope(request_id: Any, error: OdooFault, profile: VersionProfile) -> dict[str, Any]:
    """The JSON-RPC answer carrying an Odoo exception (always HTTP 200)."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": profile.error_code,
            "message": "Odoo Server Error",
            "data": error.data(profile.wording),
        },
    }


# ---- messages that changed wording between versions (16 also stands for 17)


def invalid_field(model: str, name: Any, wording: int) -> OdooFault:
    """An unknown field in `fields` of `read`/`search_read`."""
    on = f"on model {model!r}" if wording < 19 else f"on {model!r}"
    return value_error(f"Invalid field {name!r} {on}", "read")


def invalid_domain_field(model: str, name: str, leaf: Any, wording: int) -> OdooFault:
    where = "in leaf" if wording < 19 else "in condition"
    return value_error(f"Invalid field {model}.{name} {where} {leaf}", "domain")


def invalid_leaf(token: Any, wording: int) -> OdooFault:
    """A malformed domain term; 19 names a bad operator as such."""
    if wording >= 19 and isinstance(token, tuple) and len(token) == 3:
        return value_error(f"Invalid operator in condition {token}", "leaf")
    return value_error(f"Invalid leaf {token}", "leaf")


def no_such_method(model: str, name: str, wording: int) -> str:
    if wording < 18:
        return f"The method '{name}' does not exist on the model '{model}'"
    return f"The method '{model}.{name}' does not exist"


def private_method(model: Any, name: Any, wording: int) -> str:
    shown = name if wording < 18 else f"'{model}.{name}'"
    return f"Private methods (such as {shown}) cannot be called remotely."


class SimError(ValueError):
    """A control-API request the simulator refuses (HTTP 422)."""

    status = 422


class SimNotFound(SimError):
    status = 404


class SimConflict(SimError):
    status = 409
