"""The client against the simulator playing the recorded 19.0 server (over real HTTP): the
session it opens, and the errors it names for the answers the recordings corrected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
import pytest

from odoo_sim.odoo import OdooSim
from odoo_sim.seed import seed_recorded_shop
from odoo_sim.server import BackgroundServer
from poller.odoo.client import OdooClient
from poller.odoo.errors import OdooBadRequest, OdooDatabaseNotFound, OdooMissingError

KEY = "sim-client-key-5e0c1d"
DATABASE = "odoo19"
Transport = Literal["auto", "jsonrpc", "json2"]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sim = OdooSim(DATABASE, "admin", "admin", [KEY], version="19.0")
    seed_recorded_shop(sim)
    with BackgroundServer(sim.app) as server:
        yield server.url


def client(
    http: httpx.AsyncClient, url: str, transport: Transport = "auto", database: str = DATABASE
) -> OdooClient:
    return OdooClient(
        http,
        url=url,
        database=database,
        login="admin",
        secret=KEY,
        connection="acme",
        transport=transport,
    )


async def test_a_session_on_19_uses_json2_and_the_recorded_field_names(url: str) -> None:
    opened_at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    async with httpx.AsyncClient() as http:
        session = await client(http, url).open_session(now=opened_at)
        checked = client(http, url)
        again = await checked.open_session(session, now=opened_at + timedelta(hours=1))
    assert (session.transport, session.version.serie, session.uid) == ("json2", "19.0", 2)
    assert session.fields.line_uom == "product_uom_id"
    assert (session.fields.partner_mobile, session.fields.product_is_storable) == (False, False)
    assert checked.calls == 1 and again.version == session.version  # `/web/version`, kept


@pytest.mark.parametrize(
    ("domain", "fields", "error", "status"),
    [
        ([], ["name", "mobile"], OdooMissingError, 500),
        ([["no_such_field", "=", 1]], ["name"], OdooMissingError, 500),
        ([["state", "like_bad", 1]], ["name"], OdooBadRequest, 500),
    ],
)
async def test_json2_errors_are_named_by_exception_not_status(
    url: str,
    domain: list[object],
    fields: list[str],
    error: type[Exception],
    status: int,
) -> None:
    async with httpx.AsyncClient() as http:
        odoo = client(http, url, "json2")
        await odoo.authenticate()
        with pytest.raises(error) as caught:
            await odoo.search_read("sale.order", domain, fields, limit=1)
    assert type(caught.value) is error
    assert caught.value.http_status == status
    assert caught.value.odoo_exception == "builtins.ValueError"


@pytest.mark.parametrize("transport", ["json2", "jsonrpc", "auto"])
async def test_a_wrong_database_is_named_on_every_transport(url: str, transport: Transport) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(OdooDatabaseNotFound) as caught:
            await client(http, url, transport, database="odoo_19").open_session()
    assert "odoo_19" in str(caught.value)
