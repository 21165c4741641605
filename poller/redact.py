"""The one redaction every text from outside passes through before it is stored or shown.

Receivers and proxies echo what they were sent: a gateway's error page may hold the request
headers (the webhook secret travels in `X-Webhook-Secret`), a debug endpoint may hex-dump
them, an exception names the URL it failed on (with any `user:password@`). Whatever reaches
the database, a log line, a Prefect event or artifact, or the CLI goes through `Redactor`
first, which knows the secrets of the connection at hand and every form they travel in.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
#: shorter strings are not masked: they would match by chance and hide real text
SHORTEST_SECRET = 6
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@?#]+@")


def strip_userinfo(text: str, replacement: str = f"{MASK}@") -> str:
    """`https://user:pw@host/…` → `https://[redacted]@host/…`, anywhere in `text`; with
    `replacement=""`, a URL that is to be used (`https://host/…`)."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{replacement}", text)


def secret_forms(secret: str) -> set[str]:
    """The forms a secret travels in: as is, its Standard Webhooks key part, base64, hex
    and URL-encoded, of the whole string and of the key bytes."""
    raws = [secret.encode()]
    if secret.startswith("whsec_"):
        key_part = secret.removeprefix("whsec_")
        with contextlib.suppress(binascii.Error, ValueError):  # not base64: used as text
            raws.append(base64.b64decode(key_part, validate=True))
    forms = {secret, secret.removeprefix("whsec_")}
    for raw in raws:
        forms |= {
            base64.b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            raw.hex(),
            raw.hex().upper(),
        }
    forms |= {quote(form, safe="") for form in list(forms)}
    forms |= {quote_plus(form) for form in list(forms)}
    return {form for form in forms if len(form) >= SHORTEST_SECRET}


class Redactor:
    """Masks the given secrets, in all their forms, and URL userinfo."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= SHORTEST_SECRET:
                self._forms |= secret_forms(secret)
        if self._forms:  # longest first, so that a form inside another goes whole
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return strip_userinfo(text)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)

    def exception(self, exc: BaseException) -> BaseException:
        """Mask `exc`'s message in place and cut its chain (a cause's text is from outside
        too, and Prefect prints the chain in the run's log); the same object, for `raise`."""
        exc.args = tuple(self(arg) if isinstance(arg, str) else arg for arg in exc.args)
        exc.__cause__ = None
        exc.__suppress_context__ = True
        return exc
