"""What defines a connection (a tenant): where its Odoo is, where its webhooks go, its secrets.

Secrets are held only as Fernet ciphertext here; `poller.crypto.SecretBox` opens them inside
the step that needs them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, field_validator

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"connection name {name!r} must be 1-63 lowercase letters, digits or dashes "
            "(it names the Prefect block and deployment)"
        )
    return name


class ConnectionConfig(BaseModel):
    """A connection as stored in its Prefect block: non-secret fields plus ciphertexts."""

    name: str
    odoo_url: HttpUrl
    database: str = Field(min_length=1)
    username: str = Field(min_length=1)
    api_key_encrypted: str = Field(min_length=1, repr=False)
    webhook_url: HttpUrl
    webhook_secret_encrypted: str = Field(min_length=1, repr=False)
    poll_interval_seconds: int = Field(default=60, ge=5)
    transport: Literal["auto", "jsonrpc", "json2"] = "auto"
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return check_name(name)

    @property
    def odoo_base_url(self) -> str:
        return str(self.odoo_url).rstrip("/")
