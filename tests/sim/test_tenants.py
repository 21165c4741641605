"""Many tenants on one simulator: a connection whose Odoo URL ends in `/t/<tag>` polls the
same shop, and the simulator logs its calls under that tag, with their times."""

from __future__ import annotations

import httpx

from poller.crypto import SecretBox
from poller.cycle import run_cycle
from poller.poll import ConnectionPoller
from poller.runtime import default_store
from tests.conftest import BEFORE_SEED, make_config


async def test_a_tagged_url_polls_the_shop_and_is_logged_under_its_tag(
    poller_settings, odoo, stockmaster
) -> None:
    store = default_store()
    configs = {
        tag: make_config(poller_settings, odoo, stockmaster, name=tag).model_copy(
            update={"odoo_url": f"{odoo.url}/t/{tag}"}
        )
        for tag in ("north", "south")
    }
    reports = {}
    for tag, config in configs.items():
        store.states.ensure_connection(config.name, since=BEFORE_SEED)
        poller = ConnectionPoller(
            config,
            store=store,
            box=SecretBox(poller_settings.encryption_key),
            settings=poller_settings,
        )
        try:
            reports[tag] = await run_cycle(poller, poller)
        finally:
            await poller.aclose()
    assert [r.status for r in reports.values()] == ["ok", "ok"]
    assert reports["north"].queued == reports["south"].queued == 8
    calls = httpx.get(f"{odoo.url}/sim/tenant-calls").json()["calls"]
    by_tenant = {tag: [c for c in calls if c[0] == tag] for tag in configs}
    assert len(by_tenant["north"]) == len(by_tenant["south"]) == reports["north"].odoo_calls
    assert ["north", "sale.order", "search_read"] in [c[:3] for c in by_tenant["north"]]
    north_end = max(c[4] for c in by_tenant["north"])
    assert all(c[3] <= c[4] for c in calls)
    assert north_end <= min(c[3] for c in by_tenant["south"])  # polled one after the other
    assert len(calls) == len(odoo.sim.calls)  # every call was a tagged one
