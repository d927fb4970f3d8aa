"""Secret tokens: holds, manage links, one-time form tokens, sessions, account links.

Only a SHA-256 of a token is ever stored. Manage tokens are derived as
HMAC-SHA256(secret key, "manage:" + booking uid + ":" + salt) with a 128-bit
random salt from ``secrets``: the database alone (no secret key) cannot produce
a working link, and an idempotent replay of a booking request can hand back
the same link without the plain token ever being stored. The one-time links of
accounts (invitation, password reset) are derived the same way from their own
salt (``account_link_token``), so the outbox can carry a placeholder for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 24  # 192 bits; docs/product.md#security asks for at least 128
SALT_BYTES = 16


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def manage_token(secret_key: str, booking_uid: str, salt: str) -> str:
    digest = hmac.new(secret_key.encode(), f"manage:{booking_uid}:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


# Stands for a booking's manage token in queued messages, so the outbox never
# stores a working link: the worker derives the token (manage_token above) and
# fills it in just before sending. Same length and alphabet as a real token
# (43 URL-safe characters), so escaping, link detection and SMS segment counts
# are the same with either.
MANAGE_TOKEN_PLACEHOLDER = "slotwise-manage-token-placeholder-xxxxxxxxx"
assert len(MANAGE_TOKEN_PLACEHOLDER) == 43


def fill_manage_token(text: str, token: str) -> str:
    return text.replace(MANAGE_TOKEN_PLACEHOLDER, token)


def account_link_token(secret_key: str, salt: str) -> str:
    """The token of an account's one-time link (invitation or reset), from its stored salt."""
    digest = hmac.new(secret_key.encode(), f"account-link:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


# Stands for an account link's token in queued emails, as MANAGE_TOKEN_PLACEHOLDER
# does for manage links; the worker derives the token from the link's salt.
ACCOUNT_LINK_PLACEHOLDER = "slotwise-account-link-placeholder-xxxxxxxxx"
assert len(ACCOUNT_LINK_PLACEHOLDER) == 43


def fill_account_link(text: str, token: str) -> str:
    return text.replace(ACCOUNT_LINK_PLACEHOLDER, token)
