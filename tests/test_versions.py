"""Which event a new order version becomes."""

from __future__ import annotations

import pytest

from poller.state.models import DeliveryStatus
from poller.versions import OrderHistory, decide

PENDING, UNCHANGED, SKIPPED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.UNCHANGED,
    DeliveryStatus.SKIPPED,
)


@pytest.mark.parametrize(
    ("state", "digest", "history", "status", "event"),
    [
        ("sale", "a", None, PENDING, "order.confirmed"),
        # an earlier version is queued but never arrived: StockMaster still needs a confirmation
        ("sale", "b", OrderHistory(False, "a"), PENDING, "order.confirmed"),
        ("sale", "b", OrderHistory(True, "a"), PENDING, "order.updated"),
        ("done", "b", OrderHistory(True, "a"), PENDING, "order.updated"),
        ("sale", "a", OrderHistory(True, "a"), UNCHANGED, "order.updated"),
        ("sale", "a", OrderHistory(False, "a"), UNCHANGED, "order.updated"),
        ("cancel", "c", OrderHistory(True, "a"), PENDING, "order.cancelled"),
        ("cancel", "c", OrderHistory(True, "c"), UNCHANGED, "order.cancelled"),
        ("cancel", "c", None, SKIPPED, "order.cancelled"),
        ("cancel", "c", OrderHistory(False, "a"), SKIPPED, "order.cancelled"),
    ],
)
def test_decide(state, digest, history, status, event) -> None:
    decision = decide(state, digest, history)
    assert (decision.status, decision.event) == (status, event)
