"""fleet claims: due-ness in SQL, and the worker behind every poll

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch rebuilds connection_state, and dropping
    # the old table would cascade-delete every breaker, delivery and sync_log row.
    op.add_column(
        "connection_state",
        sa.Column("poll_interval_seconds", sa.Integer(), nullable=False, server_default="60"),
    )
    op.add_column(
        "connection_state",
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "connection_state",
        sa.Column("next_poll_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.add_column(
        "connection_state",
        sa.Column("block_updated", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    )
    op.create_index("ix_connection_state_due", "connection_state", ["enabled", "next_poll_at"])
    op.add_column(
        "sync_log",
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_column("worker")

    with op.batch_alter_table("connection_state", schema=None) as batch_op:
        batch_op.drop_index("ix_connection_state_due")
        batch_op.drop_column("block_updated")
        batch_op.drop_column("next_poll_at")
        batch_op.drop_column("enabled")
        batch_op.drop_column("poll_interval_seconds")
