"""One batch of outbox rows sent to StockMaster: signed, a bounded number at once, each
outcome turned into the row's next state (delivered, retry at, dead) and written as soon as
its response arrives."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from poller.delivery.backoff import next_attempt_at
from poller.delivery.checkpoint import Checkpoint, Write
from poller.delivery.classify import Outcome, Verdict
from poller.delivery.sender import post_event
from poller.delivery.signing import signed_headers
from poller.errors import StateError
from poller.poll_report import SendReport
from poller.redact import Redactor
from poller.state.models import Delivery, DeliveryStatus
from poller.state.outbox import DeliveryResult


@dataclass(frozen=True)
class Endpoint:
    """Where and how one connection's events go."""

    http: httpx.AsyncClient
    url: str
    secret: str
    connection_id: int


@dataclass
class Dispatcher:
    endpoint: Endpoint
    concurrency: int
    retry_horizon: timedelta
    record: Write  # writes a batch of outcomes (the outbox)
    clock: Callable[[], datetime]  # schedules retries; tests move it
    wall_clock: Callable[[], datetime]  # signs: receivers check freshness against real time
    redact: Redactor
    rng: random.Random

    async def deliver(self, rows: list[Delivery]) -> SendReport:
        gate = asyncio.Semaphore(self.concurrency)
        checkpoint = Checkpoint(self.record)

        async def one(row: Delivery) -> DeliveryResult:
            async with gate:
                outcome = await self._post(row)
                result = self.next_state(row, outcome, self.clock())
                await checkpoint.record(result)
                return result

        results = await asyncio.gather(*(one(row) for row in rows))
        return _report(rows, results)

    async def _post(self, row: Delivery) -> Outcome:
        body = row.payload or ""
        headers = signed_headers(
            event_id=row.event_id,
            body=body,
            secret=self.endpoint.secret,
            connection_id=self.endpoint.connection_id,
            now=self.wall_clock(),
        )
        return await post_event(
            self.endpoint.http, self.endpoint.url, body, headers, redact=self.redact
        )

    def next_state(self, row: Delivery, outcome: Outcome, now: datetime) -> DeliveryResult:
        if row.id is None:  # rows come from the database, which numbers them
            raise StateError("a delivery row without an id")
        if outcome.verdict is Verdict.DELIVERED:
            return DeliveryResult(row.id, DeliveryStatus.DELIVERED, outcome.status, None, None)
        if outcome.verdict is Verdict.DEAD:
            return DeliveryResult(row.id, DeliveryStatus.DEAD, outcome.status, outcome.error, None)
        if outcome.verdict is Verdict.GONE:
            return DeliveryResult(
                row.id, DeliveryStatus.RETRYING, outcome.status, outcome.error, now
            )
        when = next_attempt_at(
            attempts=row.attempts + 1,
            first_queued_at=row.created_at,
            now=now,
            horizon=self.retry_horizon,
            rng=self.rng,
            retry_after=outcome.retry_after,
        )
        if when is None:
            error = f"retry horizon passed; last error: {outcome.error}"
            return DeliveryResult(row.id, DeliveryStatus.DEAD, outcome.status, error, None)
        return DeliveryResult(row.id, DeliveryStatus.RETRYING, outcome.status, outcome.error, when)


def _report(rows: list[Delivery], results: list[DeliveryResult]) -> SendReport:
    report = SendReport()
    for row, result in zip(rows, results, strict=True):
        if result.status == DeliveryStatus.DELIVERED:
            report.delivered += 1
            report.delivered_orders.append(row.order_name)
        elif result.status == DeliveryStatus.DEAD:
            report.dead += 1
            report.dead_orders.append(f"{row.order_name}: {result.error}")
        else:
            report.failed += 1
    report.gone = any(r.error and r.error.startswith("HTTP 410") for r in results)
    return report
