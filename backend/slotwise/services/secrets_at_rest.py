"""Reusable secrets kept encrypted in the database (calendar passwords; webhook secrets alike).

A secret we must hand back to someone else later (a CalDAV password) cannot be
hashed; it is encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from
``cryptography``) under a key derived from ``SLOTWISE_SECRET_KEY`` with HKDF-SHA256.
``purpose`` goes into HKDF's ``info``, so each use gets its own key: a token
encrypted as a calendar password does not decrypt as anything else. Changing
the secret key makes stored secrets unreadable (the connection then fails and
shows its error until the owner enters the password again).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Fixed and public: HKDF's salt only has to be the same every time.
_SALT = b"slotwise secrets at rest"


class UnreadableSecret(ValueError):
    """The stored secret was encrypted with another secret key (or was altered)."""


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
               info=f"slotwise:{purpose}:v1".encode()).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, purpose: str, plain: str) -> str:
    return _fernet(secret_key, purpose).encrypt(plain.encode()).decode()


def decrypt(secret_key: str, purpose: str, token: str) -> str:
    try:
        return _fernet(secret_key, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(f"the stored {purpose} cannot be decrypted with this secret key") from None
