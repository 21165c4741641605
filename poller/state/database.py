"""Sessions and transactions on the poller database, and what its failures mean: every
failure leaves as a StateError (or a SchemaError) saying what to do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from poller.clock import utcnow
from poller.errors import SchemaError, StateError

#: SQLSTATE of PostgreSQL's undefined table and undefined column
_SCHEMA_SQLSTATES = frozenset({"42P01", "42703"})
_SQLITE_SCHEMA_ERRORS = ("no such table", "no such column", "has no column named")


def _is_schema_error(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _SCHEMA_SQLSTATES:
        return True
    detail = describe(exc)
    return isinstance(exc, OperationalError) and any(m in detail for m in _SQLITE_SCHEMA_ERRORS)


def _state_error(exc: DBAPIError) -> StateError:
    detail = describe(exc)
    if not isinstance(exc, OperationalError):
        return StateError(f"poller database error: {detail}")
    hint = (
        "Another process holds the SQLite database; retry, or raise POLLER_SQLITE_BUSY_TIMEOUT_MS"
        if "locked" in detail
        else "Check that the poller database is reachable (POLLER_DATABASE_URL)"
    )
    return StateError(f"poller database error: {detail}", hint=hint)


def describe(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


class Database:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A plain connection in one transaction, for the statements built in advance."""
        with self._errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if _is_schema_error(exc):
                raise SchemaError(
                    f"poller database schema error: {describe(exc)}",
                    hint="Bring the schema up to date with `poller db upgrade`",
                ) from None
            raise _state_error(exc) from None
