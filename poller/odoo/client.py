"""An Odoo client bound to one connection: authentication, the calls the poller makes, chunking.

The key lives only in this object's memory. A uid taken from the cached session is trusted
until Odoo refuses it; then the client authenticates once and repeats the call once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from poller.odoo.errors import OdooAuthError, OdooProtocolError
from poller.odoo.fields import RESOLVED_MODELS, FieldMap
from poller.odoo.jsonrpc import JsonRpcTransport
from poller.odoo.version import ServerVersion


class OdooSession(BaseModel):
    """What one authentication learns about a tenant; holds no secret, so it can be cached."""

    uid: int
    version: ServerVersion
    fields: FieldMap
    transport: Literal["jsonrpc"] = "jsonrpc"


class OdooClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        database: str,
        login: str,
        secret: str,
        connection: str,
        read_chunk_size: int = 1000,
    ) -> None:
        self.connection = connection
        self.database = database
        self._login = login
        self._secret = secret
        self._rpc = JsonRpcTransport(http, url, connection=connection)
        self._chunk = read_chunk_size
        self.uid: int | None = None

    @property
    def calls(self) -> int:
        return self._rpc.calls

    async def server_version(self) -> ServerVersion:
        info = await self._rpc.call("common", "version", [], label="common.version")
        try:
            return ServerVersion.parse(info)
        except (ValueError, AttributeError, TypeError):
            raise OdooProtocolError(
                f"common.version answered an unrecognised version {info!r}",
                connection=self.connection,
                call="common.version",
            ) from None

    async def authenticate(self) -> int:
        uid = await self._rpc.call(
            "common",
            "authenticate",
            [self.database, self._login, self._secret, {}],
            label="common.authenticate",
        )
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise OdooAuthError(
                f"authenticate refused login '{self._login}' on database '{self.database}'",
                connection=self.connection,
                call="common.authenticate",
            )
        self.uid = uid
        return uid

    async def open_session(self, cached: OdooSession | None = None) -> OdooSession:
        """Reuse a cached session (no call), or detect version, uid and field names."""
        if cached is not None:
            self.uid = cached.uid
            return cached
        version = await self.server_version()
        uid = await self.authenticate()
        described = await asyncio.gather(*(self.fields_get(model) for model in RESOLVED_MODELS))
        fields = FieldMap.from_fields_get(dict(zip(RESOLVED_MODELS, described, strict=True)))
        return OdooSession(uid=uid, version=version, fields=fields)

    async def execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        if self.uid is None:
            await self.authenticate()
        label = f"{model}.{method}"
        try:
            return await self._execute(model, method, args, kwargs, label)
        except OdooAuthError:
            await self.authenticate()  # raises OdooAuthError if the key itself is refused
            return await self._execute(model, method, args, kwargs, label)

    async def _execute(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None, label: str
    ) -> Any:
        return await self._rpc.call(
            "object",
            "execute_kw",
            [self.database, self.uid, self._secret, model, method, args, kwargs or {}],
            label=label,
        )

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: Sequence[str],
        *,
        order: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": list(fields)}
        if order:
            kwargs["order"] = order
        if limit:
            kwargs["limit"] = limit
        return await self.execute_kw(model, "search_read", [domain], kwargs)

    async def search_count(self, model: str, domain: list[Any]) -> int:
        return int(await self.execute_kw(model, "search_count", [domain]))

    async def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str],
        *,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Read ids in chunks; Odoo silently omits ids that no longer exist."""
        unique = sorted(set(ids))
        if not unique:
            return []
        kwargs: dict[str, Any] = {"fields": list(fields)}
        if context:
            kwargs["context"] = context
        chunks = [unique[i : i + self._chunk] for i in range(0, len(unique), self._chunk)]
        results = await asyncio.gather(
            *(self.execute_kw(model, "read", [chunk], kwargs) for chunk in chunks)
        )
        return [record for chunk in results for record in chunk]

    async def fields_get(self, model: str) -> dict[str, Any]:
        return await self.execute_kw(model, "fields_get", [], {"attributes": ["type", "relation"]})
