"""HTTP mechanics both Odoo transports share: posting, gateway statuses, decoding JSON.

Every failure leaves here as a named OdooError carrying the connection and the call.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from poller.http_headers import parse_retry_after
from poller.odoo.errors import (
    OdooError,
    OdooProtocolError,
    OdooRateLimited,
    OdooServerError,
    OdooTransportError,
)

GATEWAY_STATUSES = {502, 503, 504}


class OdooHttp:
    def __init__(self, http: httpx.AsyncClient, base_url: str, *, connection: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.connection = connection
        self.calls = 0

    def error(self, cls: type[OdooError], detail: str, label: str, **extra: Any) -> OdooError:
        return cls(detail, connection=self.connection, call=label, **extra)

    def odoo_error(
        self,
        cls: type[OdooError],
        transient: bool,
        detail: str,
        name: str,
        label: str,
        status: int,
    ) -> OdooError:
        """An error Odoo itself reported (its exception name kept for the operator)."""
        extra: dict[str, Any] = {"http_status": status, "odoo_exception": name}
        if cls is OdooServerError:
            extra["transient"] = transient
        return self.error(cls, detail, label, **extra)

    async def send(
        self,
        method: str,
        path: str,
        label: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request; a timeout or a network failure becomes OdooTransportError."""
        url = self.base_url + path
        self.calls += 1
        try:
            return await self.http.request(method, url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise self.error(
                OdooTransportError, f"timed out ({type(exc).__name__})", label
            ) from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise self.error(
                OdooTransportError, f"could not reach {url}: {reason}", label
            ) from None

    def raise_for_gateway(self, response: httpx.Response, label: str) -> None:
        """429 and 502/503/504 come from Odoo's front or a proxy; both are worth a retry."""
        status = response.status_code
        if status == 429:
            raise self.error(
                OdooRateLimited,
                "HTTP 429 Too Many Requests",
                label,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                http_status=status,
            )
        if status in GATEWAY_STATUSES:
            raise self.error(
                OdooServerError,
                f"HTTP {status} from {response.request.url}",
                label,
                transient=True,
                http_status=status,
            )

    def decode(self, response: httpx.Response, label: str) -> Any:
        """The body as JSON; an HTML page or a cut-off body is a protocol error."""
        text = response.text
        try:
            return json.loads(text)
        except ValueError:
            status = response.status_code
            kind = response.headers.get("content-type", "unknown content type").split(";")[0]
            if text.lstrip()[:1] in ("{", "["):
                detail = f"truncated or malformed JSON ({len(text)} bytes, HTTP {status})"
            else:
                detail = f"answered {kind} instead of JSON (HTTP {status})"
            raise self.error(OdooProtocolError, detail, label, http_status=status) from None
