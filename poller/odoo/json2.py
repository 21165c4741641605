"""The JSON-2 transport (saas-18.4 and 19.0+): `POST /json/2/<model>/<method>` with a bearer
API key and named arguments; success is the bare JSON value, errors use real HTTP statuses."""

from __future__ import annotations

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
from poller.odoo.jsonrpc import odoo_error_class

#: What Odoo's 404 page says when no database answers to the name in `X-Odoo-Database`.
NO_DATABASE = "No database is selected"
STATUS_ERRORS: dict[int, type[OdooError]] = {
    400: OdooBadRequest,  # the body is not JSON
    401: OdooAuthError,
    403: OdooAccessError,
    404: OdooMissingError,
    422: OdooBadRequest,
}


class Json2Transport:
    name = "json2"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        connection: str,
        database: str,
        api_key: str,
    ) -> None:
        self._http = OdooHttp(http, base_url, connection=connection)
        self.database = database
        self._headers = {"Authorization": f"bearer {api_key}", "X-Odoo-Database": database}
        self.uid: int | None = None

    @property
    def calls(self) -> int:
        return self._http.calls

    async def version(self) -> dict[str, Any]:
        response = await self._http.send("GET", "/web/version", "GET /web/version")
        answer: dict[str, Any] = self._unwrap(response, "GET /web/version")
        return answer

    async def authenticate(self) -> int:
        """JSON-2 has no login step: the key is checked on every call; this learns the uid."""
        context = await self.execute("res.users", "context_get", {})
        uid = context.get("uid") if isinstance(context, dict) else None
        if not isinstance(uid, int):
            raise self._http.error(
                OdooProtocolError,
                f"context_get answered no uid: {context!r}",
                "res.users.context_get",
            )
        self.uid = uid
        return uid

    async def execute(self, model: str, method: str, params: dict[str, Any]) -> Any:
        label = f"{model}.{method}"
        response = await self._http.send(
            "POST", f"/json/2/{model}/{method}", label, body=params, headers=self._headers
        )
        return self._unwrap(response, label)

    def _unwrap(self, response: httpx.Response, label: str) -> Any:
        http, status = self._http, response.status_code
        http.raise_for_gateway(response, label)
        if status == 200:
            return http.decode(response, label)
        try:
            body = http.decode(response, label)
        except OdooProtocolError:
            body = None
        if not isinstance(body, dict):
            raise self._bodiless(response, label)
        name = str(body.get("name") or "")
        message = str(body.get("message") or f"HTTP {status}")
        raise http.odoo_error(*classify_status(status, name, message), message, name, label, status)

    def _bodiless(self, response: httpx.Response, label: str) -> OdooError:
        """An error answer without Odoo's JSON body: Odoo's own 404 page says the database
        named in `X-Odoo-Database` does not exist; anything else is named by its status."""
        status = response.status_code
        if status == 404 and NO_DATABASE in response.text:
            return self._http.error(
                OdooDatabaseNotFound,
                f"HTTP 404: Odoo has no database '{self.database}' (X-Odoo-Database)",
                label,
                http_status=status,
            )
        cls = STATUS_ERRORS.get(status, OdooServerError)
        return self._http.error(
            cls, f"HTTP {status} without an Odoo error body", label, http_status=status
        )


def classify_status(status: int, name: str, message: str) -> tuple[type[OdooError], bool]:
    """The error class (and whether it is transient) of a JSON-2 error answer. The recorded
    19.0 server answers an unknown field (in `fields`, the domain or `order`) and a bad
    operator with 500 `ValueError`, an unknown keyword with 500 `TypeError`: the exception
    name, not the status, tells a missing field from a bad request."""
    if status == 409:  # a lock conflict: the same call can pass a moment later
        return OdooServerError, True
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status], False
    return odoo_error_class(name, message)
