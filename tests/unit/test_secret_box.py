"""Sealed secrets open with the same key and purpose, and with nothing else."""

from __future__ import annotations

import pytest

from slotwise.services.secret_box import SecretBox

KEY = "a-secret-key-" + "x" * 40


def test_a_sealed_value_opens_again_and_is_not_in_the_sealed_text() -> None:
    box = SecretBox(KEY, "webhook signing secrets")
    sealed = box.seal("whsec_c2VjcmV0")
    assert "whsec_" not in sealed and "c2VjcmV0" not in sealed
    assert box.open(sealed) == "whsec_c2VjcmV0"


def test_sealing_twice_gives_different_texts() -> None:
    box = SecretBox(KEY, "webhook signing secrets")
    assert box.seal("same") != box.seal("same")


@pytest.mark.parametrize(("key", "purpose"), [(KEY + "y", "webhook signing secrets"), (KEY, "calendar passwords")])
def test_another_key_or_purpose_cannot_open_it(key: str, purpose: str) -> None:
    sealed = SecretBox(KEY, "webhook signing secrets").seal("whsec_c2VjcmV0")
    with pytest.raises(ValueError):
        SecretBox(key, purpose).open(sealed)  # UnreadableSecret, a ValueError


def test_a_changed_text_does_not_open() -> None:
    box = SecretBox(KEY, "webhook signing secrets")
    sealed = box.seal("whsec_c2VjcmV0")
    with pytest.raises(ValueError):
        box.open(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))


def test_private_webhook_targets_are_off_unless_the_setting_says_so(tmp_path) -> None:
    from slotwise.settings import Settings

    base = {"SLOTWISE_SECRET_KEY": KEY, "SLOTWISE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).allow_private_targets is False
    assert Settings.from_env({**base, "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "1"}).allow_private_targets is True
    assert Settings.from_env({**base, "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "0"}).allow_private_targets is False
