"""Fixtures for the Odoo simulator tests: simulators served over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from odoo_sim.odoo import OdooSim
from odoo_sim.server import BackgroundServer
from tests.sim.simkit import Json2, Rpc, seeded_sim


@pytest.fixture
def serve() -> Iterator[Callable[[OdooSim], Rpc]]:
    """Serve simulators over real HTTP for the test; all stopped afterwards."""
    servers: list[BackgroundServer] = []
    clients: list[Rpc] = []

    def start(sim: OdooSim) -> Rpc:
        server = BackgroundServer(sim.app).start()
        servers.append(server)
        clients.append(Rpc(server.url))
        return clients[-1]

    yield start
    for client in clients:
        client.http.close()
    for server in servers:
        server.stop()


@pytest.fixture
def serve_json2() -> Iterator[Callable[..., tuple[Rpc, Json2]]]:
    """Serve a simulator; answer a JSON-RPC client and a JSON-2 client (extra args: Json2's)."""
    servers: list[BackgroundServer] = []
    clients: list[Any] = []

    def start(sim: OdooSim, **json2: Any) -> tuple[Rpc, Json2]:
        server = BackgroundServer(sim.app).start()
        servers.append(server)
        pair = (Rpc(server.url), Json2(server.url, **json2))
        clients.extend(pair)
        return pair

    yield start
    for client in clients:
        client.http.close()
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[OdooSim, Rpc]]:
    """The whole recorded shop (orders 1-12), served; tests using it must not change it."""
    sim = seeded_sim()
    with BackgroundServer(sim.app) as server:
        client = Rpc(server.url)
        yield sim, client
        client.http.close()


@pytest.fixture(scope="module")
def first_batch_shop() -> Iterator[tuple[OdooSim, Rpc]]:
    """Orders 1-6 only: the shop as it was when `odoo16-responses.json` was recorded."""
    sim = seeded_sim(second_batch=False)
    with BackgroundServer(sim.app) as server:
        client = Rpc(server.url)
        yield sim, client
        client.http.close()
