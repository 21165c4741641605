"""The `OdooConnection` Prefect block: a connection's definition, secrets as ciphertext only.

Prefect's own at-rest key sits beside the blocks in its database and its API has no auth by
default, so the plaintext key and webhook secret never reach Prefect at all; the ciphertext
fields are SecretStr as well so Prefect hides them from events and the UI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, ValidationError

from poller.connections import ConnectionConfig
from poller.errors import ConnectionNotFound, InvalidConnection


class OdooConnection(Block):
    _block_type_name = "Odoo Connection"
    _block_type_slug = "odoo-connection"
    _description = (
        "An Odoo tenant polled for confirmed sale orders. The API key and webhook secret "
        "are Fernet ciphertext under POLLER_ENCRYPTION_KEY."
    )

    odoo_url: str = Field(description="Base URL of the Odoo server, e.g. https://acme.odoo.com")
    database: str
    username: str = Field(description="Odoo login the API key belongs to")
    api_key_encrypted: SecretStr = Field(description="Fernet ciphertext of the Odoo API key")
    webhook_url: str
    webhook_secret_encrypted: SecretStr = Field(
        description="Fernet ciphertext of the StockMaster webhook secret"
    )
    poll_interval_seconds: int = 60
    transport: Literal["auto", "jsonrpc", "json2"] = "auto"
    enabled: bool = True

    def to_config(self, name: str) -> ConnectionConfig:
        return ConnectionConfig(
            name=name,
            odoo_url=self.odoo_url,
            database=self.database,
            username=self.username,
            api_key_encrypted=self.api_key_encrypted.get_secret_value(),
            webhook_url=self.webhook_url,
            webhook_secret_encrypted=self.webhook_secret_encrypted.get_secret_value(),
            poll_interval_seconds=self.poll_interval_seconds,
            transport=self.transport,
            enabled=self.enabled,
        )

    @classmethod
    def from_config(cls, config: ConnectionConfig) -> OdooConnection:
        return cls(
            odoo_url=config.odoo_base_url,
            database=config.database,
            username=config.username,
            api_key_encrypted=SecretStr(config.api_key_encrypted),
            webhook_url=str(config.webhook_url),
            webhook_secret_encrypted=SecretStr(config.webhook_secret_encrypted),
            poll_interval_seconds=config.poll_interval_seconds,
            transport=config.transport,
            enabled=config.enabled,
        )


async def load_connection(name: str) -> ConnectionConfig:
    """The connection's definition from its block; ConnectionNotFound when there is none,
    InvalidConnection when it does not validate (pydantic's error is a ValueError too)."""
    try:
        # Block.aload is typed loosely (a subclass's load returns the subclass)
        block = cast(OdooConnection, await OdooConnection.aload(name))
        return block.to_config(name)
    except ValidationError as exc:
        raise InvalidConnection(
            f"connection {name!r}: its block does not validate: {_fields_at_fault(exc)}",
            hint="Fix it with `poller edit`, or `poller delete` and `poller add` it again",
        ) from None
    except ValueError:
        raise ConnectionNotFound(
            f"no connection named {name!r} (no '{OdooConnection._block_type_slug}' block "
            f"of that name in Prefect)",
            hint="See `poller list`, or add it with `poller add`",
        ) from None


def _fields_at_fault(exc: ValidationError) -> str:
    """Which fields are wrong and why, without their values (a value may be a secret's
    ciphertext, or worse)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'block'}: {error['msg']}"
        for error in exc.errors()
    )


async def save_connection(config: ConnectionConfig) -> None:
    await OdooConnection.from_config(config).asave(config.name, overwrite=True)


async def save_connections(configs: Sequence[ConnectionConfig], concurrency: int = 4) -> None:
    """Create many new connection blocks, `concurrency` at a time: `Block.asave` registers the
    block type again on every call, which makes thousands of saves slow."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import BlockDocumentCreate

    await OdooConnection.aregister_type_and_schema()
    gate = asyncio.Semaphore(concurrency)
    async with get_client() as client:
        block_type = await client.read_block_type_by_slug(OdooConnection._block_type_slug)
        schema = await client.get_most_recent_block_schema_for_block_type(block_type.id)
        if schema is None:
            raise RuntimeError("Prefect has no schema for the odoo-connection block type")

        async def save(config: ConnectionConfig) -> None:
            create = BlockDocumentCreate(
                name=config.name,
                data=document_data(config),
                block_schema_id=schema.id,
                block_type_id=block_type.id,
            )
            async with gate:
                await _create_document(client, create)

        await asyncio.gather(*(save(config) for config in configs))


def document_data(config: ConnectionConfig) -> dict[str, Any]:
    """A connection block's document data, secrets included, as `Block._to_block_document`
    writes it. Built directly: Prefect's way generates the block's JSON schema for every
    document (about 30 ms each), minutes of CPU for thousands."""
    block = OdooConnection.from_config(config)
    data = {name: getattr(block, name) for name in OdooConnection.model_fields}
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in data.items()
    }


