"""Delivery headers (Standard Webhooks signature) and one POST of one event (respx)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from poller import __version__
from poller.delivery.classify import Verdict
from poller.delivery.sender import post_event
from poller.delivery.signing import signed_headers
from poller.redact import Redactor

EVENT_ID = "3f1c0a5e9b7d4c2a8e6f1b3d5c7a9e0f"
BODY = json.dumps({"event": "order.confirmed", "event_id": EVENT_ID, "order": {"id": 42}})
WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
PLAIN = "plain-shared-secret-for-stockmaster"
HOOK = "https://stockmaster.test/webhooks/odoo"


def headers_at(now: datetime, secret: str = WHSEC, body: str = BODY) -> dict[str, str]:
    return signed_headers(event_id=EVENT_ID, body=body, secret=secret, connection_id=7, now=now)


def real_now() -> datetime:
    # standardwebhooks checks freshness against the real clock, so signatures meant to verify
    # are made at the real time.
    return datetime.now(UTC)


# -- signed_headers ----------------------------------------------------------------------


def test_all_design_headers_are_present() -> None:
    now = datetime(2026, 11, 28, 8, 19, 30, 999_999, tzinfo=UTC)
    headers = headers_at(now)
    assert headers["X-Webhook-Secret"] == WHSEC
    assert headers["X-Odoo-Connection-Id"] == "7"
    assert headers["webhook-id"] == EVENT_ID
    assert headers["webhook-timestamp"] == str(int(now.timestamp())) == "1795853970"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["Idempotency-Key"] == EVENT_ID
    assert headers["User-Agent"] == f"odoo-order-poller/{__version__}"
    assert headers["Content-Type"] == "application/json"
    assert all(isinstance(v, str) for v in headers.values())


@pytest.mark.parametrize("secret", [WHSEC, PLAIN])
def test_signature_is_hmac_sha256_of_id_timestamp_body(secret: str) -> None:
    now = datetime(2026, 11, 28, 8, 19, 30, tzinfo=UTC)
    headers = headers_at(now, secret)
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    mac = hmac.new(key, f"{EVENT_ID}.{int(now.timestamp())}.{BODY}".encode(), hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(mac.digest()).decode()


def test_whsec_secret_verifies_with_standardwebhooks() -> None:
    headers = headers_at(real_now(), WHSEC)
    assert Webhook(WHSEC).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(WHSEC).verify(BODY.encode(), headers) == json.loads(BODY)


def test_plain_secret_verifies_with_its_utf8_bytes() -> None:
    headers = headers_at(real_now(), PLAIN)
    assert Webhook(PLAIN.encode()).verify(BODY, headers) == json.loads(BODY)


@pytest.mark.parametrize(("secret", "key"), [(WHSEC, WHSEC), (PLAIN, PLAIN.encode())])
def test_tampered_body_fails_verification(secret: str, key: str | bytes) -> None:
    headers = headers_at(real_now(), secret)
    tampered = BODY.replace('"id": 42', '"id": 43')
    assert tampered != BODY
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(key).verify(tampered, headers)


@pytest.mark.parametrize(("secret", "key"), [(WHSEC, WHSEC), (PLAIN, PLAIN.encode())])
def test_old_timestamp_fails_verification(secret: str, key: str | bytes) -> None:
    headers = headers_at(real_now() - timedelta(minutes=10), secret)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(key).verify(BODY, headers)


def test_wrong_secret_fails_verification() -> None:
    headers = headers_at(real_now(), PLAIN)
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another-secret").verify(BODY, headers)


def test_changed_timestamp_header_fails_verification() -> None:
    headers = headers_at(real_now(), WHSEC)
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(WHSEC).verify(BODY, headers)


def test_aware_non_utc_now_still_verifies() -> None:
    berlin = timezone(timedelta(hours=1))
    headers = headers_at(real_now().astimezone(berlin), WHSEC)
    Webhook(WHSEC).verify(BODY, headers)


# -- post_event ----------------------------------------------------------------------------


async def post(headers: dict[str, str] | None = None) -> object:
    async with httpx.AsyncClient() as http:
        return await post_event(
            http, HOOK, BODY, headers or headers_at(real_now()), redact=Redactor()
        )


async def test_post_sends_the_body_and_headers(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(HOOK).mock(return_value=httpx.Response(204))
    headers = headers_at(real_now())
    outcome = await post(headers)
    assert outcome.verdict is Verdict.DELIVERED
    assert outcome.status == 204
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.content == BODY.encode()
    for name, value in headers.items():
        assert request.headers[name] == value
    # What went over the wire verifies at the receiver.
    Webhook(WHSEC).verify(request.content, dict(request.headers))


async def test_post_does_not_follow_a_302(respx_mock: respx.MockRouter) -> None:
    elsewhere = respx_mock.post("https://elsewhere.test/hook").mock(
        return_value=httpx.Response(200)
    )
    elsewhere_get = respx_mock.get("https://elsewhere.test/hook").mock(
        return_value=httpx.Response(200)
    )
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(
            302, headers={"Location": "https://elsewhere.test/hook"}, text="Found"
        )
    )
    outcome = await post()
    assert outcome.verdict is Verdict.DEAD
    assert outcome.status == 302
    assert "redirects are not followed" in (outcome.error or "")
    assert not elsewhere.called
    assert not elsewhere_get.called


async def test_429_with_retry_after_seconds(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "120"}, text="slow down")
    )
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.status == 429
    assert outcome.retry_after == 120.0
    assert outcome.error == "HTTP 429: slow down"


async def test_429_with_retry_after_http_date(respx_mock: respx.MockRouter) -> None:
    # parse_retry_after compares an HTTP date with the real clock; whole-second dates.
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=300)
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(429, headers={"Retry-After": format_datetime(when, True)})
    )
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after is not None
    assert 290 <= outcome.retry_after <= 300


async def test_429_with_retry_after_date_in_the_past_is_zero(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after == 0.0


async def test_429_with_garbage_retry_after(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "soon-ish"})
    )
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.retry_after is None


async def test_4xx_body_becomes_the_dead_letter_reason(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(
        return_value=httpx.Response(422, text='{"detail":\n  "unknown sku GAD-PRO"}')
    )
    outcome = await post()
    assert outcome.verdict is Verdict.DEAD
    assert outcome.error == 'HTTP 422: {"detail": "unknown sku GAD-PRO"}'


async def test_410_is_gone(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(return_value=httpx.Response(410, text="retired"))
    outcome = await post()
    assert outcome.verdict is Verdict.GONE
    assert outcome.status == 410


async def test_connection_error_becomes_retry(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(side_effect=httpx.ConnectError("Connection refused"))
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.status is None
    assert outcome.error == "ConnectError: Connection refused"


async def test_read_timeout_becomes_retry(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(HOOK).mock(side_effect=httpx.ReadTimeout("timed out"))
    outcome = await post()
    assert outcome.verdict is Verdict.RETRY
    assert outcome.error == "timed out (ReadTimeout)"


async def test_connection_refused_on_a_real_socket_becomes_retry() -> None:
    """No mock: port 9 on loopback (discard) is closed on these machines."""
    async with httpx.AsyncClient(timeout=2) as http:
        outcome = await post_event(http, "http://127.0.0.1:9/hook", BODY, {}, redact=Redactor())
    assert outcome.verdict is Verdict.RETRY
    assert outcome.status is None
