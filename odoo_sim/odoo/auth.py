"""Who may call: the database name, the login, and the secrets (a password, API keys)."""

from __future__ import annotations

from typing import Any


class Credentials:
    """The password works everywhere but JSON-2; API keys work everywhere unless revoked."""

    def __init__(self, database: str, login: str, password: str, api_keys: list[str]) -> None:
        self.database = database
        self.login = login
        self.password = password
        self.api_keys = frozenset(api_keys)

    def accepts(self, secret: Any, revoked: bool = False) -> bool:
        """A JSON-RPC secret: the password or (unless revoked) an API key."""
        if not isinstance(secret, str):
            return False
        return secret == self.password or (not revoked and secret in self.api_keys)

    def accepts_login(self, login: Any, secret: Any, revoked: bool = False) -> bool:
        return login == self.login and self.accepts(secret, revoked)

    def accepts_bearer(self, key: Any, revoked: bool = False) -> bool:
        """JSON-2 takes API keys only."""
        return not revoked and isinstance(key, str) and key in self.api_keys
