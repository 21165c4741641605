"""Connection blocks: the document data saved in bulk is what Prefect's own `Block.save`
would write, so a block saved either way reads back the same."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from poller.blocks import (
    OdooConnection,
    connection_block_pages,
    document_data,
    load_block_listings,
    load_connection,
    save_connections,
)
from poller.connections import ConnectionConfig
from poller.errors import ConnectionNotFound, InvalidConnection
from tests.conftest import make_config


def test_bulk_document_data_is_what_prefect_would_write(poller_settings, odoo, stockmaster) -> None:
    config = make_config(poller_settings, odoo, stockmaster).model_copy(
        update={"poll_interval_seconds": 90, "transport": "json2", "enabled": False}
    )
    document = OdooConnection.from_config(config)._to_block_document(
        name=config.name,
        block_schema_id=uuid.uuid4(),
        block_type_id=uuid.uuid4(),
        include_secrets=True,
    )
    assert document_data(config) == document.data
    assert document_data(config)["api_key_encrypted"] == config.api_key_encrypted  # ciphertext


async def test_the_listing_pages_through_every_connection_by_name(
    prefect_api, poller_settings, odoo, stockmaster
) -> None:
    prefix, configs = await _saved("paged", 5, poller_settings, odoo, stockmaster)
    pages = [page async for page in connection_block_pages(page_size=2)]
    mine = [[block.name for block in page if block.name.startswith(prefix)] for page in pages]
    assert all(len(page) <= 2 for page in pages) and len(pages) >= 3
    assert [name for page in mine for name in page] == sorted(c.name for c in configs)
    listed = {block.name: block.to_config() for page in pages for block in page}
    assert all(listed[c.name] == c for c in configs)  # the secrets' ciphertext included


async def test_named_blocks_are_read_in_one_request_and_missing_ones_left_out(
    prefect_api, poller_settings, odoo, stockmaster
) -> None:
    prefix, configs = await _saved("named", 3, poller_settings, odoo, stockmaster)
    wanted = [configs[0].name, configs[2].name, f"{prefix}-missing"]
    found = await load_block_listings(wanted)
    assert sorted(found) == [configs[0].name, configs[2].name]
    assert found[configs[2].name].to_config() == configs[2]


async def test_a_block_that_does_not_validate_is_not_reported_missing(
    prefect_api, poller_settings, odoo, stockmaster
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import BlockDocumentUpdate

    config = make_config(poller_settings, odoo, stockmaster, name=f"broken-{uuid.uuid4().hex[:6]}")
    await save_connections([config])
    async with get_client() as client:  # edited by hand in the UI, say
        document = await client.read_block_document_by_name(
            config.name, OdooConnection._block_type_slug, include_secrets=True
        )
        data = {**document.data, "poll_interval_seconds": -5}
        await client.update_block_document(document.id, BlockDocumentUpdate(data=data))
    with pytest.raises(InvalidConnection) as info:
        await load_connection(config.name)
    assert "does not validate" in str(info.value) and "poll_interval_seconds" in str(info.value)
    with pytest.raises(ConnectionNotFound):
        await load_connection(f"{config.name}-missing")


async def _saved(kind: str, count: int, *fixtures: Any) -> tuple[str, list[ConnectionConfig]]:
    """`count` connections saved as blocks, named under a prefix of their own: the Prefect
    server is shared by the session's tests."""
    prefix = f"{kind}-{uuid.uuid4().hex[:6]}"
    configs = [make_config(*fixtures, name=f"{prefix}-{i}") for i in range(count)]
    await save_connections(configs)
    return prefix, configs
