"""What defines a connection (a tenant): where its Odoo is, where its webhooks go, its secrets.

Secrets are held only as Fernet ciphertext here; `poller.crypto.SecretBox` opens them inside
the step that needs them. The rules for what an operator may give (`check_*`) are here too,
so that `poller add`/`edit` refuse a value with the same words the model would.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, Field, HttpUrl, TypeAdapter, ValidationError, field_validator

NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
NAME_RULE = (
    "1 to 63 lowercase letters, digits and dashes, starting and ending with a letter or "
    "digit, and not digits alone, which name a connection by its id"
)
MIN_INTERVAL_SECONDS = 5
MAX_INTERVAL_SECONDS = 86_400  # a day
INTERVAL_RULE = f"whole seconds from {MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS} (a day)"
Transport = Literal["auto", "jsonrpc", "json2"]
TRANSPORTS: tuple[str, ...] = get_args(Transport)
URL_RULE = "an http:// or https:// URL, e.g. https://acme.odoo.com"
LONGEST_URL = 2048
LONGEST_LABEL = 256
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def shown(value: str, limit: int = 40) -> str:
    """A value as a one-line message may quote it: escapes visible, long ones cut short."""
    text = repr(value)
    return (
        text if len(text) <= limit else f"{text[: limit - 2]}…{text[0]} ({len(value)} characters)"
    )


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name) or name.isdigit():
        raise ValueError(f"connection name {shown(name)} is not allowed: use {NAME_RULE}")
    return name


def check_url(url: str, *, base: bool) -> str:
    """An http(s) URL the poller may call: no `user:password@` (secrets come from files, the
    environment or prompts, never inside a URL), no `#fragment` (never sent), and for an Odoo
    base URL (`base`) no `?query` either. The value is not echoed when it may hold a password."""
    quoted = "the URL given" if "@" in url else shown(url)
    if len(url) > LONGEST_URL:
        raise ValueError(f"{quoted} is longer than {LONGEST_URL} characters")
    try:
        parsed = _HTTP_URL.validate_python(url)
    except ValidationError:
        raise ValueError(f"{quoted} is not {URL_RULE}") from None
    if parsed.username or parsed.password:
        raise ValueError(
            "the URL carries a user or password (user:password@): give it without; "
            "the Odoo login and API key and the webhook secret are options of their own"
        )
    if parsed.fragment is not None:
        raise ValueError(f"{quoted} has a #fragment, which is never sent: leave it out")
    if base and parsed.query is not None:
        raise ValueError(f"{quoted} has a ?query: give the Odoo server's base URL")
    return url


def check_label(value: str, what: str) -> str:
    """A plain text field (the Odoo database, the login): one line, not blank."""
    if not value.strip():
        raise ValueError(f"the {what} must not be empty")
    if len(value) > LONGEST_LABEL:
        raise ValueError(f"the {what} is longer than {LONGEST_LABEL} characters")
    if any(not char.isprintable() for char in value):
        raise ValueError(f"the {what} {shown(value)} holds a control character")
    return value


class ConnectionConfig(BaseModel):
    """A connection as stored in its Prefect block: non-secret fields plus ciphertexts."""

    name: str
    odoo_url: HttpUrl
    database: str = Field(min_length=1)
    username: str = Field(min_length=1)
    api_key_encrypted: str = Field(min_length=1, repr=False)
    webhook_url: HttpUrl
    webhook_secret_encrypted: str = Field(min_length=1, repr=False)
    poll_interval_seconds: int = Field(default=60, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS)
    transport: Transport = "auto"
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return check_name(name)

    @property
    def odoo_base_url(self) -> str:
        return str(self.odoo_url).rstrip("/")
