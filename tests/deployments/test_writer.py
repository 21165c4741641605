"""Deployments written in one API call each are the ones Prefect's own apply makes, update in
place, and a runner they are handed to runs their flow runs. Against a real Prefect server."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import arun_deployment
from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY, temporary_settings
from rich.console import Console

from deployments.connections import deployment_name, to_deployment
from deployments.serve import ConnectionServer
from deployments.writer import DeploymentWriter
from poller.blocks import save_connections
from tests.conftest import make_config

pytestmark = pytest.mark.usefixtures("prefect_api")

COMPARED = {
    "flow_id",
    "version",
    "entrypoint",
    "path",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "concurrency_options",
    "paused",
    "work_pool_name",
    "work_queue_name",
    "pull_steps",
    "job_variables",
    "parameters",
    "tags",
    "description",
}


def _shape(deployment: Any, name: str) -> dict[str, Any]:
    """What a deployment holds, with its connection's name replaced by a placeholder."""
    shape = deployment.model_dump(mode="json", include=COMPARED)
    shape["parameters"] = {k: v.replace(name, "<name>") for k, v in shape["parameters"].items()}
    shape["tags"] = [tag.replace(name, "<name>") for tag in shape["tags"]]
    limit = deployment.global_concurrency_limit
    shape["concurrency_limit"] = limit.limit if limit is not None else None
    shape["schedules"] = [
        (s.active, s.schedule.interval.total_seconds()) for s in deployment.schedules
    ]
    shape["version_type"] = deployment.version_info and deployment.version_info.type
    return shape


async def test_a_written_deployment_holds_what_prefect_s_own_apply_writes(
    poller_settings, odoo, stockmaster
) -> None:
    applied_config = make_config(poller_settings, odoo, stockmaster, name="by-prefect")
    written_config = make_config(poller_settings, odoo, stockmaster, name="by-writer")
    applied_id = await (await to_deployment(applied_config)).aapply()
    async with get_client() as client:
        written_id = await DeploymentWriter().write(client, written_config, scheduled=True)
        applied = await client.read_deployment(applied_id)
        written = await client.read_deployment(written_id)
    assert written.name == "by-writer"
    assert _shape(written, "by-writer") == _shape(applied, "by-prefect")
    assert _shape(written, "by-writer")["schedules"] == [(True, 60.0)]


async def test_writing_again_updates_the_deployment_in_place(
    poller_settings, odoo, stockmaster
) -> None:
    config = make_config(poller_settings, odoo, stockmaster, name="edited")
    writer = DeploymentWriter()
    async with get_client() as client:
        first = await writer.write(client, config, scheduled=True)
        edited = config.model_copy(update={"poll_interval_seconds": 300})
        second = await writer.write(client, edited, scheduled=True)
        deployment = await client.read_deployment(second)
        unscheduled = await writer.write(client, edited, scheduled=False)
        after = await client.read_deployment(unscheduled)
    assert first == second == unscheduled
    assert [s.schedule.interval.total_seconds() for s in deployment.schedules] == [300.0]
    assert after.schedules == []


@pytest.mark.slow
async def test_a_served_written_deployment_runs_its_manual_runs(
    poller_settings, odoo, stockmaster
) -> None:
    config = make_config(poller_settings, odoo, stockmaster, name="manual")
    await save_connections([config])
    server = ConnectionServer(Console(file=io.StringIO()), scheduled=False)
    await server.apply([config])
    assert set(server.served) == {"manual"}
    stop = asyncio.Event()
    with temporary_settings({PREFECT_RUNNER_POLL_FREQUENCY: 1}):
        serving = asyncio.create_task(server.serve(stop, refresh=False))
        try:
            run = await arun_deployment(deployment_name("manual"), timeout=90)
        finally:
            stop.set()
            await asyncio.wait_for(serving, timeout=90)
    assert run.state is not None and run.state.is_completed(), run.state
    assert any(call.model == "sale.order" for call in odoo.sim.calls)  # it polled Odoo


async def test_a_deployment_written_with_a_limit_by_an_older_version_loses_it(
    poller_settings, odoo, stockmaster
) -> None:
    """Runs of one connection are kept apart by its lease: a Prefect limit only queued
    scheduled runs and, held by a killed run, stopped polling for minutes."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    from deployments.connections import connection_fields
    from flows.poll_connection import poll_connection

    config = make_config(poller_settings, odoo, stockmaster, name="was-limited")
    older = await poll_connection.ato_deployment(
        **connection_fields(config),
        interval=60,
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy="ENQUEUE"),
    )
    deployment_id = await older.aapply()
    async with get_client() as client:
        assert (await client.read_deployment(deployment_id)).global_concurrency_limit is not None
        await DeploymentWriter().write(client, config, scheduled=True)
        rewritten = await client.read_deployment(deployment_id)
    assert rewritten.global_concurrency_limit is None
