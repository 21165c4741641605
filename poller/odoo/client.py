"""An Odoo client bound to one connection: picks the transport, opens a session, and makes the
few calls the poller needs. The key lives only in this object's memory.

Transport choice (`auto`): JSON-2 where the server has it (19.0, saas-18.4 and later) and the
secret is an API key; JSON-RPC otherwise (it stays supported until Odoo 22).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel

from poller.odoo.errors import OdooAuthError, OdooMissingError, OdooProtocolError
from poller.odoo.fields import RESOLVED_MODELS, FieldMap
from poller.odoo.json2 import Json2Transport
from poller.odoo.jsonrpc import JsonRpcTransport
from poller.odoo.version import ServerVersion

TransportName = Literal["jsonrpc", "json2"]
VERSION_RECHECK = timedelta(hours=1)


class Transport(Protocol):
    name: str
    uid: int | None

    @property
    def calls(self) -> int: ...
    async def version(self) -> dict[str, Any]: ...
    async def authenticate(self) -> int: ...
    async def execute(self, model: str, method: str, params: dict[str, Any]) -> Any: ...


class OdooSession(BaseModel):
    """What opening a session learns about a tenant; holds no secret, so it can be cached."""

    uid: int
    version: ServerVersion
    fields: FieldMap
    transport: TransportName = "jsonrpc"
    checked_at: datetime | None = None  # when the server version was last confirmed

    def needs_check(self, now: datetime) -> bool:
        return self.checked_at is None or now - self.checked_at >= VERSION_RECHECK


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
        transport: Literal["auto", "jsonrpc", "json2"] = "auto",
        read_chunk_size: int = 1000,
    ) -> None:
        self.connection = connection
        self.database = database
        self.preference = transport
        self._transports: dict[str, Transport] = {
            "jsonrpc": JsonRpcTransport(
                http, url, connection=connection, database=database, login=login, secret=secret
            ),
            "json2": Json2Transport(
                http, url, connection=connection, database=database, api_key=secret
            ),
        }
        self.transport: Transport = self._transports["json2" if transport == "json2" else "jsonrpc"]
        self._chunk = read_chunk_size

    @property
    def calls(self) -> int:
        return sum(t.calls for t in self._transports.values())

    @property
    def uid(self) -> int | None:
        return self.transport.uid

    # -- session -------------------------------------------------------------------------

    async def server_version(self) -> ServerVersion:
        info = await self.transport.version()
        try:
            return ServerVersion.parse(info)
        except (ValueError, AttributeError, TypeError):
            raise OdooProtocolError(
                f"the server answered an unrecognised version {info!r}",
                connection=self.connection,
                call="version",
            ) from None

    async def open_session(
        self, cached: OdooSession | None = None, now: datetime | None = None
    ) -> OdooSession:
        """Reuse the cached session (no call; the version is confirmed at most hourly, one
        call), else detect the version, the transport, the uid and the field names.

        An upgrade between two checks shows as a missing field, after which the poll drops
        the cached session and the next one detects everything again."""
        now = now or datetime.now(UTC)
        if cached is not None and self.preference in ("auto", cached.transport):
            self.transport = self._transports[cached.transport]
            if not cached.needs_check(now):
                self.transport.uid = cached.uid
                return cached
            if (await self.server_version()).serie == cached.version.serie:
                self.transport.uid = cached.uid
                return cached.model_copy(update={"checked_at": now})
        version = await self.server_version()
        self.transport = await self._choose_transport(version)
        fields = await self._resolve_fields()
        if self.transport.uid is None:  # the transport's login sets it, or raises
            raise OdooAuthError(
                "Odoo accepted the login but named no user id",
                connection=self.connection,
                call="authenticate",
            )
        return OdooSession(
            uid=self.transport.uid,
            version=version,
            fields=fields,
            transport=self.transport.name,
            checked_at=now,
        )

    async def _choose_transport(self, version: ServerVersion) -> Transport:
        """Authenticate on the chosen transport; in `auto`, a secret JSON-2 refuses (a password
        rather than an API key) falls back to JSON-RPC."""
        if self.preference == "auto" and version.has_json2:
            json2 = self._transports["json2"]
            try:
                await json2.authenticate()
                return json2
            except (OdooAuthError, OdooMissingError):
                pass
        chosen = self._transports["json2" if self.preference == "json2" else "jsonrpc"]
        await chosen.authenticate()
        return chosen

    async def _resolve_fields(self) -> FieldMap:
        described = await asyncio.gather(*(self.fields_get(model) for model in RESOLVED_MODELS))
        return FieldMap.from_fields_get(dict(zip(RESOLVED_MODELS, described, strict=True)))

    # -- the calls the poller makes --------------------------------------------------------

    async def authenticate(self) -> int:
        return await self.transport.authenticate()

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: Sequence[str],
        *,
        order: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"domain": domain, "fields": list(fields)}
        if order:
            params["order"] = order
        if limit:
            params["limit"] = limit
        records: list[dict[str, Any]] = await self.transport.execute(model, "search_read", params)
        return records

    async def search_count(self, model: str, domain: list[Any]) -> int:
        return int(await self.transport.execute(model, "search_count", {"domain": domain}))

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
        chunks = [unique[i : i + self._chunk] for i in range(0, len(unique), self._chunk)]
        results = await asyncio.gather(
            *(
                self.transport.execute(model, "read", self._read_params(c, fields, context))
                for c in chunks
            )
        )
        return [record for chunk in results for record in chunk]

    @staticmethod
    def _read_params(
        ids: list[int], fields: Sequence[str], context: dict[str, Any] | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"ids": ids, "fields": list(fields)}
        if context:
            params["context"] = context
        return params

    async def fields_get(self, model: str) -> dict[str, Any]:
        fields: dict[str, Any] = await self.transport.execute(
            model, "fields_get", {"attributes": ["type", "relation", "selection"]}
        )
        return fields
