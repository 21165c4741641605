"""Three fleet workers (`poller run --fleet` processes) share 300 tenants through claims in the
real PostgreSQL, and one of them dying costs its tenants at most a lease and a tick.

Judged from outside: polls from the simulator's call log, deliveries from the receiver's own
record. The poller's sync log only says which worker did a poll."""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from deployments.local_server import LocalPrefectServer
from poller.runtime import default_store, store_for
from poller.settings import Settings, get_settings
from poller.state.engine import create_db_engine, upgrade
from tests.conftest import BEFORE_SEED, make_config
from tests.support.fleet_workers import (
    Worker,
    polls_by_tenant,
    save_blocks,
    start_worker,
    tenant_configs,
    wait_until_ready,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TENANTS = 300
#: the kill test's catch-up: every poll finds orders and costs Prefect task runs, so fewer
#: tenants keep two CPUs from being the thing measured
CATCHING_UP = 90
INTERVAL = 10
TICK = 1.0
LEASE = 8
#: a poll's start may trail its slot by a tick, plus the batch's flow run starting
SLACK = 1.5
SEEDED_VERSIONS = 8  # confirmed order versions in the seeded shop since BEFORE_SEED


@pytest.fixture
def prefect_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> Iterator[str]:
    """A Prefect server of this test's own, on PostgreSQL as a shared fleet's would be: the
    workers serve every block it holds."""
    monkeypatch.setenv("PREFECT_UI_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_UI_ENABLED", "false")
    server = LocalPrefectServer(tmp_path / "prefect", database_url=pg_database)
    server.start(timeout=180)
    try:
        yield server.api_url
    finally:
        server.stop()


@pytest.fixture
def fleet_settings(pg_schema_url, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """This process's settings on a fresh PostgreSQL schema, migrated before any worker
    starts."""
    from poller.crypto import generate_key

    url, _schema = pg_schema_url
    monkeypatch.setenv("POLLER_DATABASE_URL", url)
    monkeypatch.setenv("POLLER_ENCRYPTION_KEY", generate_key())
    get_settings.cache_clear()
    store_for.cache_clear()
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield get_settings()
    get_settings.cache_clear()
    store_for.cache_clear()


def worker_env(settings: Settings, api_url: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "POLLER_DATABASE_URL": settings.database_url,
        "POLLER_ENCRYPTION_KEY": settings.encryption_key,
        "POLLER_FLEET_TICK_SECONDS": str(TICK),
        "POLLER_LEASE_SECONDS": str(LEASE),
        "POLLER_FLEET_MANUAL_RUNS": "false",  # 3 x 300 deployments would only load the server
    }


def polls_per_worker(settings: Settings, since: float) -> Counter[str]:
    engine = create_db_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT worker, started_at FROM sync_log WHERE status = 'ok'")
        ).all()
    engine.dispose()
    return Counter(worker for worker, started in rows if started.timestamp() >= since)


def test_three_workers_share_the_tenants_each_polled_once_per_interval(
    fleet_settings, prefect_server, odoo, stockmaster, tmp_path
) -> None:
    configs = tenant_configs(
        make_config(fleet_settings, odoo, stockmaster), odoo.url, TENANTS, INTERVAL
    )
    save_blocks(configs, prefect_server)
    store = default_store()
    for config in configs:
        store.states.ensure_connection(
            config.name, interval_seconds=INTERVAL
        )  # from now: empty polls
    env = worker_env(fleet_settings, prefect_server)
    workers = [start_worker(f"w{i}", env, tmp_path) for i in (1, 2, 3)]
    try:
        wait_until_ready(workers)
        # first polls (each detects version and fields: far dearer than the empty polls
        # measured), then an interval for every tenant to land on its slot
        _wait_for(lambda: len(polls_by_tenant(odoo.url)) == TENANTS, 180, workers)
        settle_until = time.time() + INTERVAL
        time.sleep(INTERVAL)
        window = (settle_until, settle_until + 3 * INTERVAL + SLACK)
        time.sleep(3 * INTERVAL + 2 * SLACK)
        assert all(w.process.poll() is None for w in workers), _outputs(workers)
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0, 0, 0], _outputs(workers)

    polls = polls_by_tenant(odoo.url)
    assert sorted(polls) == sorted(c.name for c in configs)
    late: dict[str, list[float]] = defaultdict(list)
    for tenant, tenant_polls in polls.items():
        assert not any(p.concurrent for p in tenant_polls), tenant  # never two calls at once
        inside = [p for p in tenant_polls if window[0] <= p.started < window[1]]
        assert len(inside) in (3, 4), (tenant, [round(p.started - window[0], 1) for p in inside])
        assert all(p.scans == 1 for p in inside), (  # one poll each, never two merged
            tenant,
            [
                (round(p.started - window[0], 1), round(p.ended - p.started, 1), p.scans)
                for p in inside
            ],
        )
        for before, after in itertools.pairwise(inside):  # on its slots: a fixed rate
            late[tenant].append(after.started - before.started - INTERVAL)
    gaps = [gap for tenant_gaps in late.values() for gap in tenant_gaps]
    assert max(gaps) <= TICK + SLACK and min(gaps) >= -(TICK + SLACK), (min(gaps), max(gaps))

    shares = polls_per_worker(fleet_settings, window[0])
    assert set(shares) == {"w1", "w2", "w3"}, shares
    assert min(shares.values()) >= sum(shares.values()) / 10, shares  # each did a share


