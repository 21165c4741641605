"""The `/jsonrpc` transport: one HTTP POST per call, every failure turned into a named error."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from poller.http_headers import parse_retry_after
from poller.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooBadRequest,
    OdooError,
    OdooMissingError,
    OdooProtocolError,
    OdooRateLimited,
    OdooServerError,
    OdooTransportError,
)

TRANSIENT_HTTP = {502, 503, 504}
# Odoo exceptions that a second attempt can get past (row locks, serialization conflicts).
TRANSIENT_ODOO = ("SerializationFailure", "LockNotAvailable", "TransactionRollbackError")


def classify_rpc_error(error: dict[str, Any]) -> tuple[type[OdooError], str, str, bool]:
    """Map a JSON-RPC `error` object to (error class, detail, Odoo exception name, transient)."""
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "unknown error")
    code = error.get("code")
    short = name.rsplit(".", 1)[-1]
    if short in ("AccessDenied", "SessionExpiredException") or code == 100:
        return OdooAuthError, message, name, False
    if short == "AccessError":
        return OdooAccessError, message, name, False
    if short in ("AttributeError", "NotFound", "MissingError") or code == 404:
        return OdooMissingError, message, name, False
    if short == "UserError" and "doesn't exist" in message:
        return OdooMissingError, message, name, False
    if short == "ValueError" and message.startswith("Invalid field"):
        return OdooMissingError, message, name, False
    if short in ("ValueError", "ValidationError", "UserError", "TypeError"):
        return OdooBadRequest, message, name, False
    transient = any(marker in name for marker in TRANSIENT_ODOO)
    return OdooServerError, message, name, transient


class JsonRpcTransport:
    """Speaks Odoo's `/jsonrpc` endpoint over a shared httpx client."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, connection: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/jsonrpc"
        self._connection = connection
        self._ids = itertools.count(1)
        self.calls = 0

    async def call(self, service: str, method: str, args: list[Any], *, label: str) -> Any:
        request_id = next(self._ids)
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": request_id,
        }
        self.calls += 1
        response = await self._post(body, label)
        return self._unwrap(response, request_id, label)

    def _error(self, cls: type[OdooError], detail: str, label: str, **extra: Any) -> OdooError:
        return cls(detail, connection=self._connection, call=label, **extra)

    async def _post(self, body: dict[str, Any], label: str) -> httpx.Response:
        try:
            return await self._http.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            raise self._error(
                OdooTransportError, f"timed out ({type(exc).__name__})", label
            ) from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise self._error(
                OdooTransportError, f"could not reach {self._url}: {reason}", label
            ) from None

    def _unwrap(self, response: httpx.Response, request_id: int, label: str) -> Any:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise self._error(
                OdooRateLimited,
                "HTTP 429 Too Many Requests",
                label,
                retry_after=retry_after,
                http_status=status,
            )
        if status in TRANSIENT_HTTP:
            raise self._error(
                OdooServerError,
                f"HTTP {status} from {self._url}",
                label,
                transient=True,
                http_status=status,
            )
        if status == 404:
            raise self._error(
                OdooMissingError,
                f"HTTP 404: no JSON-RPC endpoint at {self._url}",
                label,
                http_status=status,
            )
        payload = self._decode(response, label)
        if status != 200 and "error" not in payload:
            raise self._error(
                OdooServerError, f"HTTP {status} from {self._url}", label, http_status=status
            )
        if payload.get("id") != request_id:
            raise self._error(
                OdooProtocolError,
                f"reply id {payload.get('id')!r} does not match request id {request_id}",
                label,
            )
        if "error" in payload and isinstance(payload["error"], dict):
            cls, detail, name, transient = classify_rpc_error(payload["error"])
            extra: dict[str, Any] = {"http_status": status, "odoo_exception": name}
            if cls is OdooServerError:
                extra["transient"] = transient
            raise self._error(cls, detail, label, **extra)
        if "result" not in payload:
            raise self._error(OdooProtocolError, "reply holds neither result nor error", label)
        return payload["result"]

    def _decode(self, response: httpx.Response, label: str) -> dict[str, Any]:
        text = response.text
        try:
            payload = json.loads(text)
        except ValueError:
            kind = response.headers.get("content-type", "unknown content type").split(";")[0]
            if text.lstrip()[:1] in ("{", "["):
                detail = (
                    f"truncated or malformed JSON ({len(text)} bytes, HTTP {response.status_code})"
                )
            else:
                detail = f"answered {kind} instead of JSON (HTTP {response.status_code})"
            raise self._error(
                OdooProtocolError, detail, label, http_status=response.status_code
            ) from None
        if not isinstance(payload, dict):
            raise self._error(OdooProtocolError, "reply is not a JSON object", label)
        return payload
