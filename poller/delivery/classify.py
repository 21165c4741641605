"""What a webhook response (or its absence) means for the event that was sent. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

BODY_EXCERPT = 300
RETRYABLE_4XX = {408, 425, 429}


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # try again later (408, 429, 5xx, timeouts, connection failures)
    DEAD = "dead"  # the receiver refused this event (other 4xx); replay after a fix
    GONE = "gone"  # 410: the endpoint was retired; stop sending to it


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def classify_response(status: int, body: str = "", retry_after: float | None = None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(Verdict.DELIVERED, status)
    excerpt = " ".join(body.split())[:BODY_EXCERPT]
    error = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if status == 410:
        return Outcome(Verdict.GONE, status, error)
    if status in RETRYABLE_4XX or status >= 500:
        return Outcome(Verdict.RETRY, status, error, retry_after)
    if 300 <= status < 400:
        return Outcome(Verdict.DEAD, status, f"{error} (redirects are not followed)")
    return Outcome(Verdict.DEAD, status, error)


def classify_http_error(exc: httpx.HTTPError) -> Outcome:
    """Timeouts, resets, refused connections and broken responses are all worth a retry."""
    if isinstance(exc, httpx.TimeoutException):
        return Outcome(Verdict.RETRY, error=f"timed out ({type(exc).__name__})")
    return Outcome(Verdict.RETRY, error=f"{type(exc).__name__}: {exc}"[:BODY_EXCERPT])