async def _create_document(client: Any, create: Any, attempts: int = 10) -> None:
    """Create one block document, retrying what a busy server refuses: 503 from a Prefect
    server on SQLite, and the 409 that concurrent creates on PostgreSQL sometimes get for a
    document that was never written (it is checked for, not trusted)."""
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError

    for attempt in range(attempts):
        try:
            await client.create_block_document(create, include_secrets=True)
            return
        except ObjectAlreadyExists:
            try:
                await client.read_block_document_by_name(
                    create.name, OdooConnection._block_type_slug, include_secrets=False
                )
                return  # there after all (an earlier attempt answered 503 got through)
            except ObjectNotFound:
                if attempt == attempts - 1:
                    raise
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != 503 or attempt == attempts - 1:
                raise
        await asyncio.sleep(0.2 * (attempt + 1))


async def all_connections() -> list[ConnectionConfig]:
    """Every connection saved in Prefect, by name."""
    return [block.to_config() for block in await list_connection_blocks()]


async def delete_connection_block(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            document = await client.read_block_document_by_name(
                name, OdooConnection._block_type_slug, include_secrets=False
            )
        except ObjectNotFound:
            raise ConnectionNotFound(f"no connection named {name!r}") from None
        await client.delete_block_document(document.id)


@dataclass(frozen=True)
class BlockListing:
    """One connection block as listed: its name, the stamp Prefect moves on every save, and
    its raw document data (parsed into a ConnectionConfig only when needed)."""

    name: str
    updated: str
    data: dict[str, Any]

    def to_config(self) -> ConnectionConfig:
        return ConnectionConfig.model_validate({**self.data, "name": self.name})


#: documents per listing request: the API's default cap on a page
LISTING_PAGE = 200


async def connection_block_pages(
    page_size: int = LISTING_PAGE, names: Sequence[str] | None = None
) -> AsyncIterator[list[BlockListing]]:
    """Every connection block (or those of `names`), unparsed, a page at a time, by name.

    Paged because the server decrypts every document it answers with: all of 12,000 in one
    answer kept it busy for minutes, during which nothing else was served. Offset paging
    can skip a document when another is deleted mid-listing; a name missing from a listing
    is to be confirmed by reading it before it counts as gone."""
    from prefect.client.orchestration import get_client

    query: dict[str, Any] = {
        "block_types": {"slug": {"any_": [OdooConnection._block_type_slug]}},
        "include_secrets": True,
        "sort": "NAME_ASC",
        "limit": page_size,
    }
    if names is not None:
        query["block_documents"] = {"name": {"any_": list(names)}}
    async with get_client() as client:
        offset = 0
        while True:
            response = await client.request(
                "POST", "/block_documents/filter", json={**query, "offset": offset}
            )
            documents = response.json()
            yield [
                BlockListing(document["name"], _stamp(document.get("updated")), document["data"])
                for document in documents
                if document.get("name") and not document.get("is_anonymous")
            ]
            if len(documents) < page_size:
                return
            offset += len(documents)


async def load_block_listings(names: Sequence[str]) -> dict[str, BlockListing]:
    """The connection blocks of `names` that exist, unparsed, in one request a page."""
    found: dict[str, BlockListing] = {}
    for start in range(0, len(names), LISTING_PAGE):
        chunk = names[start : start + LISTING_PAGE]
        async for page in connection_block_pages(names=chunk):
            found.update((block.name, block) for block in page)
    return found


async def list_connection_blocks() -> list[BlockListing]:
    """Every connection block, unparsed: the cheap way to see what changed."""
    return [block async for page in connection_block_pages() for block in page]


def _stamp(updated: object) -> str:
    """A block's `updated` time in one spelling, whether it came as JSON text or a datetime."""
    moment = updated if isinstance(updated, datetime) else datetime.fromisoformat(str(updated))
    return moment.astimezone(UTC).isoformat()


def list_connection_blocks_blocking() -> list[BlockListing]:
    """`list_connection_blocks` on a thread of its own: decoding thousands of documents takes
    long enough to stall an event loop that is polling."""
    return asyncio.run(list_connection_blocks())
