"""The one redaction: every form a secret travels in is masked, and URL userinfo."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote

import pytest

from poller.redact import MASK, Redactor, strip_userinfo

RAW = secrets.token_bytes(32)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(RAW).decode()
API_KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "form",
    [
        WEBHOOK_SECRET,
        WEBHOOK_SECRET.removeprefix("whsec_"),  # the key part on its own
        base64.b64encode(WEBHOOK_SECRET.encode()).decode(),
        WEBHOOK_SECRET.encode().hex(),
        RAW.hex(),
        quote(WEBHOOK_SECRET, safe=""),
        API_KEY,
        base64.b64encode(API_KEY.encode()).decode(),
        API_KEY.encode().hex(),
        quote(API_KEY, safe=""),
    ],
)
def test_every_form_of_both_secrets_is_masked(form: str) -> None:
    redact = Redactor([API_KEY, WEBHOOK_SECRET])
    echoed = f'{{"headers": {{"x-webhook-secret": "{form}", "host": "stock"}}}}'
    masked = redact(echoed)
    assert form not in masked and MASK in masked and '"host": "stock"' in masked


def test_userinfo_is_stripped_from_any_url_in_the_text() -> None:
    text = "could not reach https://bot:s3cret@odoo.example.com/json/2: refused; see ftp://a@b/x"
    assert strip_userinfo(text) == (
        f"could not reach https://{MASK}@odoo.example.com/json/2: refused; see ftp://{MASK}@b/x"
    )
    assert strip_userinfo("mail bot@example.com") == "mail bot@example.com"


def test_short_or_missing_secrets_mask_nothing() -> None:
    assert Redactor(["abc", None, ""])("abc is a word") == "abc is a word"


def test_an_exception_is_masked_in_place_and_its_chain_cut() -> None:
    redact = Redactor([API_KEY])
    error = RuntimeError(f"wrapped: {API_KEY}")
    error.__cause__ = KeyError(f"key {API_KEY}")
    assert redact.exception(error) is error
    assert str(error) == f"wrapped: {MASK}"
    assert error.__cause__ is None and error.__suppress_context__
