"""The task retry condition: transient faults only, and a rate limit's Retry-After honoured."""

from __future__ import annotations

import time

import pytest
from prefect.states import Failed

from flows.poll_connection import retry_transient
from poller.errors import StateError
from poller.odoo.errors import (
    OdooAuthError,
    OdooBadRequest,
    OdooRateLimited,
    OdooServerError,
    OdooTransportError,
)
from poller.settings import get_settings


async def should_retry(error: Exception) -> bool:
    return await retry_transient(None, None, Failed(data=error))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OdooTransportError("timed out"), True),
        (OdooServerError("HTTP 503", transient=True), True),
        (OdooServerError("KeyError", transient=False), False),
        (OdooAuthError("Access Denied"), False),
        (OdooBadRequest("Invalid leaf"), False),
        (StateError("database is locked"), True),
        (RuntimeError("a bug"), False),
    ],
)
async def test_only_transient_errors_are_retried(error: Exception, expected: bool) -> None:
    assert await should_retry(error) is expected


async def test_rate_limit_waits_for_retry_after_up_to_the_cap(monkeypatch) -> None:
    monkeypatch.setenv("POLLER_RETRY_AFTER_CAP_SECONDS", "0.3")
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        assert await should_retry(OdooRateLimited("HTTP 429", retry_after=30.0))
        waited = time.monotonic() - started
    finally:
        get_settings.cache_clear()
    assert 0.3 <= waited < 2.0
