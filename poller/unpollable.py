"""A poll that cannot start at all (the block is gone or does not validate, the key cannot
decrypt its secrets) is still a failed poll: it gets its sync-log row and counts for the
breaker, so `poller logs` and `poller list` show it, not only the run's console."""

from __future__ import annotations

from poller.breaker import BreakerPolicy, circuit_change, record_failure
from poller.errors import PollerError
from poller.poll_report import PollReport
from poller.redact import Redactor
from poller.state.store import Store


def record_unpollable(
    store: Store,
    name: str,
    error: PollerError,
    *,
    worker: str,
    flow_run_id: str | None = None,
    policy: BreakerPolicy | None = None,
) -> PollReport:
    """The failed poll's report, recorded when the connection has a state row (a name that
    was never added has none, and a database that is down records nothing: the error says
    so already)."""
    report = PollReport(connection=name, worker=worker)
    report.fail(error, Redactor())
    started = store.clock()
    try:
        state = store.states.find_connection(name)
        if state.id is None:
            return report
        breaker, version = store.states.load_breaker(state.id)
        rules = policy or BreakerPolicy()
        after = store.states.settle_breaker(
            state.id, breaker, version, lambda current: record_failure(current, started, rules)
        )
        report.circuit = circuit_change(breaker, after)
        store.logs.add(report.sync_log_row(state.id, started, store.clock(), flow_run_id))
    except PollerError:
        pass
    return report
