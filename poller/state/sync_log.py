"""The sync log: one row per poll, what it saw and did, kept for operators (`poller logs`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import col, select

from poller.state.database import Database
from poller.state.models import SyncLog, table_of

_SYNC_LOG = table_of(SyncLog)


class SyncLogBook:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, row: SyncLog) -> None:
        values = row.model_dump(exclude={"id"})
        with self.db.transaction() as c:
            c.execute(insert(_SYNC_LOG), values)

    def prune(self, older_than: datetime) -> int:
        """Delete the rows of successful polls that found nothing, older than `older_than`;
        polls that moved orders, failed or were skipped are kept."""
        query = (
            delete(SyncLog)
            .where(col(SyncLog.status) == "ok")
            .where(col(SyncLog.started_at) < older_than)
            .where(col(SyncLog.queued) == 0)
            .where(col(SyncLog.delivered) == 0)
            .where(col(SyncLog.failed) == 0)
            .where(col(SyncLog.quarantined) == 0)
            .where(col(SyncLog.retried) == 0)
        )
        with self.db.session() as s:
            result = s.exec(query)
            s.commit()
            return int(result.rowcount or 0)

    def recent(self, connection_id: int | None = None, limit: int = 50) -> list[SyncLog]:
        with self.db.session() as s:
            query = select(SyncLog).order_by(col(SyncLog.id).desc()).limit(limit)
            if connection_id is not None:
                query = query.where(SyncLog.connection_id == connection_id)
            return list(s.exec(query))
