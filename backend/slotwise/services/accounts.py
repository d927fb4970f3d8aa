"""The verbs of owner accounts: members, one-time links, passwords, sign-in and sessions.

Each public verb that writes does so in one write transaction. Tokens (of
sessions and one-time links) leave here once, in plain, to the caller; only
their SHA-256 is stored, and they are never logged. Passwords are hashed with
argon2id (``argon2-cffi``'s defaults: 64 MiB, 3 passes, 4 lanes, about 50–100 ms)
in a worker thread, never on the event loop.

Sign-in answers the same :class:`~slotwise.services.errors.SignInFailed` for an
unknown email, an account without a password, a disabled account and a wrong
password, and in each case verifies one argon2id hash (a dummy one when there
is no account), so neither the answer nor its time tells whether an account
exists. Failures are counted in the database per email typed and per client
address (``domain.accounts.ACCOUNT_LIMIT``, ``CLIENT_LIMIT``), so the limits hold
across processes; past a limit, sign-in answers
:class:`~slotwise.services.errors.SignInThrottled` without checking the password.

One-time links (invitation: 7 days, reset: 1 hour) are derived from a random
salt and the secret key, as manage links are: a queued email carries a
placeholder that the worker fills when it sends, so no working link is stored,
not even in the outbox. Setting a password uses the link up and revokes every
session of the account.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email

from slotwise.adapters.delivery import OutgoingEmail
from slotwise.domain.access import Role
from slotwise.domain.accounts import (
    ACCOUNT_LIMIT,
    CLIENT_LIMIT,
    SESSION_ABSOLUTE,
    Account,
    LinkPurpose,
    Membership,
    Session,
    membership_problem,
    normalise_email,
)
from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.model import ResourceKind, Site
from slotwise.i18n import DEFAULT_LOCALE, supported
from slotwise.persistence import accounts as store
from slotwise.persistence import outbox, queries
from slotwise.persistence.engine import current_engine, is_unique_violation, write_transaction
from slotwise.persistence.outbox import QueuedMessage
from slotwise.services import audit, links, tokens
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import email_to_json
from slotwise.services.email_content import header_value, render_part, single_line
from slotwise.services.errors import (
    FieldProblem,
    InvalidInput,
    LinkInvalid,
    MembershipRefused,
    NotFound,
    SignInFailed,
    SignInThrottled,
)

log = logging.getLogger("slotwise.accounts")

# NIST SP 800-63B: at least 8; long passphrases welcome, but argon2 of a
# megabyte on every sign-in attempt would be a cheap way to load the server.
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024
# How the emails of each link purpose are named in the outbox and the templates.
LINK_EVENTS = {LinkPurpose.INVITATION: "invitation", LinkPurpose.RESET: "password-reset"}
# Ended sessions, used links and old failures are deleted this long after they end.
RETENTION = SESSION_ABSOLUTE

_hasher = PasswordHasher()  # argon2id with the library's current defaults
_dummy_hash: str | None = None


# --- passwords ---------------------------------------------------------------------------


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def _verify(password_hash: str | None, password: str) -> bool:
    """Verify in a worker thread; without a hash, verify against a dummy one and fail (same cost)."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = await _hash(secrets.token_urlsafe(16))
        await asyncio.to_thread(_matches, _dummy_hash, password)
        return False
    return await asyncio.to_thread(_matches, password_hash, password)


def _checked_password(password: str) -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput([FieldProblem("password", "password-too-short", {"limit": PASSWORD_MIN_LENGTH})])
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput([FieldProblem("password", "too-long", {"limit": PASSWORD_MAX_LENGTH})])
    return password


def _checked_email(email: str) -> str:
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput([FieldProblem("email", "email-invalid")]) from None
    return normalise_email(valid.normalized)


def _by(actor: Actor) -> str:
    return f"{actor.kind}:{actor.ref or ''}"


# --- members -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddedMember:
    """What ``add_member`` did: ``membership_change`` is "added", "changed" or "unchanged"."""

    account: Account
    membership: Membership
    account_created: bool
    membership_change: str
    link_url: str  # the invitation: one-time, 7 days


