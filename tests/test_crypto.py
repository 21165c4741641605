from __future__ import annotations

import pytest

from poller.crypto import SecretBox, generate_key
from poller.errors import EncryptionKeyError


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    box = SecretBox(generate_key())
    token = box.encrypt("odoo-api-key-123")
    assert "odoo-api-key-123" not in token
    assert box.decrypt(token) == "odoo-api-key-123"
    assert box.encrypt("odoo-api-key-123") != token  # fresh IV every time


@pytest.mark.parametrize("raw", [None, "", "  ", ","])
def test_missing_key_is_a_one_line_error_naming_the_variable(raw: str | None) -> None:
    with pytest.raises(EncryptionKeyError) as err:
        SecretBox(raw)
    message = str(err.value)
    assert "POLLER_ENCRYPTION_KEY" in message and "\n" not in message


def test_malformed_key_names_its_position_without_echoing_it() -> None:
    good = generate_key()
    with pytest.raises(EncryptionKeyError) as err:
        SecretBox(f"{good},not-a-fernet-key")
    assert "key #2" in str(err.value)
    assert "not-a-fernet-key" not in str(err.value)


def test_wrong_key_cannot_decrypt_and_says_what_to_do() -> None:
    token = SecretBox(generate_key()).encrypt("s3cret")
    with pytest.raises(EncryptionKeyError) as err:
        SecretBox(generate_key()).decrypt(token, what="the Odoo API key")
    assert "cannot decrypt the Odoo API key" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_rotation_re_encrypts_under_the_newest_key() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox(old).encrypt("s3cret")
    both = SecretBox(f"{new},{old}")
    assert both.key_count == 2
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    assert SecretBox(new).decrypt(rotated) == "s3cret"
    with pytest.raises(EncryptionKeyError):
        SecretBox(old).decrypt(rotated)
