"""Which event a new version of an order is, given what the outbox already holds. Pure.

StockMaster must never see an update before the confirmation it follows, nor hear of a
cancellation of an order it never received. A version whose content StockMaster would not
notice (a `write_date` bump on an invoice status, say) is recorded and not sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from poller.state.models import DeliveryStatus


@dataclass(frozen=True)
class OrderHistory:
    delivered: bool  # some earlier version reached StockMaster
    latest_hash: str | None  # content of the newest earlier version queued or delivered


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus
    event: str
    note: str | None = None


def decide(state: str, digest: str, history: OrderHistory | None) -> Decision:
    delivered = history is not None and history.delivered
    if state == "cancel":
        if not delivered:
            return Decision(
                DeliveryStatus.SKIPPED,
                "order.cancelled",
                "cancelled before StockMaster received it: nothing to tell",
            )
        if history is not None and history.latest_hash == digest:
            return Decision(DeliveryStatus.UNCHANGED, "order.cancelled", "already cancelled")
        return Decision(DeliveryStatus.PENDING, "order.cancelled")
    if history is not None and history.latest_hash == digest:
        return Decision(
            DeliveryStatus.UNCHANGED,
            "order.updated",
            "unchanged: nothing StockMaster sees differs from the last version",
        )
    return Decision(DeliveryStatus.PENDING, "order.updated" if delivered else "order.confirmed")
