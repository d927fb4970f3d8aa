"""Secrets we must be able to read back (webhook signing secrets, calendar passwords), sealed at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key
derived from ``SLOTWISE_SECRET_KEY`` with HKDF-SHA256; ``purpose`` goes into
HKDF's ``info``, so each use gets its own key and a value sealed for one
purpose does not open for another. A copy of the database alone reveals
nothing; changing the secret key makes sealed values unreadable (rotate the
webhook secrets then).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"slotwise secret box v1"


class UnreadableSecret(ValueError):
    """Sealed under another secret key, or changed since."""


class SecretBox:
    def __init__(self, secret_key: str, purpose: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=purpose.encode()).derive(
            secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The plain value; raises ``ValueError`` when sealed under another key or tampered with."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise UnreadableSecret("sealed with another secret key, or changed") from None
