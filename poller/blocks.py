"""The `OdooConnection` Prefect block: a connection's definition, secrets as ciphertext only.

Prefect's own at-rest key sits beside the blocks in its database and its API has no auth by
default, so the plaintext key and webhook secret never reach Prefect at all; the ciphertext
fields are SecretStr as well so Prefect hides them from events and the UI.
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from poller.connections import ConnectionConfig
from poller.errors import ConnectionNotFound


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
            odoo_url=self.odoo_url,  # type: ignore[arg-type]
            database=self.database,
            username=self.username,
            api_key_encrypted=self.api_key_encrypted.get_secret_value(),
            webhook_url=self.webhook_url,  # type: ignore[arg-type]
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
    """The connection's definition from its block; ConnectionNotFound when there is none."""
    try:
        block = await OdooConnection.aload(name)
    except ValueError:
        raise ConnectionNotFound(
            f"no connection named {name!r} (no '{OdooConnection._block_type_slug}' block "
            f"of that name in Prefect)",
            hint="See `poller list`, or add it with `poller add`",
        ) from None
    return block.to_config(name)


async def save_connection(config: ConnectionConfig) -> None:
    await OdooConnection.from_config(config).asave(config.name, overwrite=True)


async def all_connections() -> list[ConnectionConfig]:
    """Every connection saved in Prefect, by name.

    One call: Prefect 3.9's client ignores `offset` and `limit` on this endpoint and returns
    every document (paging on them loops for ever once there are more than a page)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        try:
            documents = await client.read_block_documents_by_type(
                OdooConnection._block_type_slug, include_secrets=True
            )
        except Exception as exc:  # no block type yet: nothing was ever added
            if "not found" in str(exc).lower():
                return []
            raise
    configs = [
        OdooConnection.model_validate(document.data).to_config(document.name)
        for document in documents
        if document.name and not document.is_anonymous
    ]
    return sorted(configs, key=lambda c: c.name)


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
