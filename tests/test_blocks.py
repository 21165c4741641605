"""Connection blocks: the document data saved in bulk is what Prefect's own `Block.save`
would write, so a block saved either way reads back the same."""

from __future__ import annotations

import uuid

from poller.blocks import OdooConnection, document_data
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
