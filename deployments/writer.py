"""Connections' deployments written to the Prefect API with one call each.

`Runner.aadd_deployment` (through `RunnerDeployment.aapply`) spends four API calls on every
deployment (look it up, create the flow, create the deployment, clear the automations it
owns) and builds the flow's parameter schema again each time: ~16 a second against Prefect
on PostgreSQL on two cores. The server's `POST /deployments/` is an upsert (same flow and
name: updated in place, its schedules and concurrency limit replaced), so one call per
connection does the same work, about twice as fast. What a deployment holds still comes
from `to_deployment`: the parts all connections share are read off the first one built,
the rest from `connection_fields`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.objects import VersionInfo
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.runner import Runner
from prefect.utilities.callables import parameter_schema

from deployments.connections import connection_fields, to_deployment
from flows.poll_connection import poll_connection
from poller.connections import ConnectionConfig


class DeploymentWriter:
    def __init__(self) -> None:
        self._shared: dict[str, Any] | None = None
        self._preparing = asyncio.Lock()

    async def write(
        self, client: PrefectClient, config: ConnectionConfig, *, scheduled: bool
    ) -> UUID:
        """Create or update `config`'s deployment; its id."""
        shared = await self._shared_fields(client, config)
        interval = config.poll_interval_seconds if scheduled and config.enabled else None
        schedules = [] if interval is None else [_every(interval)]
        return await client.create_deployment(
            **shared, **connection_fields(config), schedules=schedules
        )

    async def _shared_fields(
        self, client: PrefectClient, config: ConnectionConfig
    ) -> dict[str, Any]:
        async with self._preparing:
            if self._shared is None:
                template = await to_deployment(config, scheduled=False)
                self._shared = {
                    "flow_id": await client.create_flow_from_name(poll_connection.name),
                    "version": template.version,
                    "version_info": VersionInfo(
                        type="prefect:simple", version=template.version or ""
                    ),
                    "concurrency_limit": template.concurrency_limit,
                    "concurrency_options": template.concurrency_options,
                    "entrypoint": template.entrypoint,
                    "parameter_openapi_schema": parameter_schema(poll_connection).model_dump(
                        exclude_unset=True
                    ),
                    "enforce_parameter_schema": template.enforce_parameter_schema,
                    "paused": template.paused,
                }
            return self._shared


def _every(seconds: int) -> DeploymentScheduleCreate:
    return DeploymentScheduleCreate(
        schedule=IntervalSchedule(interval=timedelta(seconds=seconds)), active=True
    )


def serve_deployment(runner: Runner, deployment_id: UUID, name: str) -> None:
    """Have `runner` run the deployment's flow runs, as `Runner.aadd_deployment` does after
    applying one. Prefect 3.9 has no public call for a deployment applied elsewhere; the
    registry is the runner's own (tests/deployments/test_writer.py runs one to prove it)."""
    runner._deployment_registry.register_deployment(deployment_id, name)
