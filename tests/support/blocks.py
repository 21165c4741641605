"""Block listings built from connection configs, as Prefect would list their blocks: the
`updated` stamp moves whenever the definition does."""

from __future__ import annotations

import hashlib

from poller.blocks import BlockListing
from poller.connections import ConnectionConfig
from poller.fleet import Fleet


def listing(*configs: ConnectionConfig) -> list[BlockListing]:
    blocks = []
    for config in configs:
        data = config.model_dump(mode="json", exclude={"name"})
        stamp = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:32]
        blocks.append(BlockListing(config.name, stamp, data))
    return blocks


def define(fleet: Fleet, *configs: ConnectionConfig) -> None:
    """Hand `fleet` a listing of exactly `configs`, as its refresh would."""
    fleet.take(fleet.definitions.diff(listing(*configs)))
