"""Queries over accounts, memberships, sessions, one-time links and sign-in failures.

Rows come back as the domain's types (``domain/accounts.py``); tokens only
ever arrive here as their SHA-256. Writes run inside the caller's transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain.access import Role
from slotwise.domain.accounts import Account, LinkPurpose, Membership, Session
from slotwise.domain import model
from slotwise.persistence import queries
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import current_engine, postgres_fetch
from slotwise.persistence.tables import Account as AccountRow
from slotwise.persistence.tables import AccountSession, AccountToken, SignInFailure, Site
from slotwise.persistence.tables import Membership as MembershipRow

# --- accounts ---------------------------------------------------------------------------


def account_from_row(row: dict[str, Any]) -> Account:
    return Account(
        id=row["id"], public_id=row["public_id"], email=row["email"], name=row["name"],
        locale=row["locale"], has_password=row["password_hash"] is not None, disabled=row["disabled"],
        created_at=row["created_at"], last_sign_in_at=row["last_sign_in_at"],
    )


async def find_account(email: str) -> Account | None:
    """The account of a normalised email."""
    row = await AccountRow.select().where(AccountRow.email == email).first()
    return account_from_row(row) if row else None


async def find_account_by_public_id(public_id: str) -> Account | None:
    row = await AccountRow.select().where(AccountRow.public_id == public_id).first()
    return account_from_row(row) if row else None


async def load_account(account_id: int) -> Account:
    row = await AccountRow.select().where(AccountRow.id == account_id).first()
    if row is None:
        raise LookupError(f"account {account_id} not found")
    return account_from_row(row)


async def password_hash_of(email: str) -> tuple[Account, str | None] | None:
    """The account of a normalised email and its password hash (None until set)."""
    row = await AccountRow.select().where(AccountRow.email == email).first()
    return (account_from_row(row), row["password_hash"]) if row else None


async def insert_account(*, public_id: str, email: str, name: str, locale: str, now: datetime) -> int:
    [row] = await AccountRow.insert(
        AccountRow(public_id=public_id, email=email, name=name, locale=locale, created_at=now)
    ).returning(AccountRow.id)
    return row["id"]


async def set_account_name(account_id: int, name: str) -> None:
    await AccountRow.update({AccountRow.name: name}).where(AccountRow.id == account_id)


async def set_password_hash(account_id: int, password_hash: str) -> None:
    await AccountRow.update({AccountRow.password_hash: password_hash}).where(AccountRow.id == account_id)


async def record_sign_in(account_id: int, now: datetime) -> None:
    await AccountRow.update({AccountRow.last_sign_in_at: now}).where(AccountRow.id == account_id)


# --- memberships ------------------------------------------------------------------------


def _membership(row: dict[str, Any]) -> Membership:
    return Membership(account_id=row["account"], site_id=row["site"], site_slug=row["site.slug"],
                      role=Role(row["role"]), resource=row["resource_key"])


_MEMBERSHIP_COLUMNS = (MembershipRow.account, MembershipRow.site, MembershipRow.site.slug,
                       MembershipRow.role, MembershipRow.resource_key)


async def find_membership(account_id: int, site_id: int) -> Membership | None:
    row = await MembershipRow.select(*_MEMBERSHIP_COLUMNS).where(
        (MembershipRow.account == account_id) & (MembershipRow.site == site_id)).first()
    return _membership(row) if row else None


async def memberships_of(account_ids: Sequence[int]) -> list[Membership]:
    """The memberships of these accounts, by site slug."""
    if not account_ids:
        return []
    rows = await MembershipRow.select(*_MEMBERSHIP_COLUMNS).where(
        MembershipRow.account.is_in(list(account_ids))).order_by(MembershipRow.site.slug)
    return [_membership(row) for row in rows]


async def insert_membership(membership: Membership, *, added_by: str, now: datetime) -> None:
    await MembershipRow.insert(MembershipRow(
        account=membership.account_id, site=membership.site_id, role=str(membership.role),
        resource_key=membership.resource, added_by=added_by, created_at=now, updated_at=now,
    ))


async def update_membership(membership: Membership, *, now: datetime) -> None:
    await MembershipRow.update(
        {MembershipRow.role: str(membership.role), MembershipRow.resource_key: membership.resource,
         MembershipRow.updated_at: now}
    ).where((MembershipRow.account == membership.account_id) & (MembershipRow.site == membership.site_id))


async def delete_membership(account_id: int, site_id: int) -> None:
    await MembershipRow.delete().where((MembershipRow.account == account_id) & (MembershipRow.site == site_id))


async def owner_count(site_id: int) -> int:
    """How many owners the site has, read inside the transaction that would change one.

    On PostgreSQL the owners' rows are locked (``FOR UPDATE``): two owners
    demoting each other at once then run one after the other, and the second
    sees one owner left. SQLite's write transactions are serial already.
    """
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        rows = await postgres_fetch(engine, "SELECT id FROM membership WHERE site = $1 AND role = 'owner' FOR UPDATE",
                                    site_id)
        return len(rows)
    return await MembershipRow.count().where((MembershipRow.site == site_id) & (MembershipRow.role == "owner"))


async def account_ids(site_id: int | None) -> list[int]:
    """The accounts with a membership of a site (every account when ``site_id`` is None), by email."""
    query = AccountRow.select(AccountRow.id).order_by(AccountRow.email)
    if site_id is not None:
        members = MembershipRow.select(MembershipRow.account).where(MembershipRow.site == site_id)
        query = query.where(AccountRow.id.is_in(members))
    return [row["id"] for row in await query]


async def accounts_by_id(ids: Sequence[int]) -> list[Account]:
    if not ids:
        return []
    rows = await AccountRow.select().where(AccountRow.id.is_in(list(ids))).order_by(AccountRow.email)
    return [account_from_row(row) for row in rows]


async def site_id_of(slug: str) -> int | None:
    row = await Site.select(Site.id).where(Site.slug == slug).first()
    return row["id"] if row else None


# --- sessions ---------------------------------------------------------------------------


def _session(row: dict[str, Any]) -> Session:
    return Session(id=row["id"], account_id=row["account"], created_at=row["created_at"],
                   last_seen_at=row["last_seen_at"], revoked_at=row["revoked_at"])


async def insert_session(*, account_id: int, token_hash: str, now: datetime, expires_at: datetime,
                         user_agent: str, client_address: str) -> int:
    [row] = await AccountSession.insert(AccountSession(
        token_hash=token_hash, account=account_id, created_at=now, last_seen_at=now,
        expires_at=expires_at, user_agent=user_agent, client_address=client_address,
    )).returning(AccountSession.id)
    return row["id"]


async def find_session(token_hash: str) -> Session | None:
    row = await AccountSession.select().where(AccountSession.token_hash == token_hash).first()
    return _session(row) if row else None


# A back-office page's session, its account and memberships in one PostgreSQL
# statement (every page asks; kept only until a revoke or a changed role, below).
# Memberships by site slug, as ``memberships_of`` orders them. The
# site a page names comes along (its columns as ``site_…``, NULL for none or
# when no slug is given): one round trip fewer on every page of a site.
_POSTGRES_CURRENT = f"""
SELECT s.id, s.account, s.created_at, s.last_seen_at, s.revoked_at,
       a.public_id, a.email, a.name, a.locale, a.password_hash IS NOT NULL AS has_password, a.disabled,
       a.created_at AS account_created_at, a.last_sign_in_at,
       (SELECT json_agg(json_build_array(m.site, t.slug, m.role, m.resource_key) ORDER BY t.slug)
        FROM membership AS m JOIN site AS t ON t.id = m.site WHERE m.account = a.id) AS memberships,
       {", ".join(f"named.{column} AS site_{column}" for column in queries.SITE_COLUMNS)}
