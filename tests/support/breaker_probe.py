"""One process's attempt at the half-open probe, for the breaker race test."""

from __future__ import annotations

import time
from datetime import datetime

from poller.breaker import BreakerPolicy, admit
from poller.state.db import create_db_engine
from poller.state.store import Store


def try_to_probe(url: str, connection_id: int, now: datetime, start_at: float) -> bool:
    """Load, admit and compare-and-set, as `ConnectionPoller.check_breaker` does."""
    store = Store(create_db_engine(url), clock=lambda: now)
    breaker, version = store.load_breaker(connection_id)
    time.sleep(max(0.0, start_at - time.time()))  # both processes decide at the same instant
    admitted = admit(breaker, now, BreakerPolicy())
    won = admitted is not None and store.save_breaker(connection_id, admitted, version)
    store.engine.dispose()
    return won
