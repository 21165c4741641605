"""What a webhook response, or its absence, means for the event that was sent."""

from __future__ import annotations

import httpx
import pytest

from poller.delivery.classify import (
    BODY_EXCERPT,
    Verdict,
    classify_http_error,
    classify_response,
)

TABLE = [
    (200, Verdict.DELIVERED),
    (201, Verdict.DELIVERED),
    (202, Verdict.DELIVERED),
    (204, Verdict.DELIVERED),
    (410, Verdict.GONE),
    (408, Verdict.RETRY),
    (429, Verdict.RETRY),
    (500, Verdict.RETRY),
    (502, Verdict.RETRY),
    (503, Verdict.RETRY),
    (504, Verdict.RETRY),
    (400, Verdict.DEAD),
    (401, Verdict.DEAD),
    (403, Verdict.DEAD),
    (404, Verdict.DEAD),
    (409, Verdict.DEAD),
    (422, Verdict.DEAD),
    (301, Verdict.DEAD),
    (302, Verdict.DEAD),
    (307, Verdict.DEAD),
    (308, Verdict.DEAD),
]


@pytest.mark.parametrize(("status", "verdict"), TABLE)
def test_status_table(status: int, verdict: Verdict) -> None:
    outcome = classify_response(status, "some body")
    assert outcome.verdict is verdict
    assert outcome.status == status


@pytest.mark.parametrize("status", [200, 201, 204])
def test_delivered_carries_no_error(status: int) -> None:
    outcome = classify_response(status, "ignored")
    assert outcome.error is None
    assert outcome.retry_after is None


def test_gone_says_so() -> None:
    outcome = classify_response(410, "endpoint retired")
    assert outcome.error == "HTTP 410: endpoint retired"


def test_429_keeps_retry_after() -> None:
    outcome = classify_response(429, "slow down", retry_after=17.0)
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after == 17.0
    assert outcome.error == "HTTP 429: slow down"


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_retry_keeps_retry_after_and_error(status: int) -> None:
    outcome = classify_response(status, "", retry_after=5.0)
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after == 5.0
    assert outcome.error == f"HTTP {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_dead_has_status_and_collapsed_body_excerpt(status: int) -> None:
    body = '{"error":\n\t  "order   S00042\r\n is   invalid"}   \n'
    outcome = classify_response(status, body)
    assert outcome.verdict is Verdict.DEAD
    assert outcome.status == status
    assert outcome.error == f'HTTP {status}: {{"error": "order S00042 is invalid"}}'
    assert outcome.retry_after is None


def test_dead_ignores_retry_after() -> None:
    assert classify_response(400, "bad", retry_after=30.0).retry_after is None


def test_body_excerpt_is_at_most_300_chars() -> None:
    assert BODY_EXCERPT == 300
    words = " ".join(f"word{i:04d}" for i in range(200))  # 1,799 chars
    body = "\n\n".join(words.split(" "))  # same words, different whitespace
    outcome = classify_response(422, body)
    assert outcome.error is not None
    prefix = "HTTP 422: "
    assert outcome.error.startswith(prefix)
    excerpt = outcome.error.removeprefix(prefix)
    assert excerpt == words[:300]
    assert len(excerpt) == 300
    assert "\n" not in outcome.error


def test_empty_or_blank_body_gives_just_the_status() -> None:
    assert classify_response(400, "").error == "HTTP 400"
    assert classify_response(400, " \n\t ").error == "HTTP 400"


@pytest.mark.parametrize("status", [301, 302])
def test_redirects_are_dead_and_say_they_are_not_followed(status: int) -> None:
    outcome = classify_response(status, "Moved")
    assert outcome.verdict is Verdict.DEAD
    assert outcome.status == status
    assert outcome.error is not None
    assert outcome.error.startswith(f"HTTP {status}")
    assert "redirects are not followed" in outcome.error


def _request() -> httpx.Request:
    return httpx.Request("POST", "https://stockmaster.test/hook")


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectTimeout("connect timed out", request=_request()),
        httpx.ReadTimeout("read timed out", request=_request()),
        httpx.WriteTimeout("write timed out", request=_request()),
        httpx.PoolTimeout("pool timed out", request=_request()),
        httpx.ConnectError("connection refused", request=_request()),
        httpx.RemoteProtocolError("peer closed connection", request=_request()),
        httpx.ReadError("connection reset", request=_request()),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_transport_failures_retry(exc: httpx.HTTPError) -> None:
    outcome = classify_http_error(exc)
    assert outcome.verdict is Verdict.RETRY
    assert outcome.status is None
    assert outcome.error
    assert type(exc).__name__ in outcome.error


def test_timeouts_say_they_timed_out() -> None:
    outcome = classify_http_error(httpx.ReadTimeout("x", request=_request()))
    assert outcome.error == "timed out (ReadTimeout)"


def test_connection_error_message_is_bounded() -> None:
    outcome = classify_http_error(httpx.ConnectError("refused " * 100, request=_request()))
    assert outcome.error is not None
    assert outcome.error.startswith("ConnectError: refused")
    assert len(outcome.error) <= BODY_EXCERPT
