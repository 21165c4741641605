"""The floors the poller is compared with, each run in its own child process:

- `batch` (the raw floor): the poller's own HTTP calls and mapping with plain httpx, no
  Prefect and no database: per page of 200 ids one search and the 8 batch reads
  (`scan_page`, `fetch_bundle`), `map_page`, then every payload POSTed, signed with
  `signed_headers`, at the poller's bounded concurrency (8) over one pooled client.
- `naive`: a per-order reader as a first integration would write it: for each order,
  sequentially, one read of the order, one per line, one per product (and one per other
  record model the payload needs), then one POST.

`python -m benchmarks.raw` reads its settings as JSON from the BENCH_CONFIG environment
variable and prints its measurements on a `BENCH-RESULT` line (see `harness.run_child`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from benchmarks.harness import (
    emit_result,
    own_cpu_seconds,
    own_peak_rss_mb,
    report_peak_at_exit,
)
from poller.contract import ConnectionRef
from poller.delivery.signing import signed_headers
from poller.odoo.client import OdooClient, OdooSession
from poller.odoo.reader import ACTIVE_TEST_OFF, OdooBundle, fetch_bundle, scan_page
from poller.orders import MappingContext, m2o_id, map_page


@dataclass
class RawConfig:
    mode: str  # "batch" or "naive"
    odoo_url: str
    database: str
    login: str
    api_key: str
    webhook_url: str
    webhook_secret: str
    lower_bound: str  # the scan's `write_date >= T`, as the poller computes it
    connection_id: int = 1
    connection_name: str = "bench"
    page_size: int = 200
    send_concurrency: int = 8
    read_chunk_size: int = 1000


@dataclass
class Tally:
    orders: int = 0
    pages: int = 0
    delivered: int = 0
    failed: int = 0


class Floor:
    def __init__(self, config: RawConfig, odoo_http: httpx.AsyncClient) -> None:
        self.config = config
        self.client = OdooClient(
            odoo_http,
            url=config.odoo_url,
            database=config.database,
            login=config.login,
            secret=config.api_key,
            connection=config.connection_name,
            read_chunk_size=config.read_chunk_size,
        )
        self.hooks = httpx.AsyncClient(
            timeout=15.0,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=config.send_concurrency),
        )
        self.gate = asyncio.Semaphore(config.send_concurrency)
        self.tally = Tally()

    async def aclose(self) -> None:
        await self.hooks.aclose()

    def context(self, session: OdooSession) -> MappingContext:
        ref = ConnectionRef(
            id=self.config.connection_id,
            name=self.config.connection_name,
            odoo_url=self.config.odoo_url,
            database=self.config.database,
            odoo_version=session.version.serie,
        )
        return MappingContext(connection=ref, fields=session.fields)

    async def post(self, event_id: str, body: str) -> None:
        async with self.gate:
            headers = signed_headers(
                event_id=event_id,
                body=body,
                secret=self.config.webhook_secret,
                connection_id=self.config.connection_id,
                now=datetime.now(UTC),
            )
            try:
                response = await self.hooks.post(
                    self.config.webhook_url, content=body.encode(), headers=headers
                )
                ok = response.is_success
            except httpx.HTTPError:
                ok = False
        if ok:
            self.tally.delivered += 1
        else:
            self.tally.failed += 1

    async def pages(self, session: OdooSession) -> Any:
        """Scan pages by id under the fixed lower bound until a short page (as the poller)."""
        after_id = 0
        while True:
            stamps = await scan_page(
                self.client,
                session.fields,
                self.config.lower_bound,
                after_id,
                self.config.page_size,
            )
            self.tally.pages += 1
            if stamps:
                yield stamps
                after_id = stamps[-1].id
            if len(stamps) < self.config.page_size:
                return

    async def run_batch(self) -> None:
        session = await self.client.open_session()
        ctx = self.context(session)
        async for stamps in self.pages(session):
            bundle = await fetch_bundle(self.client, session.fields, [s.id for s in stamps])
            mapped = map_page(bundle, ctx, stamps)
            self.tally.orders += len(stamps)
            await asyncio.gather(
                *(self.post(p.event_id, p.model_dump_json()) for p in mapped.payloads)
            )

    async def run_naive(self) -> None:
        session = await self.client.open_session()
        ctx = self.context(session)
        async for stamps in self.pages(session):
            for stamp in stamps:
                bundle = await self.read_one_order(session, stamp.id)
                for payload in map_page(bundle, ctx, [stamp]).payloads:
                    await self.post(payload.event_id, payload.model_dump_json())
                self.tally.orders += 1

    async def read_one_order(self, session: OdooSession, order_id: int) -> OdooBundle:
        """One call per record for the order, its lines and their products; one call per
        model for the few other records (partners, currency, units, countries, states)."""
        fields, read = session.fields, self.client.read
        bundle = OdooBundle()
        (order,) = await read("sale.order", [order_id], fields.order_fields())
        bundle.orders[order_id] = order
        for line_id in order["order_line"]:
            (line,) = await read("sale.order.line", [line_id], fields.line_fields())
            bundle.lines[line_id] = line
            product_id = m2o_id(line.get("product_id"))
            if product_id is not None:
                (product,) = await read(
                    "product.product",
                    [product_id],
                    fields.product_fields(),
                    context=ACTIVE_TEST_OFF,
                )
                bundle.products[product_id] = product
        partner_ids = _ids([order], "partner_id", "partner_shipping_id")
        for partner in await read(
            "res.partner", partner_ids, fields.partner_fields(), context=ACTIVE_TEST_OFF
        ):
            bundle.partners[partner["id"]] = partner
        lines = list(bundle.lines.values())
        partners = list(bundle.partners.values())
        for table, model, ids, names in (
            (bundle.currencies, "res.currency", _ids([order], "currency_id"), ["name"]),
            (bundle.uoms, "uom.uom", _ids(lines, fields.line_uom), ["name"]),
            (bundle.countries, "res.country", _ids(partners, "country_id"), ["code"]),
            (bundle.states, "res.country.state", _ids(partners, "state_id"), ["code"]),
        ):
            if ids:
                for record in await read(model, ids, names):
                    table[record["id"]] = record
        return bundle


def _ids(records: list[dict[str, Any]], *names: str) -> list[int]:
    return sorted({r[n][0] for r in records for n in names if r.get(n)})


async def measure(config: RawConfig) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30.0) as odoo_http:
        floor = Floor(config, odoo_http)
        cpu0, started = own_cpu_seconds(), time.perf_counter()
        try:
            await (floor.run_batch() if config.mode == "batch" else floor.run_naive())
        finally:
            await floor.aclose()
        wall = time.perf_counter() - started
        cpu = own_cpu_seconds() - cpu0
    return {
        "mode": config.mode,
        "orders": floor.tally.orders,
        "pages": floor.tally.pages,
        "delivered": floor.tally.delivered,
        "failed": floor.tally.failed,
        "odoo_calls": floor.client.calls,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": own_peak_rss_mb(),
    }


def main() -> int:
    report_peak_at_exit()
    config = RawConfig(**json.loads(os.environ["BENCH_CONFIG"]))
    result = asyncio.run(measure(config))
    emit_result(result)
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
