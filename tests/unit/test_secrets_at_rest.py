"""Secrets kept encrypted: they come back with the same key and purpose, and with nothing else."""

from __future__ import annotations

import pytest
from slotwise.services.secrets_at_rest import UnreadableSecret, decrypt, encrypt


def test_a_secret_comes_back_and_is_not_stored_in_clear():
    token = encrypt("k" * 40, "calendar-password", "hunter2")
    assert "hunter2" not in token
    assert decrypt("k" * 40, "calendar-password", token) == "hunter2"


@pytest.mark.parametrize(("key", "purpose"), [("x" * 40, "calendar-password"), ("k" * 40, "webhook-secret")])
def test_another_key_or_purpose_cannot_read_it(key, purpose):
    token = encrypt("k" * 40, "calendar-password", "hunter2")
    with pytest.raises(UnreadableSecret):
        decrypt(key, purpose, token)
