"""Field encryption for stored secrets: Fernet keys from POLLER_ENCRYPTION_KEY, newest first.

MultiFernet decrypts with any listed key and encrypts with the first, so adding a new key in
front and re-encrypting (`rotate`) retires the old one.
"""

from __future__ import annotations

import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from poller.errors import EncryptionKeyError

ENV_VAR = "POLLER_ENCRYPTION_KEY"


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _parse_keys(raw: str | None) -> list[Fernet]:
    if raw is None or not raw.strip():
        raise EncryptionKeyError(
            f"{ENV_VAR} is not set",
            hint="Set it to a Fernet key (generate one with `poller keygen`)",
        )
    keys = []
    for position, part in enumerate(p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            keys.append(Fernet(part.encode()))
        except (ValueError, binascii.Error):
            raise EncryptionKeyError(
                f"{ENV_VAR} key #{position + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)",
                hint="Generate one with `poller keygen`",
            ) from None
    if not keys:
        raise EncryptionKeyError(f"{ENV_VAR} holds no key")
    return keys


class SecretBox:
    """Encrypts and decrypts secret fields; never logs or echoes what it handles."""

    def __init__(self, raw_keys: str | None) -> None:
        self._keys = _parse_keys(raw_keys)
        self._fernet = MultiFernet(self._keys)

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str, *, what: str = "a stored secret") -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise EncryptionKeyError(
                f"{ENV_VAR} cannot decrypt {what}",
                hint="Put the key it was encrypted with back into the list "
                "(newest first), or re-enter the secret with `poller edit`",
            ) from None

    def is_current(self, token: str) -> bool:
        """Whether `token` is already encrypted under the newest key."""
        try:
            self._keys[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key (raises EncryptionKeyError if no key opens it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise EncryptionKeyError(
                f"{ENV_VAR} cannot decrypt a stored secret during rotation",
                hint="Keep the old key in the list until rotation has finished",
            ) from None


def secret_box_from_env() -> SecretBox:
    from poller.settings import get_settings

    return SecretBox(get_settings().encryption_key)