async def add_member(
    email: str, *, site_slug: str, role: Role | str, resource: str | None = None, name: str | None = None,
    actor: Actor, now: datetime, config: ServiceConfig, send_invitation: bool = True,
) -> AddedMember:
    """Create the account if needed (idempotent on the email) and its membership of the site.

    A second call for the same email and site changes the role (and resource)
    in place. Always issues a new invitation link (7 days) and returns its
    URL; with ``send_invitation`` it is also emailed through the outbox.
    """
    email = _checked_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise MembershipRefused(f"unknown role {role!r}; use one of {', '.join(Role)}") from None
    problem = membership_problem(role, resource)
    if problem:
        raise MembershipRefused(problem)
    site = await queries.find_site(site_slug)
    if site is None:
        raise NotFound("site", site_slug)
    if resource is not None:
        found = (await queries.load_resources(site, [resource])).get(resource)
        if found is None:
            raise NotFound("resource", resource)
        if found.kind is not ResourceKind.PERSON:
            raise MembershipRefused(f"staff are bound to a person resource; {resource!r} is a {found.kind}")
    clean_name = single_line(name) if name is not None else None

    async def attempt() -> AddedMember:
        async with write_transaction(current_engine()):
            account = await store.find_account(email)
            created = account is None
            if account is None:
                account_id = await store.insert_account(
                    public_id=_new_public_id(), email=email, name=clean_name or "",
                    locale=supported(site.locale) or DEFAULT_LOCALE, now=now)
                account = await store.load_account(account_id)
            elif clean_name is not None and clean_name != account.name:
                await store.set_account_name(account.id, clean_name)
                account = await store.load_account(account.id)
            membership = Membership(account.id, site.id, site.slug, role, resource)
            existing = await store.find_membership(account.id, site.id)
            if existing is None:
                await store.insert_membership(membership, added_by=_by(actor), now=now)
                change = "added"
            elif existing != membership:
                await store.update_membership(membership, now=now)
                change = "changed"
            else:
                change = "unchanged"
            if change != "unchanged":
                await audit.record(site.id, actor=actor, now=now, via=_via(actor), kind="membership",
                                   ref=account.public_id, before=_audited(account, existing),
                                   after=_audited(account, membership))
            url = await _issue_link(account, LinkPurpose.INVITATION, site=site, role=role, actor=actor,
                                    now=now, config=config, send=send_invitation)
        return AddedMember(account, membership, created, change, url)

    try:
        return await attempt()
    except Exception as exc:
        # Two adds of one new email at once: one inserted it; the other now finds it.
        if not is_unique_violation(exc):
            raise
    return await attempt()


def _audited(account: Account, membership: Membership | None) -> dict[str, object] | None:
    """A membership as the audit log shows it: whose (their email), which role, which resource."""
    if membership is None:
        return None
    return {"email": account.email, "role": str(membership.role), "resource": membership.resource}


def _via(actor: Actor) -> str:
    return "command" if actor.kind is ActorKind.SYSTEM else "back-office"


def _new_public_id() -> str:
    return "acc_" + secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Member:
    account: Account
    memberships: tuple[Membership, ...]


async def list_members(site_slug: str | None = None) -> list[Member]:
    """The accounts with a membership of a site (every account without one), by email, with all their memberships."""
    site_id = None
    if site_slug is not None:
        site_id = await store.site_id_of(site_slug)
        if site_id is None:
            raise NotFound("site", site_slug)
    ids = await store.account_ids(site_id)
    accounts = await store.accounts_by_id(ids)
    memberships = await store.memberships_of(ids)
    return [Member(account, tuple(m for m in memberships if m.account_id == account.id))
            for account in accounts]


class LastOwner(MembershipRefused):
    """The change would leave the site without an owner: nobody could manage its team and keys."""


async def _site_and_membership(site_slug: str, account_public_id: str) -> tuple[int, Account, Membership]:
    site_id = await store.site_id_of(site_slug)
    if site_id is None:
        raise NotFound("site", site_slug)
    account = await store.find_account_by_public_id(account_public_id)
    membership = await store.find_membership(account.id, site_id) if account else None
    if account is None or membership is None:
        raise NotFound("member", account_public_id)
    return site_id, account, membership


async def change_member(site_slug: str, account_public_id: str, *, role: Role | str, resource: str | None,
                        actor: Actor, now: datetime) -> Membership:
    """Change a member's role (and resource, for staff) without a new invitation.

    Refuses (:class:`LastOwner`) to turn the site's last owner into anything else.
    """
    try:
        role = Role(role)
    except ValueError:
        raise MembershipRefused(f"unknown role {role!r}; use one of {', '.join(Role)}") from None
    resource = resource if role is Role.STAFF else None
    problem = membership_problem(role, resource)
    if problem:
        raise MembershipRefused(problem)
    if resource is not None:
        site = await queries.find_site(site_slug)
        if site is None:
            raise NotFound("site", site_slug)
        found = (await queries.load_resources(site, [resource])).get(resource)
        if found is None:
            raise NotFound("resource", resource)
        if found.kind is not ResourceKind.PERSON:
            raise MembershipRefused(f"staff are bound to a person resource; {resource!r} is a {found.kind}")
    async with write_transaction(current_engine()):
        site_id, account, existing = await _site_and_membership(site_slug, account_public_id)
        changed = Membership(account.id, site_id, existing.site_slug, role, resource)
        if changed == existing:
            return existing
        if existing.role is Role.OWNER and role is not Role.OWNER and await store.owner_count(site_id) <= 1:
            raise LastOwner("the site's last owner stays an owner")
        await store.update_membership(changed, now=now)
        await audit.record(site_id, actor=actor, now=now, via=_via(actor), kind="membership",
                           ref=account.public_id, before=_audited(account, existing),
                           after=_audited(account, changed))
    return changed


