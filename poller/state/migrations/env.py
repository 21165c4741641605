"""Alembic environment: runs on the connection (else the engine) the poller hands over in
`config.attributes`; `upgrade` passes the connection holding the migration lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import poller.state.models  # noqa: F401  (registers the tables on SQLModel.metadata)


def run_migrations(connection: Connection) -> None:
    """All pending revisions in the caller's one transaction."""
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = context.config.attributes.get("connection")
if given is not None:
    with given.begin():
        run_migrations(given)
else:
    with context.config.attributes["engine"].begin() as connection:
        run_migrations(connection)
