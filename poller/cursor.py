"""Cursor rules (pure): a scan has a fixed lower bound T and pages by id until a short page.

T is the cursor minus the overlap window, because `write_date` is a transaction's start time
and a long transaction can commit an older `write_date` after a poll. The cursor only ever
becomes the largest `write_date` a finished scan saw: Odoo's clock, never the poller's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from poller.clock import from_odoo, to_odoo


@dataclass(frozen=True)
class ScanPosition:
    """Where a scan stands: its lower bound, the last id queued, the newest write_date seen."""

    lower_bound: str
    after_id: int = 0
    max_write_date: str | None = None

    def advanced(self, last_id: int, write_dates: list[str]) -> ScanPosition:
        seen = [*write_dates, *([self.max_write_date] if self.max_write_date else [])]
        newest = max(seen) if seen else None
        return replace(self, after_id=max(self.after_id, last_id), max_write_date=newest)


def start_scan(
    cursor: str,
    overlap_seconds: int,
    *,
    resume_lower_bound: str | None = None,
    resume_after_id: int = 0,
    resume_max_write_date: str | None = None,
    floor: str | None = None,
) -> ScanPosition:
    """Resume an interrupted scan where its last queued page ended, or begin a new one
    `overlap_seconds` behind the cursor, but never before `floor`, where the connection's
    history starts (a connection added now delivers nothing written before it was added)."""
    if resume_lower_bound is not None:
        return ScanPosition(resume_lower_bound, resume_after_id, resume_max_write_date)
    lower = to_odoo(from_odoo(cursor) - timedelta(seconds=overlap_seconds))
    return ScanPosition(lower_bound=max(lower, floor) if floor else lower)


def finished_cursor(cursor: str, scan: ScanPosition) -> str:
    """The cursor after a completed scan (Odoo strings of one format compare as times)."""
    return max(cursor, scan.max_write_date) if scan.max_write_date else cursor
