"""where a connection's history starts (the overlap behind the cursor never reaches before
it), and the deliveries each poll dead-lettered

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing connections get none: their scans keep the full overlap, as before.
    op.add_column(
        "connection_state",
        sa.Column("starts_at", sqlmodel.sql.sqltypes.AutoString(length=19), nullable=True),
    )
    op.add_column("sync_log", sa.Column("dead", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("sync_log", "dead")  # no batch: see 0003
    op.drop_column("connection_state", "starts_at")
