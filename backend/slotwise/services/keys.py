"""API keys: created for one site with scopes, shown once, revoked at once, checked on every request.

A key is ``sw_live_`` (``sw_test_`` for a sandbox site) and 32 characters from ``secrets`` (192 random bits).
Only its SHA-256 is stored and looked up; the plain key is returned once, by
:func:`create_key`. Keys are not cached: :func:`authenticate` reads the key on
every request, so a revoke takes effect at the next request in every process.
``last_used_at`` is written at most once a minute per key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.audit import AuditAction
from slotwise.domain.keys import HINT_LENGTH, PREFIXES, ApiKey, key_prefix
from slotwise.domain.limits import NAME_MAX_LENGTH
from slotwise.domain.model import Site
from slotwise.persistence import keys as store
from slotwise.persistence import queries
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.services import audit, tokens
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str  # the key itself: shown to its creator once, never stored


def parse_scopes(raw: Iterable[str]) -> frozenset[Scope]:
    """Scope names as written ("bookings:read"); an unknown one is a field problem."""
    known = {str(scope): scope for scope in Scope}
    wanted = [name.strip() for name in raw if name.strip()]
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise InvalidInput([FieldProblem("scopes", "scope-unknown", {
            "value": ", ".join(unknown) or "(none)", "choices": ", ".join(known)})])
    return frozenset(known[name] for name in wanted)


async def create_key(site_slug: str, *, name: str, scopes: Iterable[Scope], expires_at: datetime | None,
                     actor: Actor, now: datetime) -> CreatedKey:
    """A new key for the site. ``actor`` is who created it (the command, or an owner)."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput([FieldProblem("name", "too-long" if name else "required",
                                         {"limit": NAME_MAX_LENGTH})])
    if expires_at is not None and expires_at <= now:
        raise InvalidInput([FieldProblem("expires_at", "date-in-past")])
    async with write_transaction(current_engine()):
        site = await queries.find_site(site_slug)
        if site is None:
            raise NotFound("site", site_slug)
        secret = key_prefix(site.sandbox) + secrets.token_urlsafe(24)
        key = await store.insert(
            public_id="key_" + secrets.token_hex(8), site_id=site.id, name=name,
            token_hash=tokens.hash_token(secret), hint=secret[:HINT_LENGTH],
            scopes=sorted(str(scope) for scope in scopes), expires_at=expires_at, now=now)
        await audit.record(site.id, actor=actor, now=now, via=_via(actor), kind="key", ref=key.public_id,
                           before=None, after=_audited(key))
    return CreatedKey(key=key, secret=secret)


async def revoke_key(public_id: str, *, actor: Actor, now: datetime) -> ApiKey:
    """Revoke at once; revoking a revoked key changes nothing."""
    async with write_transaction(current_engine()):
        key = await store.by_public_id(public_id)
        if key is None:
            raise NotFound("key", public_id)
        await store.revoke(key.id, now=now)
        revoked = await store.by_public_id(public_id)
        assert revoked is not None
        if key.revoked_at is None:
            await audit.record(key.site_id, actor=actor, now=now, via=_via(actor), kind="key", ref=public_id,
                               before=_audited(key), after=_audited(revoked), action=AuditAction.REVOKED)
    return revoked


def _audited(key: ApiKey) -> dict[str, object]:
    """A key as the audit log shows it: never its hash, nor its hint (part of the secret)."""
    return {"name": key.name, "scopes": sorted(str(scope) for scope in key.scopes),
            "expires_at": key.expires_at, "revoked_at": key.revoked_at}


def _via(actor: Actor) -> str:
    """Keys are made on the command line or, by a signed-in owner, in the back office (no key mints keys)."""
    return "command" if actor.kind is ActorKind.SYSTEM else "back-office"


async def keys_of(site_slug: str) -> list[ApiKey]:
    site = await queries.find_site(site_slug)
    if site is None:
        raise NotFound("site", site_slug)
    return await store.of_site(site.id)


async def authenticate(secret: str, *, now: datetime) -> ApiKey | None:
    """The usable key behind ``secret``, or None (unknown, revoked or expired: all alike)."""
    if not secret.startswith(PREFIXES) or len(secret) > 100:
        return None
    return await _usable(await store.by_token_hash(tokens.hash_token(secret)), now=now)


async def authenticate_for_site(secret: str, site_slug: str, *, now: datetime) -> tuple[ApiKey | None, Site | None]:
    """:func:`authenticate`, and the site called ``site_slug`` (or None) read with the key.

    One read instead of two for the admin routes, which name their site; the
    key is read afresh all the same. The site is only data here: whether the
    key may touch it is for ``services.access`` to decide.
    """
    if not secret.startswith(PREFIXES) or len(secret) > 100:
        return None, None
    key, site = await store.by_token_hash_with_site(tokens.hash_token(secret), site_slug)
    return await _usable(key, now=now), site


async def _usable(key: ApiKey | None, *, now: datetime) -> ApiKey | None:
    if key is None or not key.usable(now):
        return None
    if key.due_for_touch(now):
        await store.touch(key.id, now=now)
    return key
