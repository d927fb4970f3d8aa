"""Owner accounts, their memberships and sessions: value types and the pure rules. No I/O.

An :class:`Account` is a person who signs in; a :class:`Membership` gives it a
:class:`~slotwise.domain.access.Role` on one site (``staff`` bound to a person
resource) and becomes a :class:`~slotwise.domain.access.Grant` for
:func:`~slotwise.domain.access.decide`. A :class:`Session` is one signed-in
browser, judged here as a function of ``now``:

- it ends **14 days after it was last seen** (idle expiry),
- and **30 days after it began**, however busy (absolute expiry),
- and at once when revoked (signing out, "sign out everywhere", a password reset).

Worked example: a session begun on 1 March and used daily ends on 31 March;
one begun on 1 March and last seen on 3 March ends on 17 March.

One-time links (:class:`LinkPurpose`) last 7 days for an invitation and one
hour for a password reset. Failed sign-ins are limited per email typed and per
client address (:data:`ACCOUNT_LIMIT`, :data:`CLIENT_LIMIT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slotwise.domain.access import Grant, Role
from slotwise.domain.actors import Actor, ActorKind

SESSION_IDLE = timedelta(days=14)
SESSION_ABSOLUTE = timedelta(days=30)
# A session's last_seen_at is written at most this often: a page load per second
# must not be a write per second, and 14 days of idle expiry don't need more.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    RESET = "reset"

    @property
    def lifetime(self) -> timedelta:
        return LINK_LIFETIMES[self]


LINK_LIFETIMES = {LinkPurpose.INVITATION: timedelta(days=7), LinkPurpose.RESET: timedelta(hours=1)}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``failures`` failed sign-ins within ``window``; the next attempt is refused until one ages out."""

    failures: int
    window: timedelta

    def exceeded(self, recent_failures: int) -> bool:
        return recent_failures >= self.failures


# Per email typed (known or not): slows guessing one account's password to
# 40 guesses an hour. Per client address: one address trying many accounts.
ACCOUNT_LIMIT = RateLimit(failures=10, window=timedelta(minutes=15))
CLIENT_LIMIT = RateLimit(failures=30, window=timedelta(minutes=15))


def normalise_email(email: str) -> str:
    """The form an email is stored and looked up in: trimmed, lower-case.

    Strictly the local part may be case-sensitive, but no mail system in use
    treats ``Anna@`` and ``anna@`` as two people, and two accounts for them
    would be a trap.
    """
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class Account:
    """A person who signs in. ``id`` is the database's; ``public_id`` (``acc_…``) is the one shown and logged."""

    id: int
    public_id: str
    email: str
    name: str
    locale: str
    has_password: bool
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        """Who acts when this account changes something."""
        return Actor(ActorKind.ACCOUNT, self.public_id, self.name or self.email)


@dataclass(frozen=True, slots=True)
class Membership:
    """An account's role on one site; ``resource`` is the person resource a ``staff`` member is."""

    account_id: int
    site_id: int
    site_slug: str
    role: Role
    resource: str | None = None

    def __post_init__(self) -> None:
        problem = membership_problem(self.role, self.resource)
        if problem:
            raise ValueError(problem)

    def grant(self) -> Grant:
        return Grant.membership(self.site_id, self.role, self.resource)


def membership_problem(role: Role, resource: str | None) -> str | None:
    """What is wrong with a membership of ``role`` bound to ``resource``, or None."""
    if role is Role.STAFF and not resource:
        return "a staff member must be bound to a person resource"
    if role is not Role.STAFF and resource:
        return f"only staff are bound to a resource, not {role}"
    return None


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"  # not seen for SESSION_IDLE
    EXPIRED = "expired"  # SESSION_ABSOLUTE after it began
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    account_id: int
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        """When it ends if it is used until then (the earlier of idle and absolute expiry)."""
        return min(self.last_seen_at + SESSION_IDLE, self.created_at + SESSION_ABSOLUTE)

    def state(self, now: datetime) -> SessionState:
        if self.revoked_at is not None and self.revoked_at <= now:
            return SessionState.REVOKED
        if now >= self.created_at + SESSION_ABSOLUTE:
            return SessionState.EXPIRED
        if now >= self.last_seen_at + SESSION_IDLE:
            return SessionState.IDLE
        return SessionState.ACTIVE

    def is_valid(self, now: datetime) -> bool:
        return self.state(now) is SessionState.ACTIVE

    def needs_touch(self, now: datetime) -> bool:
        """Whether ``last_seen_at`` is stale enough to be written again."""
        return now - self.last_seen_at >= SESSION_TOUCH_INTERVAL
