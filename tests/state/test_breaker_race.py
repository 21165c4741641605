"""Two processes race for the half-open probe: exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

from poller.breaker import Breaker, BreakerPolicy, CircuitState
from poller.state.store import Store
from tests.support.breaker_probe import try_to_probe


def test_exactly_one_of_two_processes_probes(store: Store, db_url: str, clock) -> None:
    connection_id = int(store.ensure_connection("acme").id or 0)
    opened = Breaker(CircuitState.OPEN, failures=5, opened_at=clock())
    assert store.save_breaker(connection_id, opened, -1)
    due = clock() + timedelta(seconds=BreakerPolicy().open_seconds)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        list(pool.map(abs, [1, 2]))  # start both workers before the race
        for round_ in range(5):
            start = time.time() + 0.5
            now = due + timedelta(seconds=round_ * 1000)
            results = list(
                pool.map(try_to_probe, [db_url] * 2, [connection_id] * 2, [now] * 2, [start] * 2)
            )
            assert sorted(results) == [False, True], f"round {round_}: {results}"
            breaker, version = store.load_breaker(connection_id)
            assert breaker.state is CircuitState.HALF_OPEN and breaker.probe_started_at == now
            store.save_breaker(connection_id, opened, version)  # open again for the next round
