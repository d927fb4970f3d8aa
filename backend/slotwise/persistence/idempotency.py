"""Stored outcomes of writes sent with an idempotency key (table ``idempotency_key``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slotwise.persistence.tables import IdempotencyKey


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    request_hash: str
    result: dict[str, Any]


async def find(scope: str, key: str, *, now: datetime) -> StoredOutcome | None:
    """The outcome stored for ``key`` in ``scope``, unless it has expired."""
    row = await (
        IdempotencyKey.select(IdempotencyKey.request_hash, IdempotencyKey.result)
        .where((IdempotencyKey.scope == scope) & (IdempotencyKey.key == key)
               & (IdempotencyKey.expires_at > now))
        .first()
        .output(load_json=True)
    )
    return StoredOutcome(row["request_hash"], row["result"] or {}) if row else None


async def record(scope: str, key: str, *, request_hash: str, result: dict[str, Any], now: datetime,
                 keep: timedelta) -> None:
    """Store the outcome; an expired one of the same key is replaced, so keys can be reused after they lapse."""
    await IdempotencyKey.delete().where((IdempotencyKey.scope == scope) & (IdempotencyKey.key == key))
    await IdempotencyKey.insert(IdempotencyKey(scope=scope, key=key, request_hash=request_hash,
                                               result=result, created_at=now, expires_at=now + keep))
