"""Cursor rules: a scan's fixed lower bound, its checkpoint, and the cursor after it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

import poller.clock
from poller.cursor import ScanPosition, finished_cursor, start_scan

ODOO_STRING = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.mark.parametrize(
    ("cursor", "overlap", "lower"),
    [
        ("2026-11-28 08:19:30", 600, "2026-11-28 08:09:30"),
        ("2026-11-28 08:19:30", 0, "2026-11-28 08:19:30"),
        ("2026-11-28 08:19:30", 1, "2026-11-28 08:19:29"),
        # Crossing midnight, a month and a year boundary.
        ("2026-12-01 00:05:00", 600, "2026-11-30 23:55:00"),
        ("2027-01-01 00:00:00", 600, "2026-12-31 23:50:00"),
        # A cursor with microseconds still gives a whole-second bound.
        ("2026-11-28 08:19:30.987654", 600, "2026-11-28 08:09:30"),
    ],
)
def test_new_scan_lower_bound_is_cursor_minus_overlap(
    cursor: str, overlap: int, lower: str
) -> None:
    position = start_scan(cursor, overlap)
    assert position.lower_bound == lower
    assert ODOO_STRING.match(position.lower_bound)
    assert position.after_id == 0
    assert position.max_write_date is None


def test_resuming_returns_the_checkpoint_not_a_new_bound() -> None:
    position = start_scan(
        "2026-11-28 09:00:00",
        600,
        resume_lower_bound="2026-11-27 00:00:00",
        resume_after_id=4711,
        resume_max_write_date="2026-11-27 12:34:56",
    )
    assert position == ScanPosition("2026-11-27 00:00:00", 4711, "2026-11-27 12:34:56")


def test_resuming_a_checkpoint_without_write_dates() -> None:
    position = start_scan("2026-11-28 09:00:00", 600, resume_lower_bound="2026-11-28 08:50:00")
    assert position == ScanPosition("2026-11-28 08:50:00", 0, None)


def test_advanced_keeps_the_max_write_date_and_the_last_id() -> None:
    position = ScanPosition("2026-11-28 08:00:00")
    # Pages are in id order, so write_dates are not sorted.
    first = position.advanced(10, ["2026-11-28 08:30:00", "2026-11-28 08:05:00"])
    assert first == ScanPosition("2026-11-28 08:00:00", 10, "2026-11-28 08:30:00")
    # A later page with only older write_dates keeps the newest seen so far.
    second = first.advanced(20, ["2026-11-28 08:01:00", "2026-11-28 08:02:00"])
    assert second == ScanPosition("2026-11-28 08:00:00", 20, "2026-11-28 08:30:00")
    # A newer one raises it.
    third = second.advanced(30, ["2026-11-28 09:00:01"])
    assert third.max_write_date == "2026-11-28 09:00:01"
    assert third.after_id == 30
    # The lower bound of a scan never changes while it runs.
    assert third.lower_bound == position.lower_bound


def test_advanced_never_moves_the_last_id_backwards() -> None:
    position = ScanPosition("2026-11-28 08:00:00", 50, "2026-11-28 08:10:00")
    assert position.advanced(40, ["2026-11-28 08:00:00"]).after_id == 50


def test_advanced_returns_a_new_position() -> None:
    position = ScanPosition("2026-11-28 08:00:00")
    position.advanced(10, ["2026-11-28 08:30:00"])
    assert position == ScanPosition("2026-11-28 08:00:00", 0, None)


def test_finished_cursor_takes_the_newest_write_date_seen() -> None:
    scan = ScanPosition("2026-11-28 08:00:00", 30, "2026-11-28 08:30:00")
    assert finished_cursor("2026-11-28 08:10:00", scan) == "2026-11-28 08:30:00"


def test_finished_cursor_never_moves_backwards() -> None:
    # The overlap re-read only saw older write_dates: the cursor stays.
    scan = ScanPosition("2026-11-28 08:00:00", 30, "2026-11-28 08:05:00")
    assert finished_cursor("2026-11-28 08:10:00", scan) == "2026-11-28 08:10:00"


def test_finished_cursor_without_orders_keeps_the_cursor() -> None:
    scan = ScanPosition("2026-11-28 08:00:00")
    assert finished_cursor("2026-11-28 08:10:00", scan) == "2026-11-28 08:10:00"


def test_finished_cursor_uses_odoo_write_dates_not_a_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Far from the poller's clock in both directions, and with the clock made absurd."""
    monkeypatch.setattr(poller.clock, "utcnow", lambda: datetime(2099, 1, 1, tzinfo=UTC))
    past = ScanPosition("2001-01-01 00:00:00", 3, "2001-02-03 04:05:06")
    assert finished_cursor("2001-01-01 00:10:00", past) == "2001-02-03 04:05:06"
    future = ScanPosition("2040-01-01 00:00:00", 3, "2040-05-06 07:08:09")
    assert finished_cursor("2040-01-01 00:10:00", future) == "2040-05-06 07:08:09"
    assert finished_cursor("2001-01-01 00:10:00", ScanPosition("x")) == "2001-01-01 00:10:00"


def test_the_overlap_never_reaches_before_where_the_connection_starts() -> None:
    cursor = "2026-11-28 08:20:00"
    assert start_scan(cursor, 600).lower_bound == "2026-11-28 08:10:00"
    floored = start_scan(cursor, 600, floor="2026-11-28 08:15:00")
    assert floored.lower_bound == "2026-11-28 08:15:00"
    # once the cursor has moved on, the overlap applies in full
    assert start_scan("2026-11-28 09:00:00", 600, floor="2026-11-28 08:15:00").lower_bound == (
        "2026-11-28 08:50:00"
    )
