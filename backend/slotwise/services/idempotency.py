"""Idempotency keys for any write: the same key and request replay the first outcome.

A write that honours ``Idempotency-Key`` builds one :class:`IdempotentWrite`
(its scope, the client's key, a fingerprint of the request) and, inside its
transaction, asks :meth:`IdempotentWrite.replay` first and calls
:meth:`IdempotentWrite.remember` after writing. The same key with another
request is an :class:`IdempotencyConflict` (422). Without a key both do nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slotwise.domain.actors import Actor
from slotwise.persistence import idempotency as store
from slotwise.services.errors import IdempotencyConflict

# How long a key is remembered: a client retrying a request it never got an
# answer to does so within minutes; a day covers a night's outage.
KEEP = timedelta(hours=24)


def fingerprint(**request: object) -> str:
    """SHA-256 of a request's content, to tell a replay from a different request."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def scope(target: str, action: str, actor: Actor) -> str:
    """Keys are remembered per target, action and way of asking: a widget's form
    nonce never meets a key an API client chose, nor one key two bookings.

    ``scope("site:3", "booking", widget customer)`` → ``"site:3:booking:customer:widget"``.
    """
    return f"{target}:{action}:{actor.kind}:{actor.ref or ''}"


@dataclass(frozen=True, slots=True)
class IdempotentWrite:
    scope: str
    key: str | None
    fingerprint: str

    async def replay(self, now: datetime) -> dict[str, Any] | None:
        """The first outcome of this request, if the key was used for it; raises for another request."""
        if self.key is None:
            return None
        stored = await store.find(self.scope, self.key, now=now)
        if stored is None:
            return None
        if stored.request_hash != self.fingerprint:
            raise IdempotencyConflict()
        return stored.result

    async def remember(self, result: dict[str, Any], now: datetime) -> None:
        if self.key is not None:
            await store.record(self.scope, self.key, request_hash=self.fingerprint, result=result,
                               now=now, keep=KEEP)
