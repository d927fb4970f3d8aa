"""Who may do what: one pure decision for every owner-side action. No I/O.

A signed-in account holds a **membership** per site with a :class:`Role`; an
API key belongs to one site and holds :class:`Scope` values. Either is a
:class:`Grant` on that site. :func:`decide` answers, for the grants a caller
holds, an :class:`Action` and its :class:`Target`:

- ``NOT_FOUND`` when the caller has no grant on the target's site at all: the
  site must not even be seen to exist (no existence oracle), answered as 404;
  a test key (``sw_test_``) holds no grant on a site that is not a sandbox;
- ``FORBIDDEN`` when they have one but it does not cover the action (403);
- ``ALLOWED`` otherwise.

Roles: ``owner`` may do everything; ``manager`` everything but members,
keys and webhooks; ``staff`` reads the site and its catalog and works on the bookings and
time off of their own resource only; ``viewer`` reads. A key may do what its
scopes name and never manages members or keys (a key cannot mint keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    STAFF = "staff"
    VIEWER = "viewer"


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    WEBHOOKS_WRITE = "webhooks:write"


class Action(StrEnum):
    SITE_READ = "site:read"  # the site's settings and whole document
    SITE_WRITE = "site:write"  # settings, or a whole document applied
    CATALOG_READ = "catalog:read"  # resources, services
    CATALOG_WRITE = "catalog:write"
    TIME_OFF_WRITE = "time-off:write"  # block or free a resource's time
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"  # book on behalf, move, cancel, message a customer
    CUSTOMERS_READ = "customers:read"  # the customer list, one customer's export
    CUSTOMERS_WRITE = "customers:write"  # erase a customer
    TEMPLATES_WRITE = "templates:write"
    AUDIT_READ = "audit:read"
    WEBHOOKS_WRITE = "webhooks:write"
    # Make (or make again) the secret URL of a calendar feed: it reads bookings, so bookings:read
    # for a key; staff for their own resource's feed; not viewers (a new URL kills the old one).
    FEEDS_MANAGE = "feeds:manage"
    MEMBERS_MANAGE = "members:manage"
    KEYS_MANAGE = "keys:manage"


class Decision(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"  # 403: the site is theirs, the action is not
    NOT_FOUND = "not-found"  # 404: not their site; it may as well not exist


# The scope a key needs for each action. Members and keys are not in it:
# no scope lets a key manage them.
SCOPE_FOR: dict[Action, Scope] = {
    Action.SITE_READ: Scope.CATALOG_READ,
    Action.SITE_WRITE: Scope.CATALOG_WRITE,
    Action.CATALOG_READ: Scope.CATALOG_READ,
    Action.CATALOG_WRITE: Scope.CATALOG_WRITE,
    Action.TIME_OFF_WRITE: Scope.CATALOG_WRITE,
    Action.BOOKINGS_READ: Scope.BOOKINGS_READ,
    Action.BOOKINGS_WRITE: Scope.BOOKINGS_WRITE,
    Action.CUSTOMERS_READ: Scope.CUSTOMERS_READ,
    Action.CUSTOMERS_WRITE: Scope.CUSTOMERS_WRITE,
    Action.TEMPLATES_WRITE: Scope.CATALOG_WRITE,
    Action.AUDIT_READ: Scope.CATALOG_READ,
    Action.WEBHOOKS_WRITE: Scope.WEBHOOKS_WRITE,
    Action.FEEDS_MANAGE: Scope.BOOKINGS_READ,
}

# Viewers read the site, its catalog, bookings and customers; the audit log (who changed
# what, with keys and members) is for owners and managers.
_READS = frozenset({Action.SITE_READ, Action.CATALOG_READ, Action.BOOKINGS_READ, Action.CUSTOMERS_READ})
# Staff work on their own resource's bookings and time off (the target decides
# whose), and read what they need to do so: the site and its catalog.
_STAFF_ON_OWN_RESOURCE = frozenset({Action.BOOKINGS_READ, Action.BOOKINGS_WRITE, Action.TIME_OFF_WRITE,
                                    Action.FEEDS_MANAGE})
_STAFF_ANYWHERE = frozenset({Action.SITE_READ, Action.CATALOG_READ})
# Webhooks send every booking's customer data to a URL of the caller's choosing:
# among accounts, only owners subscribe them (keys need the webhooks:write scope).
_OWNER_ONLY = frozenset({Action.MEMBERS_MANAGE, Action.KEYS_MANAGE, Action.WEBHOOKS_WRITE})


@dataclass(frozen=True, slots=True)
class Grant:
    """What one caller holds on one site: a membership's role, or a key's scopes.

    ``resource`` is the person resource a ``staff`` member is bound to.
    """

    site_id: int
    role: Role | None = None
    resource: str | None = None
    scopes: frozenset[Scope] = frozenset()
    sandbox_only: bool = False  # a sw_test_ key: reaches its site only while it is a sandbox

    @classmethod
    def membership(cls, site_id: int, role: Role, resource: str | None = None) -> Grant:
        if role is Role.STAFF and not resource:
            raise ValueError("a staff membership is bound to a person resource")
        return cls(site_id, role=role, resource=resource if role is Role.STAFF else None)

    @classmethod
    def key(cls, site_id: int, scopes: Iterable[Scope], *, sandbox_only: bool = False) -> Grant:
        return cls(site_id, scopes=frozenset(scopes), sandbox_only=sandbox_only)

    def reaches(self, site_id: int, sandbox: bool) -> bool:
        """Whether this grant is on that site at all (a test key: only while it is a sandbox)."""
        return self.site_id == site_id and (sandbox or not self.sandbox_only)

    @property
    def is_key(self) -> bool:
        return self.role is None


@dataclass(frozen=True, slots=True)
class Target:
    """What an action is about: a site, and for bookings and time off the resources concerned.

    ``resources`` is None when the action is not about particular resources
    (a list, the catalog); a booking's target names every resource it takes.
    """

    site_id: int
    resources: frozenset[str] | None = None
    sandbox: bool = False  # the site is a sandbox: test keys reach it

    @classmethod
    def site(cls, site_id: int, *, sandbox: bool = False) -> Target:
        return cls(site_id, sandbox=sandbox)

    @classmethod
    def on(cls, site_id: int, resources: Iterable[str], *, sandbox: bool = False) -> Target:
        return cls(site_id, frozenset(resources), sandbox=sandbox)


def decide(grants: Iterable[Grant], action: Action, target: Target) -> Decision:
    """Whether a caller holding ``grants`` may do ``action`` on ``target`` (see the module docstring)."""
    on_site = [grant for grant in grants if grant.reaches(target.site_id, target.sandbox)]
    if not on_site:
        return Decision.NOT_FOUND
    allowed = any(_allows(grant, action, target) for grant in on_site)
    return Decision.ALLOWED if allowed else Decision.FORBIDDEN


def _allows(grant: Grant, action: Action, target: Target) -> bool:
    if grant.is_key:
        scope = SCOPE_FOR.get(action)
        return scope is not None and scope in grant.scopes
    match grant.role:
        case Role.OWNER:
            return True
        case Role.MANAGER:
            return action not in _OWNER_ONLY
        case Role.VIEWER:
            return action in _READS
        case Role.STAFF:
            if action in _STAFF_ANYWHERE:
                return True
            if action not in _STAFF_ON_OWN_RESOURCE:
                return False
            # A list (no particular resources) is theirs to read, narrowed to
            # their resource by visible_resources(); a write needs one of them.
            if target.resources is None:
                return action is Action.BOOKINGS_READ
            return grant.resource in target.resources
    return False


def visible_resources(grants: Iterable[Grant], site_id: int) -> frozenset[str] | None:
    """The resources whose bookings a caller may list on a site: None means all of them.

    Staff see their own resource's; anyone whose grant reads bookings site-wide sees all.
    """
    own: set[str] = set()
    for grant in grants:
        if grant.site_id != site_id:
            continue
        if grant.role is Role.STAFF and grant.resource:
            own.add(grant.resource)
        elif _allows(grant, Action.BOOKINGS_READ, Target.site(site_id)):
            return None
    return frozenset(own)