async def remove_member(site_slug: str, account_public_id: str, *, actor: Actor, now: datetime) -> None:
    """End a membership (the account stays: it may belong to other sites). Never the site's last owner.

    Its sessions need no revoking: every request reads the memberships anew.
    """
    async with write_transaction(current_engine()):
        site_id, account, existing = await _site_and_membership(site_slug, account_public_id)
        if existing.role is Role.OWNER and await store.owner_count(site_id) <= 1:
            raise LastOwner("the site's last owner cannot be removed")
        await store.delete_membership(account.id, site_id)
        await audit.record(site_id, actor=actor, now=now, via=_via(actor), kind="membership",
                           ref=account.public_id, before=_audited(account, existing), after=None)


# --- one-time links ------------------------------------------------------------------------


async def _issue_link(
    account: Account, purpose: LinkPurpose, *, site: Site | None, role: Role | None, actor: Actor,
    now: datetime, config: ServiceConfig, send: bool,
) -> str:
    """Store a new link and, with ``send``, queue its email; inside the caller's transaction."""
    await store.delete_links_expired_before(now - RETENTION)
    salt = tokens.new_salt()
    token = tokens.account_link_token(config.secret_key, salt)
    message_uid = uuid.uuid4() if send else None
    await store.insert_link(
        account_id=account.id, site_id=site.id if site else None, purpose=purpose,
        token_hash=tokens.hash_token(token), salt=salt, message_uid=message_uid, issued_by=_by(actor),
        now=now, expires_at=now + purpose.lifetime,
    )
    if message_uid is not None:
        email = _link_email(account, purpose, site=site, role=role, config=config, uid=message_uid)
        await outbox.queue([QueuedMessage(
            uid=message_uid, site_id=site.id if site else None, booking_id=None, event=LINK_EVENTS[purpose],
            channel="email", recipient=account.email, content=email_to_json(email), send_at=now,
        )], now=now)
    return links.set_password_url(config.messaging.base_url, token)


def _link_email(account: Account, purpose: LinkPurpose, *, site: Site | None, role: Role | None,
                config: ServiceConfig, uid: uuid.UUID) -> OutgoingEmail:
    """The email that carries a link, with a placeholder for its token (filled by the worker)."""
    locale = supported(account.locale) or DEFAULT_LOCALE
    event = LINK_EVENTS[purpose]
    variables = {
        "locale": locale,
        "site": {"name": single_line(site.name) if site else ""},
        "account": {"name": single_line(account.name), "email": account.email},
        "role": str(role) if role else "",
        "link_url": links.set_password_url(config.messaging.base_url, tokens.ACCOUNT_LINK_PLACEHOLDER),
    }
    messaging = config.messaging
    return OutgoingEmail(
        to=header_value(account.email),
        from_address=header_value(messaging.mail_from),
        from_name=header_value(site.name if site else "Slotwise"),
        reply_to=None,
        subject=header_value(render_part(event, locale, "subject.txt", variables)),
        text=render_part(event, locale, "txt", variables),
        html=render_part(event, locale, "html", variables),
        message_id=header_value(messaging.message_id(uid)),
    )


async def request_password_reset(email: str, *, now: datetime, config: ServiceConfig) -> None:
    """Email a reset link (1 hour) to the account of ``email``, if there is one that may sign in.

    Answers the same whether or not the account exists; the email only goes to
    the account's own address.
    """
    address = normalise_email(email)
    async with write_transaction(current_engine()):
        account = await store.find_account(address)
        if account is None or account.disabled:
            return
        await _issue_link(account, LinkPurpose.RESET, site=None, role=None, actor=account.actor,
                          now=now, config=config, send=True)


@dataclass(frozen=True, slots=True)
class LinkInfo:
    account: Account
    purpose: LinkPurpose


async def check_link(token: str, *, now: datetime) -> LinkInfo:
    """Whom a one-time link is for, while it may still be used; else :class:`LinkInvalid`."""
    link = await store.find_link(tokens.hash_token(token))
    _usable(link, now)
    return LinkInfo(await store.load_account(link.account_id), link.purpose)


def _usable(link: store.StoredLink | None, now: datetime) -> None:
    if link is None:
        raise LinkInvalid("unknown")
    if link.used_at is not None:
        raise LinkInvalid("used")
    if now >= link.expires_at:
        raise LinkInvalid("expired")


