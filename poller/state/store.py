"""The poller database, by concern: each connection's state (with its lease and breaker),
the outbox, and the sync log. One `Store` per process holds the three on one engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from poller.clock import utcnow
from poller.state.connection_states import ConnectionStates
from poller.state.database import Database
from poller.state.outbox import Outbox
from poller.state.sync_log import SyncLogBook


class Store:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = Database(engine, clock)
        self.states = ConnectionStates(self.db)
        self.outbox = Outbox(self.db)
        self.logs = SyncLogBook(self.db)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock every part of the store reads; tests swap in one they move."""
        return self.db.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.db.clock = clock
