"""Connections as Prefect deployments of `poll_connection`, named `poll-connection/<name>`."""

from __future__ import annotations

from typing import Any

from prefect._internal.versioning import VersionType  # not re-exported in 3.9
from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from flows.poll_connection import poll_connection
from poller.connections import ConnectionConfig

TAGS = ["odoo-order-poller"]


def deployment_name(connection: str) -> str:
    return f"{poll_connection.name}/{connection}"


async def to_deployment(config: ConnectionConfig, *, scheduled: bool = True) -> RunnerDeployment:
    """One deployment per connection, with no Prefect concurrency limit.

    The connection's lease in the poller database keeps two polls apart, whoever starts
    them. A deployment limit added nothing but harm: a scheduled run queued behind a long
    poll (AwaitingConcurrencySlot) and ran late, and a process killed mid-run kept its slot
    until Prefect's slot lease ran out (5 minutes), during which nothing polled. Now a
    scheduled run that finds the lease taken is skipped at once (the next slot comes), a
    manual run waits for it, and a dead run's lease frees itself within
    POLLER_LEASE_SECONDS.

    The version is simple: left to infer one, Prefect runs `git` for every deployment,
    blocking the event loop, which serialized thousands of applies.
    """
    interval = config.poll_interval_seconds if scheduled and config.enabled else None
    return await poll_connection.ato_deployment(
        **connection_fields(config),
        interval=interval,
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