FROM account_session AS s JOIN account AS a ON a.id = s.account LEFT JOIN site AS named ON named.slug = $2
WHERE s.token_hash = $1"""


# What ``find_current`` answers, on PostgreSQL kept until one of its tables
# changes (change_feed): a sign-out, a revoke, a disabled account, a changed
# role or site clears it at once in this process and on the notice in every
# other. The session's validity (idle, absolute end) is still judged on every
# page against the clock; touching ``last_seen_at`` (once a minute) clears it.
_current_cache: TableCache[tuple[str, str | None],
                           tuple[Session, Account, list[Membership], model.Site | None] | None] = TableCache(
    "account_session", "account", "membership", "site", size=1024,
)


async def find_current(token_hash: str, site_slug: str | None = None
                       ) -> tuple[Session, Account, list[Membership], model.Site | None] | None:
    """A session by its token's hash with its account, the account's memberships, whatever its state,
    and the site called ``site_slug`` (None: no such site, or no slug given).

    One plain statement on PostgreSQL, kept until its tables change; the
    Piccolo queries elsewhere (the site's only when the session exists).
    """
    engine = current_engine()
    if not isinstance(engine, PostgresEngine):
        session = await find_session(token_hash)
        if session is None:
            return None
        return (session, await load_account(session.account_id), await memberships_of([session.account_id]),
                await queries.find_site(site_slug) if site_slug is not None else None)

    async def load() -> tuple[Session, Account, list[Membership], model.Site | None] | None:
        rows = await postgres_fetch(engine, _POSTGRES_CURRENT, token_hash, site_slug)
        if not rows:
            return None
        row = rows[0]
        account = Account(id=row["account"], public_id=row["public_id"], email=row["email"], name=row["name"],
                          locale=row["locale"], has_password=row["has_password"], disabled=row["disabled"],
                          created_at=row["account_created_at"], last_sign_in_at=row["last_sign_in_at"])
        memberships = [Membership(account_id=account.id, site_id=site_id, site_slug=slug, role=Role(role),
                                  resource=resource)
                       for site_id, slug, role, resource in json.loads(row["memberships"] or "[]")]
        site = queries.site_from_record(row, "site_") if row["site_id"] is not None else None
        return _session(row), account, memberships, site

    return await _current_cache.get((token_hash, site_slug), load)


async def touch_session(session_id: int, now: datetime) -> None:
    await AccountSession.update({AccountSession.last_seen_at: now}).where(AccountSession.id == session_id)


async def revoke_session(session_id: int, now: datetime) -> None:
    await AccountSession.update({AccountSession.revoked_at: now}).where(
        (AccountSession.id == session_id) & AccountSession.revoked_at.is_null())


async def revoke_sessions_of(account_id: int, now: datetime) -> int:
    """Revoke every live session of an account; returns how many were live."""
    rows = await AccountSession.update({AccountSession.revoked_at: now}).where(
        (AccountSession.account == account_id) & AccountSession.revoked_at.is_null()
    ).returning(AccountSession.id)
    return len(rows)


async def delete_sessions_ended_before(before: datetime) -> None:
    """Sessions past their absolute end (revoked or not) are of no further use."""
    await AccountSession.delete().where(AccountSession.expires_at < before)


# --- one-time links ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredLink:
    id: int
    account_id: int
    purpose: LinkPurpose
    expires_at: datetime
    used_at: datetime | None


async def insert_link(*, account_id: int, site_id: int | None, purpose: LinkPurpose, token_hash: str,
                      salt: str, message_uid: uuid.UUID | None, issued_by: str, now: datetime,
                      expires_at: datetime) -> None:
    await AccountToken.insert(AccountToken(
        token_hash=token_hash, salt=salt, account=account_id, site=site_id, purpose=str(purpose),
        message_uid=message_uid, issued_by=issued_by, created_at=now, expires_at=expires_at,
    ))


async def find_link(token_hash: str) -> StoredLink | None:
    row = await AccountToken.select().where(AccountToken.token_hash == token_hash).first()
    if row is None:
        return None
    return StoredLink(id=row["id"], account_id=row["account"], purpose=LinkPurpose(row["purpose"]),
                      expires_at=row["expires_at"], used_at=row["used_at"])


async def use_link(link_id: int, now: datetime) -> bool:
    """Mark a link used; False when it already was (two uses racing: one wins)."""
    rows = await AccountToken.update({AccountToken.used_at: now}).where(
        (AccountToken.id == link_id) & AccountToken.used_at.is_null()
    ).returning(AccountToken.id)
    return bool(rows)


async def link_salt_for_message(message_uid: str) -> str | None:
    """The salt of the link an outbox message carries, for the worker to derive the token."""
    row = await AccountToken.select(AccountToken.salt).where(
        AccountToken.message_uid == uuid.UUID(str(message_uid))).first()
    return row["salt"] if row else None


async def delete_links_expired_before(before: datetime) -> None:
    await AccountToken.delete().where(AccountToken.expires_at < before)


# --- sign-in failures -------------------------------------------------------------------


async def count_failures(*, email: str, client_address: str, email_since: datetime,
                         client_since: datetime) -> tuple[int, int]:
    """Failures after the given instants: (of this email, from this client)."""
    by_email = await SignInFailure.count().where(
        (SignInFailure.email == email) & (SignInFailure.created_at > email_since))
    by_client = await SignInFailure.count().where(
        (SignInFailure.client_address == client_address) & (SignInFailure.created_at > client_since))
    return by_email, by_client


async def add_failure(*, email: str, client_address: str, now: datetime) -> None:
    await SignInFailure.insert(SignInFailure(email=email, client_address=client_address, created_at=now))


async def forget_failures(*, email: str) -> None:
    await SignInFailure.delete().where(SignInFailure.email == email)


async def delete_failures_before(before: datetime) -> None:
    await SignInFailure.delete().where(SignInFailure.created_at < before)


async def staff_emails(site_id: int, resource_keys: Sequence[str], *,
                       except_account: str | None = None) -> list[str]:
    """The emails of the site's staff accounts bound to these resources (not disabled), in order;
    without the account whose public id is ``except_account`` (the one who made the change)."""
    if not resource_keys:
        return []
    rows = await (
        MembershipRow.select(MembershipRow.account.email.as_alias("email"),
                             MembershipRow.account.public_id.as_alias("public_id"))
        .where((MembershipRow.site == site_id) & (MembershipRow.role == "staff")
               & MembershipRow.resource_key.is_in(list(resource_keys))
               & MembershipRow.account.disabled.eq(False))
        .order_by(MembershipRow.account.email)
    )
    return [row["email"] for row in rows if row["public_id"] != except_account]
