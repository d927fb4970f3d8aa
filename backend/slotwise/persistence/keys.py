"""API key rows, read as domain values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain.access import Scope
from slotwise.domain.keys import ApiKey
from slotwise.domain.model import Site
from slotwise.persistence import queries
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import current_engine, postgres_fetch
from slotwise.persistence.tables import ApiKey as ApiKeyRow


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"], public_id=row["public_id"], site_id=row["site"], name=row["name"],
        hint=row["hint"], scopes=frozenset(Scope(s) for s in row["scopes"]),
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


async def insert(*, public_id: str, site_id: int, name: str, token_hash: str, hint: str,
                 scopes: list[str], expires_at: datetime | None, now: datetime) -> ApiKey:
    await ApiKeyRow.insert(ApiKeyRow(
        public_id=public_id, site=site_id, name=name, token_hash=token_hash, hint=hint,
        scopes=scopes, created_at=now, expires_at=expires_at))
    found = await by_public_id(public_id)
    assert found is not None
    return found


# Every admin request reads its key (never cached: a revoke must stop the next
# request in every process). On PostgreSQL a plain statement: building the
# Piccolo query cost more CPU than the lookup (docs/decisions.md, Performance).
_POSTGRES_BY_HASH = (
    "SELECT id, public_id, site, name, hint, scopes, created_at, expires_at, revoked_at, last_used_at"
    " FROM api_key WHERE token_hash = $1"
)


async def by_token_hash(token_hash: str) -> ApiKey | None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        rows = await postgres_fetch(engine, _POSTGRES_BY_HASH, token_hash)
        return _key({**rows[0], "scopes": json.loads(rows[0]["scopes"])}) if rows else None
    row = await ApiKeyRow.select().where(ApiKeyRow.token_hash == token_hash).first().output(load_json=True)
    return _key(row) if row else None


# The key and the site an admin route names, in one statement on PostgreSQL:
# one round trip fewer on every admin request.
_POSTGRES_BY_HASH_WITH_SITE = (
    "SELECT k.id, k.public_id, k.site, k.name, k.hint, k.scopes, k.created_at, k.expires_at,"
    " k.revoked_at, k.last_used_at, "
    + ", ".join(f"s.{column} AS site_{column}" for column in queries.SITE_COLUMNS)
    + " FROM api_key AS k LEFT JOIN site AS s ON s.slug = $2 WHERE k.token_hash = $1"
)


# Keys with the site their route names, on PostgreSQL kept until either table
# changes (change_feed): a revoke or a new expiry clears it in every process.
_with_site_cache: TableCache[tuple[str, str], tuple[ApiKey | None, Site | None]] = TableCache(
    "api_key", "site", size=1024,
)


async def by_token_hash_with_site(token_hash: str, site_slug: str) -> tuple[ApiKey | None, Site | None]:
    """The key with this hash and the site called ``site_slug``; each None when there is none.

    On SQLite the site is read only when the key exists.
    """
    engine = current_engine()
    if not isinstance(engine, PostgresEngine):
        key = await by_token_hash(token_hash)
        return key, (await queries.find_site(site_slug) if key else None)

    async def load() -> tuple[ApiKey | None, Site | None]:
        rows = await postgres_fetch(engine, _POSTGRES_BY_HASH_WITH_SITE, token_hash, site_slug)
        if not rows:
            return None, None
        row = rows[0]
        key = _key({**row, "scopes": json.loads(row["scopes"])})
        return key, (queries.site_from_record(row, "site_") if row["site_id"] is not None else None)

    return await _with_site_cache.get((token_hash, site_slug), load)


async def by_public_id(public_id: str) -> ApiKey | None:
    row = await ApiKeyRow.select().where(ApiKeyRow.public_id == public_id).first().output(load_json=True)
    return _key(row) if row else None


async def of_site(site_id: int) -> list[ApiKey]:
    rows = await (ApiKeyRow.select().where(ApiKeyRow.site == site_id).order_by(ApiKeyRow.id)
                  .output(load_json=True))
    return [_key(row) for row in rows]


async def revoke(key_id: int, *, now: datetime) -> None:
    await ApiKeyRow.update({ApiKeyRow.revoked_at: now}).where(
        (ApiKeyRow.id == key_id) & ApiKeyRow.revoked_at.is_null())


async def touch(key_id: int, *, now: datetime) -> None:
    await ApiKeyRow.update({ApiKeyRow.last_used_at: now}).where(ApiKeyRow.id == key_id)
