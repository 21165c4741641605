"""A payload mapped from the recorded real Odoo responses, signed as the poller signs it,
verifies with `standardwebhooks`; a tampered body or an old timestamp does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from poller.clock import utcnow
from poller.delivery.signing import generate_webhook_secret, signed_headers
from poller.orders import map_order
from tests.support.bundles import recorded_bundle, recorded_context


def signed(now_offset: timedelta = timedelta()) -> tuple[str, str, dict[str, str]]:
    secret = generate_webhook_secret()
    body = map_order(recorded_bundle(), recorded_context(), 2).model_dump_json()
    payload_id = map_order(recorded_bundle(), recorded_context(), 2).event_id
    headers = signed_headers(
        event_id=payload_id,
        body=body,
        secret=secret,
        connection_id=1,
        now=utcnow() + now_offset,
    )
    return secret, body, headers


def test_recorded_payload_verifies() -> None:
    secret, body, headers = signed()
    verified = Webhook(secret).verify(body, headers)
    assert verified["order"]["name"] == "S00002"
    assert verified["order"]["customer"]["company_name"] == "Acme Industries GmbH"


def test_tampered_body_fails() -> None:
    secret, body, headers = signed()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("495.25", "4.95"), headers)


def test_old_timestamp_fails() -> None:
    secret, body, headers = signed(now_offset=-timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, headers)
