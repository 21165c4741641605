"""Headers of every delivery attempt: StockMaster's shared secret and a Standard Webhooks signature.

A `whsec_`+base64 secret is used as Standard Webhooks defines it; any other secret string is
used as raw UTF-8 key bytes, so a receiver verifies with `Webhook(secret.encode())`.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

from poller import __version__

USER_AGENT = f"odoo-order-poller/{__version__}"


def signer(secret: str) -> Webhook:
    if secret.startswith("whsec_"):
        return Webhook(secret)
    return Webhook(secret.encode())


def signed_headers(
    *, event_id: str, body: str, secret: str, connection_id: int, now: datetime
) -> dict[str, str]:
    signature = signer(secret).sign(msg_id=event_id, timestamp=now.astimezone(UTC), data=body)
    return {
        "Content-Type": "application/json",
        "X-Webhook-Secret": secret,
        "X-Odoo-Connection-Id": str(connection_id),
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Idempotency-Key": event_id,
        "User-Agent": USER_AGENT,
    }


def generate_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