def test_a_killed_worker_s_tenants_are_taken_over_and_nothing_is_lost(
    fleet_settings, prefect_server, odoo, stockmaster, tmp_path
) -> None:
    # a slow StockMaster, two sends at a time: each tenant's catch-up takes seconds, so the
    # kill lands in the middle of it
    stockmaster.receiver.latency_seconds = 1.0
    configs = tenant_configs(
        make_config(fleet_settings, odoo, stockmaster), odoo.url, CATCHING_UP, INTERVAL
    )
    save_blocks(configs, prefect_server)
    store = default_store()
    for config in configs:  # the whole seeded shop is new to each tenant: a catch-up
        store.states.ensure_connection(config.name, since=BEFORE_SEED, interval_seconds=INTERVAL)
    # every claim polled at once: the survivors have room to take the victim's tenants over
    env = worker_env(fleet_settings, prefect_server) | {
        "POLLER_FLEET_CONCURRENCY": "128",
        "POLLER_SEND_CONCURRENCY": "2",
    }
    workers = [start_worker(f"w{i}", env, tmp_path) for i in (1, 2, 3)]
    expected = CATCHING_UP * SEEDED_VERSIONS
    try:
        wait_until_ready(workers)
        _wait_for(lambda: len(stockmaster.receiver.unique()) >= expected // 4, 120, workers)
        victim = _busiest(workers)
        killed_at = time.time()
        victim.kill()
        its_tenants = _held_by(victim)  # leases its dead process can no longer give back
        assert len(stockmaster.receiver.unique()) < expected  # killed in the middle
        _wait_for(lambda: len(stockmaster.receiver.unique()) >= expected, 180, workers)
        time.sleep(max(2.0, killed_at + LEASE + TICK + SLACK + 1 - time.time()))
    finally:
        for worker in workers:
            worker.stop()

    assert its_tenants, "the killed worker held no tenant"
    polls = polls_by_tenant(odoo.url, pause=0.5)
    for tenant in its_tenants:
        again = [p.started for p in polls[tenant] if p.started > killed_at]
        assert again and again[0] <= killed_at + LEASE + TICK + SLACK, (tenant, again[:1])

    received = stockmaster.receiver.deliveries
    ids_per_version: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for delivery in received:
        body = delivery.body
        key = (body["connection"]["name"], body["order"]["id"], body["order"]["write_date"])
        ids_per_version[key].add(delivery.webhook_id)
    assert len(ids_per_version) == expected  # 0 lost
    assert all(len(ids) == 1 for ids in ids_per_version.values())  # repeats share the id
    assert stockmaster.receiver.rejected == []


def _busiest(workers: list[Worker]) -> Worker:
    """The worker holding the most leases right now."""
    held = {worker.name: len(_held_by(worker)) for worker in workers}
    return max(workers, key=lambda worker: held[worker.name])


def _held_by(worker: Worker) -> list[str]:
    engine = create_db_engine(get_settings().database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name FROM connection_state WHERE lease_owner LIKE :owner"),
            {"owner": f"{worker.name}#%"},
        ).all()
    engine.dispose()
    return [name for (name,) in rows]


def _wait_for(condition, timeout: float, workers: list[Worker]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s\n{_outputs(workers)}")
        time.sleep(0.2)


def _outputs(workers: list[Worker]) -> str:
    return "\n".join(f"--- {w.name}\n{w.output()[-3000:]}" for w in workers)
