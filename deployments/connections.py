"""Connections as Prefect deployments of `poll_connection`, named `poll-connection/<name>`."""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows.poll_connection import poll_connection
from poller.connections import ConnectionConfig

TAGS = ["odoo-order-poller"]


def deployment_name(connection: str) -> str:
    return f"{poll_connection.name}/{connection}"


async def to_deployment(config: ConnectionConfig, *, scheduled: bool = True) -> RunnerDeployment:
    """One deployment per connection, at most one run at a time.

    A run that collides with a running one is cancelled rather than queued (CANCEL_NEW): the
    next scheduled run picks up everything, so a slow poll never piles up a backlog of runs.
    """
    return await poll_connection.ato_deployment(
        name=config.name,
        parameters={"connection": config.name},
        interval=config.poll_interval_seconds if scheduled and config.enabled else None,
        tags=[*TAGS, f"connection:{config.name}"],
        description=f"Polls Odoo database '{config.database}' at {config.odoo_base_url}",
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
