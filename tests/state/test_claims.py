"""Fleet claims against real databases (a SQLite file and PostgreSQL): which connections are
due, that a claim is a lease other workers respect until it expires, and that workers
claiming at the same moment take disjoint sets."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine

from poller.breaker import Breaker, CircuitState
from poller.state.claims import Claims
from poller.state.store import Store
from tests.support.clock import FakeClock

LEASE = 60
BREAKER_OPEN = 120


def claims(store: Store, owner: str) -> Claims:
    return Claims(store, owner, lease_seconds=LEASE, breaker_open_seconds=BREAKER_OPEN)


def names(claimed) -> list[str]:
    return [claim.name for claim in claimed]


def add(store: Store, *connection_names: str) -> dict[str, int]:
    return {name: store.states.ensure_connection(name).id for name in connection_names}


def test_never_polled_first_then_most_overdue_up_to_the_limit(
    store: Store, clock: FakeClock
) -> None:
    ids = add(store, "a", "b", "c", "d")
    first = claims(store, "w1")
    taken = first.claim_due(4)
    for name, minutes_ago in (("a", 1), ("b", 5), ("c", 3)):
        first.give_back(ids[name], clock.now - timedelta(minutes=minutes_ago))
    first.give_back(ids["d"], None)  # never polled
    assert len(taken) == 4
    assert names(claims(store, "w2").claim_due(2)) == ["b", "d"]  # by id; d had no poll yet
    assert names(claims(store, "w3").claim_due(10)) == ["a", "c"]
    assert claims(store, "w4").claim_due(10) == []


def test_a_claim_is_a_lease_until_it_expires_or_is_renewed(store: Store, clock: FakeClock) -> None:
    ids = add(store, "a", "b")
    first, second = claims(store, "w1"), claims(store, "w2")
    assert names(first.claim_due(10)) == ["a", "b"]
    state = store.states.find_connection("a")
    assert (state.lease_owner, state.lease_expires_at) == ("w1", clock.now + timedelta(seconds=60))
    clock.advance(50)
    assert first.renew([ids["a"]]) == {ids["a"]}  # b is left to expire
    clock.advance(20)
    assert names(second.claim_due(10)) == ["b"]
    assert first.renew([ids["a"], ids["b"]]) == {ids["a"]}  # b is w2's now
    clock.advance(59)
    assert second.claim_due(10) == []
    assert second.renew([ids["b"]]) == {ids["b"]}
    clock.advance(2)
    assert names(second.claim_due(10)) == ["a"]


def test_given_back_is_due_again_at_the_time_given(store: Store, clock: FakeClock) -> None:
    ids = add(store, "a")
    worker = claims(store, "w1")
    worker.claim_due(1)
    claims(store, "w2").give_back(ids["a"], None)  # not its claim: nothing happens
    assert worker.claim_due(1) == []
    worker.give_back(ids["a"], clock.now + timedelta(seconds=30))
    clock.advance(29)
    assert worker.claim_due(1) == []
    clock.advance(1)
    assert names(worker.claim_due(1)) == ["a"]


def test_a_released_poll_is_due_one_interval_after_it_started(
    store: Store, clock: FakeClock
) -> None:
    ids = add(store, "a")
    worker = claims(store, "w1")
    worker.claim_due(1)
    store.states.release_lease(ids["a"], "w1", clock.now + timedelta(seconds=60))
    clock.advance(59.9)
    assert worker.claim_due(1) == []
    clock.advance(0.1)
    assert names(worker.claim_due(1)) == ["a"]


def test_switched_off_connections_are_not_due(store: Store) -> None:
    ids = add(store, "on", "off")
    store.states.set_schedule(ids["off"], interval_seconds=60, enabled=False)
    assert names(claims(store, "w1").claim_due(10)) == ["on"]
    store.states.set_schedule(ids["off"], interval_seconds=60, enabled=True)
    assert names(claims(store, "w1").claim_due(10)) == ["off"]


def test_an_open_breaker_is_due_only_when_its_probe_is(store: Store, clock: FakeClock) -> None:
    ids = add(store, "tripped", "healthy")
    opened = Breaker(CircuitState.OPEN, failures=5, successes=0, opened_at=clock.now)
    assert store.states.save_breaker(ids["tripped"], opened, expected_version=-1)
    assert names(claims(store, "w1").claim_due(10)) == ["healthy"]
    store.states.release_lease(ids["healthy"], "w1", clock.now + timedelta(hours=1))
    clock.advance(BREAKER_OPEN - 1)
    assert claims(store, "w2").claim_due(10) == []
    clock.advance(1)
    assert names(claims(store, "w2").claim_due(10)) == ["tripped"]


def test_definitions_reach_the_rows_once_per_block_change(store: Store) -> None:
    ids = add(store, "a", "b")
    store.states.sync_definitions([("a", 300, True, "s1"), ("new", 30, True, "s1")], gone=["b"])
    rows = {row.name: row for row in store.states.connections()}
    assert (rows["a"].poll_interval_seconds, rows["a"].block_updated) == (300, "s1")
    assert (rows["new"].poll_interval_seconds, rows["new"].enabled) == (30, True)
    assert rows["b"].enabled is False
    claimed = claims(store, "w1").claim_due(10)
    assert names(claimed) == ["a", "new"]
    store.states.release_lease(ids["a"], "w1", store.clock() + timedelta(seconds=300))
    store.states.sync_definitions([("a", 300, True, "s1")], gone=[])  # same stamp: left alone
    assert store.states.find_connection("a").next_poll_at is not None


def test_workers_claiming_at_once_take_disjoint_sets(engine: Engine) -> None:
    """Real concurrent transactions (a thread and a connection each): every due row is taken
    exactly once, whoever gets there first."""
    workers = 6
    store = Store(engine)
    add(store, *(f"t{i:03d}" for i in range(120)))
    barrier = threading.Barrier(workers)
    taken: dict[str, list[str]] = {}

    def work(owner: str) -> None:
        mine = claims(Store(engine), owner)
        barrier.wait()
        got: list[str] = []
        while batch := mine.claim_due(7):
            got += names(batch)
        taken[owner] = got

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [name for got in taken.values() for name in got]
    assert len(taken) == workers
    assert sorted(everything) == [f"t{i:03d}" for i in range(120)]  # each once, none lost
    owners = {row.name: row.lease_owner for row in store.states.connections()}
    assert all(owners[name] == owner for owner, got in taken.items() for name in got)