async def set_password(token: str, password: str, *, now: datetime) -> Account:
    """Set the password of the link's account; the link is used up and every session revoked."""
    _checked_password(password)
    token_hash = tokens.hash_token(token)
    _usable(await store.find_link(token_hash), now)
    password_hash = await _hash(password)  # outside the transaction: it takes 50-100 ms
    async with write_transaction(current_engine()):
        link = await store.find_link(token_hash)
        _usable(link, now)
        if not await store.use_link(link.id, now):
            raise LinkInvalid("used")
        await store.set_password_hash(link.account_id, password_hash)
        revoked = await store.revoke_sessions_of(link.account_id, now)
        account = await store.load_account(link.account_id)
    log.info("password of %s set by a %s link; %d sessions revoked", account.public_id, link.purpose, revoked)
    return account


# --- sign-in and sessions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie, once; only its hash is stored."""

    token: str
    account: Account
    session: Session


async def sign_in(
    email: str, password: str, *, client_address: str, user_agent: str = "", now: datetime,
) -> SignedIn:
    """Check the password and start a session; see the module docstring for failures and limits."""
    address = normalise_email(email)[:254]
    client_address = client_address[:64]
    by_email, by_client = await store.count_failures(
        email=address, client_address=client_address, email_since=now - ACCOUNT_LIMIT.window,
        client_since=now - CLIENT_LIMIT.window)
    if ACCOUNT_LIMIT.exceeded(by_email) or CLIENT_LIMIT.exceeded(by_client):
        # At most this long: the oldest counted failure ages out sooner.
        raise SignInThrottled(int(max(ACCOUNT_LIMIT.window, CLIENT_LIMIT.window).total_seconds()))

    found = await store.password_hash_of(address)
    account, password_hash = found if found else (None, None)
    ok = await _verify(password_hash, password[:PASSWORD_MAX_LENGTH])
    if not ok or account is None or account.disabled:
        async with write_transaction(current_engine()):
            await store.delete_failures_before(now - RETENTION)
            await store.add_failure(email=address, client_address=client_address, now=now)
        raise SignInFailed()

    new_hash = None
    if _hasher.check_needs_rehash(password_hash):  # the parameters were raised since
        new_hash = await _hash(password)
    token = tokens.new_token()
    async with write_transaction(current_engine()):
        await store.delete_sessions_ended_before(now - RETENTION)
        session_id = await store.insert_session(
            account_id=account.id, token_hash=tokens.hash_token(token), now=now,
            expires_at=now + SESSION_ABSOLUTE, user_agent=single_line(user_agent)[:255],
            client_address=client_address)
        await store.record_sign_in(account.id, now)
        await store.forget_failures(email=address)
        if new_hash is not None:
            await store.set_password_hash(account.id, new_hash)
        account = await store.load_account(account.id)
    return SignedIn(token, account, Session(session_id, account.id, now, now))


@dataclass(frozen=True, slots=True)
class CurrentSession:
    account: Account
    session: Session
    memberships: tuple[Membership, ...]
    # The site the page names, read with the session (one round trip fewer);
    # whether the account may see it is still services.access's to decide.
    site: Site | None = None


async def current_session(token: str, *, now: datetime, site_slug: str | None = None) -> CurrentSession | None:
    """The signed-in account of a session token, or None when the session is over.

    Over: unknown, revoked, idle for 14 days, 30 days old, or its account
    disabled. A live session's ``last_seen_at`` is written at most once a minute.
    With ``site_slug``, the site of that name comes along (None when there is none).
    """
    # Never stale: on PostgreSQL kept in memory only until a change to a session,
    # an account, a membership or a site (persistence.change_feed), so a revoke
    # counts on the next page.
    found = await store.find_current(tokens.hash_token(token), site_slug)
    if found is None:
        return None
    session, account, memberships, site = found
    if not session.is_valid(now) or account.disabled:
        return None
    if session.needs_touch(now):
        async with write_transaction(current_engine()):
            await store.touch_session(session.id, now)
        session = Session(session.id, session.account_id, session.created_at, now, session.revoked_at)
    return CurrentSession(account, session, tuple(memberships), site)


async def sign_out(token: str, *, now: datetime) -> None:
    """End one session (this browser's). An unknown or ended session is no error."""
    session = await store.find_session(tokens.hash_token(token))
    if session is None:
        return
    async with write_transaction(current_engine()):
        await store.revoke_session(session.id, now)


async def sign_out_everywhere(account_public_id: str, *, actor: Actor, now: datetime) -> int:
    """Revoke every session of an account; returns how many were live."""
    account = await store.find_account_by_public_id(account_public_id)
    if account is None:
        raise NotFound("account", account_public_id)
    async with write_transaction(current_engine()):
        revoked = await store.revoke_sessions_of(account.id, now)
    log.info("%d sessions of %s revoked by %s", revoked, account.public_id, _by(actor))
    return revoked
