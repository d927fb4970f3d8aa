"""Calendar feed rows: one per resource or site, found by the SHA-256 of its token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slotwise.persistence.tables import Feed, Resource, Site


@dataclass(frozen=True, slots=True)
class StoredFeed:
    site_id: int
    resource_id: int | None  # None: the whole site
    target: str
    created_at: datetime
    content_hash: str
    changed_at: datetime | None


def target_of(site_id: int, resource_id: int | None) -> str:
    """The unique name of what a feed shows: ``site:3`` or ``resource:17``."""
    return f"site:{site_id}" if resource_id is None else f"resource:{resource_id}"


def _stored(row: dict) -> StoredFeed:
    return StoredFeed(site_id=row["site"], resource_id=row["resource"], target=row["target"],
                      created_at=row["created_at"], content_hash=row["content_hash"],
                      changed_at=row["changed_at"])


async def find_by_target(target: str) -> StoredFeed | None:
    row = await Feed.select().where(Feed.target == target).first()
    return _stored(row) if row else None


async def find_by_token_hash(token_hash: str) -> StoredFeed | None:
    """One indexed equality lookup of a hash: how long it takes says nothing about the token."""
    row = await Feed.select().where(Feed.token_hash == token_hash).first()
    return _stored(row) if row else None


async def put(site_id: int, resource_id: int | None, *, token_hash: str, now: datetime) -> None:
    """Give the target a new token; the old one stops working in the same statement."""
    await Feed.insert(
        Feed(site=site_id, resource=resource_id, target=target_of(site_id, resource_id),
             token_hash=token_hash, created_at=now, content_hash="", changed_at=None)
    ).on_conflict(target=Feed.target, action="DO UPDATE",
                  values=[Feed.token_hash, Feed.created_at, Feed.content_hash, Feed.changed_at])


async def mark_served(token_hash: str, *, content_hash: str, changed_at: datetime) -> None:
    """Remember a new body and when it was first served (its Last-Modified)."""
    await Feed.update({Feed.content_hash: content_hash, Feed.changed_at: changed_at}).where(
        Feed.token_hash == token_hash)


async def site_row(site_id: int) -> dict | None:
    return await Site.select().where(Site.id == site_id).first().output(load_json=True)


async def resource_name(resource_id: int) -> str | None:
    row = await Resource.select(Resource.name).where(Resource.id == resource_id).first()
    return row["name"] if row else None
