"""The `/jsonrpc` transport: `common` and `object.execute_kw` calls, errors inside HTTP 200.

`execute_kw` re-checks the key on every call. A uid taken from a cached session is trusted
until Odoo refuses it; then the transport authenticates once and repeats the call once.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx

from poller.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooBadRequest,
    OdooDatabaseNotFound,
    OdooError,
    OdooMissingError,
    OdooProtocolError,
    OdooServerError,
)
from poller.odoo.http import OdooHttp

# Odoo exceptions that a second attempt can get past (row locks, serialization conflicts).
TRANSIENT_ODOO = ("SerializationFailure", "LockNotAvailable", "TransactionRollbackError")
# PostgreSQL's refusal when the `db` of a call names no database.
NO_DATABASE = re.compile(r'database ".*" does not exist')
# Which named parameters `execute_kw` takes positionally, per method.
POSITIONAL = {
    "read": ("ids",),
    "search_read": ("domain",),
    "search": ("domain",),
    "search_count": ("domain",),
    "fields_get": (),
}


def odoo_error_class(name: str, message: str, code: Any = None) -> tuple[type[OdooError], bool]:
    """The error class (and whether it is transient) for an Odoo exception name and message."""
    short = name.rsplit(".", 1)[-1]
    if short in ("AccessDenied", "SessionExpiredException", "Unauthorized") or code == 100:
        return OdooAuthError, False
    if short in ("AccessError", "Forbidden"):
        return OdooAccessError, False
    if short in ("AttributeError", "NotFound", "MissingError") or code == 404:
        return OdooMissingError, False
    if short == "UserError" and "doesn't exist" in message:
        return OdooMissingError, False
    if short == "OperationalError" and NO_DATABASE.search(message):
        return OdooDatabaseNotFound, False
    if short == "ValueError" and message.startswith("Invalid field"):
        return OdooMissingError, False
    if short in ("ValueError", "ValidationError", "UserError", "TypeError"):
        return OdooBadRequest, False
    return OdooServerError, any(marker in name for marker in TRANSIENT_ODOO)


def classify_rpc_error(error: dict[str, Any]) -> tuple[type[OdooError], str, str, bool]:
    """Map a JSON-RPC `error` object to (error class, detail, Odoo exception name, transient)."""
    raw = error.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "unknown error")
    cls, transient = odoo_error_class(name, message, error.get("code"))
    return cls, message, name, transient


class JsonRpcTransport:
    """Speaks Odoo's `/jsonrpc` endpoint over a shared httpx client."""

    name = "jsonrpc"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        connection: str,
        database: str = "",
        login: str = "",
        secret: str = "",
    ) -> None:
        self._http = OdooHttp(http, base_url, connection=connection)
        self._ids = itertools.count(1)
        self.database = database
        self._login = login
        self._secret = secret
        self.uid: int | None = None

    @property
    def calls(self) -> int:
        return self._http.calls

    async def call(self, service: str, method: str, args: list[Any], *, label: str) -> Any:
        request_id = next(self._ids)
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": request_id,
        }
        response = await self._http.send("POST", "/jsonrpc", label, body=body)
        return self._unwrap(response, request_id, label)

    def _unwrap(self, response: httpx.Response, request_id: int, label: str) -> Any:
        http, status = self._http, response.status_code
        http.raise_for_gateway(response, label)
        if status == 404:
            raise http.error(
                OdooMissingError,
                f"HTTP 404: no JSON-RPC endpoint at {response.request.url}",
                label,
                http_status=status,
            )
        if status != 200:
            try:
                payload = http.decode(response, label)
            except OdooProtocolError:
                payload = None
            if not (isinstance(payload, dict) and isinstance(payload.get("error"), dict)):
                raise http.error(
                    OdooServerError,
                    f"HTTP {status} from {response.request.url}",
                    label,
                    http_status=status,
                )
        payload = http.decode(response, label)
        if not isinstance(payload, dict):
            raise http.error(OdooProtocolError, "reply is not a JSON object", label)
        if payload.get("id") != request_id:
            raise http.error(
                OdooProtocolError,
                f"reply id {payload.get('id')!r} does not match request id {request_id}",
                label,
            )
        if isinstance(payload.get("error"), dict):
            cls, detail, name, transient = classify_rpc_error(payload["error"])
            raise http.odoo_error(cls, transient, detail, name, label, status)
        if "result" not in payload:
            raise http.error(OdooProtocolError, "reply holds neither result nor error", label)
        return payload["result"]  # Any: each caller knows the shape of its method's answer

    # -- the Transport protocol ----------------------------------------------------------

    async def version(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call("common", "version", [], label="common.version")
        return answer

    async def authenticate(self) -> int:
        uid = await self.call(
            "common",
            "authenticate",
            [self.database, self._login, self._secret, {}],
            label="common.authenticate",
        )
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise self._http.error(
                OdooAuthError,
                f"authenticate refused login '{self._login}' on database '{self.database}'",
                "common.authenticate",
            )
        self.uid = uid
        return uid

    async def execute(self, model: str, method: str, params: dict[str, Any]) -> Any:
        """`execute_kw` with named parameters; a refused uid re-authenticates once."""
        positional = POSITIONAL.get(method, ())
        args = [params[name] for name in positional if name in params]
        kwargs = {k: v for k, v in params.items() if k not in positional}
        if self.uid is None:
            await self.authenticate()
        try:
            return await self._execute_kw(model, method, args, kwargs)
        except OdooAuthError:
            await self.authenticate()  # raises OdooAuthError if the key itself is refused
            return await self._execute_kw(model, method, args, kwargs)

    async def _execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        return await self.call(
            "object",
            "execute_kw",
            [self.database, self.uid, self._secret, model, method, args, kwargs],
            label=f"{model}.{method}",
        )
