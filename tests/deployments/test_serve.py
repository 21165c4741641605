"""`poller run`'s connection server: a Prefect API that cannot keep up delays deployments,
never stops the process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid

import pytest
from rich.console import Console

from deployments import serve
from deployments.serve import ConnectionServer
from poller import blocks
from tests.conftest import make_config
from tests.support.blocks import listing


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    output = io.StringIO()
    connection_server = ConnectionServer(Console(file=output, width=200), refresh_seconds=7)
    applied: list[str] = []
    busy: set[str] = set()

    async def fake_write(client, config, scheduled=True):
        if config.name in busy:  # what Prefect's client raises after its own retries
            raise RuntimeError("Error while applying deployment: Server error '503'\nfull body")
        applied.append(config.name)
        return uuid.uuid4()

    monkeypatch.setattr(connection_server.writer, "write", fake_write)
    monkeypatch.setattr(serve, "get_client", contextlib.nullcontext)  # no API is reached
    return connection_server, output, applied, busy


async def test_a_busy_api_delays_one_deployment_to_the_next_refresh(
    server, poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    connection_server, output, applied, busy = server
    configs = [make_config(poller_settings, odoo, stockmaster, name=n) for n in ("a", "b", "c")]

    monkeypatch.setattr(blocks, "list_connection_blocks_blocking", lambda: listing(*configs))
    busy.add("b")
    await connection_server.refresh()
    assert sorted(applied) == ["a", "c"] and set(connection_server.served) == {"a", "c"}
    message = output.getvalue()
    assert "1 of 3 deployment(s) not applied yet: RuntimeError: Error while applying" in message
    assert "full body" not in message and "trying again in 7s" in message

    busy.clear()
    await connection_server.refresh()
    assert sorted(applied) == ["a", "b", "c"]  # only the one that failed is applied again
    await connection_server.refresh()
    assert sorted(applied) == ["a", "b", "c"]  # nothing changed: nothing parsed or applied


async def test_an_unreachable_api_keeps_what_is_served(server, monkeypatch) -> None:
    connection_server, output, applied, _busy = server

    def unreachable():
        raise ConnectionError("All connection attempts failed")

    monkeypatch.setattr(blocks, "list_connection_blocks_blocking", unreachable)
    await connection_server.refresh()
    assert applied == []
    assert (
        "could not read the connections from Prefect: ConnectionError: All connection attempts "
        "failed; trying again in 7s" in output.getvalue()
    )


async def test_a_stop_does_not_wait_for_deployments_being_applied(
    server, poller_settings, odoo, stockmaster, monkeypatch
) -> None:
    """Applying thousands of deployments takes minutes; SIGTERM must not wait for them."""
    connection_server, output, applied, _busy = server
    configs = [make_config(poller_settings, odoo, stockmaster, name=n) for n in ("a", "b")]

    async def never_applied(client, config, scheduled=True):
        await asyncio.Event().wait()

    monkeypatch.setattr(blocks, "list_connection_blocks_blocking", lambda: listing(*configs))
    monkeypatch.setattr(connection_server.writer, "write", never_applied)
    monkeypatch.setattr(connection_server.runners.current, "start", lambda: asyncio.sleep(3600))
    stop = asyncio.Event()
    serving = asyncio.create_task(connection_server.serve(stop))
    await asyncio.sleep(0.3)
    assert not serving.done()
    stop.set()
    await asyncio.wait_for(serving, timeout=5)
    assert applied == [] and "Stopped; schedules are left as they are." in output.getvalue()
