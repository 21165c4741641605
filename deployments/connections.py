"""Connections as Prefect deployments of `poll_connection`, named `poll-connection/<name>`."""

from __future__ import annotations

from typing import Any

from prefect._internal.versioning import VersionType  # not re-exported in 3.9
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows.poll_connection import poll_connection
from poller.connections import ConnectionConfig

TAGS = ["odoo-order-poller"]


def deployment_name(connection: str) -> str:
    return f"{poll_connection.name}/{connection}"


async def to_deployment(config: ConnectionConfig, *, scheduled: bool = True) -> RunnerDeployment:
    """One deployment per connection, at most one run at a time.

    Colliding runs wait for the slot (ENQUEUE) rather than being cancelled: a runner submits
    the next scheduled run ahead of time, so CANCEL_NEW would cancel every run whose
    predecessor was still busy, and a manual run would be dropped during a scheduled one.
    The slot is leased, so a crashed run cannot hold it for ever; the database lease
    inside the flow is the second guard.

    The version is simple: left to infer one, Prefect runs `git` for every deployment,
    blocking the event loop, which serialized thousands of applies.
    """
    interval = config.poll_interval_seconds if scheduled and config.enabled else None
    return await poll_connection.ato_deployment(
        **connection_fields(config),
        interval=interval,
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        entrypoint_type=EntrypointType.MODULE_PATH,
        version_type=VersionType.SIMPLE,
    )


def connection_fields(config: ConnectionConfig) -> dict[str, Any]:
    """What sets one connection's deployment apart from another's."""
    return {
        "name": config.name,
        "parameters": {"connection": config.name},
        "tags": [*TAGS, f"connection:{config.name}"],
        "description": f"Polls Odoo database '{config.database}' at {config.odoo_base_url}",
    }
