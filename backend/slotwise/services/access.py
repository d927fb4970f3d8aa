"""Who is calling the admin API, and may they do this: the one gate every admin route passes.

:func:`caller_for_key` turns a bearer key into a :class:`Caller` (its actor
and grants). :func:`site_for` loads the site a route is about, and answers
``NotFound`` when the caller holds no grant on it (the site is not revealed
to exist); :func:`authorize` asks ``domain.access.decide`` about the action
and raises ``Forbidden`` when the grant does not cover it. Signed-in accounts
will become callers here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from slotwise.domain.access import Action, Decision, Grant, Target, decide, visible_resources
from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.persistence import queries
from slotwise.services import keys
from slotwise.services.errors import Forbidden, NotFound


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    grants: tuple[Grant, ...]
    # The site the request names, when it was read together with the key
    # (one round trip fewer); :func:`site_for` still decides about it.
    site: Site | None = None


async def caller_for_key(secret: str, *, now: datetime, site_slug: str | None = None) -> Caller | None:
    """The caller behind a key; with ``site_slug``, that site is read in the same statement."""
    if site_slug is None:
        key, site = await keys.authenticate(secret, now=now), None
    else:
        key, site = await keys.authenticate_for_site(secret, site_slug, now=now)
    return Caller(key.actor, (key.grant,), site) if key else None


async def site_for(caller: Caller, site_slug: str) -> Site:
    """The site, if the caller holds any grant on it; else NotFound, as if it did not exist."""
    if caller.site is not None and caller.site.slug == site_slug:
        site: Site | None = caller.site
    else:
        site = await queries.find_site(site_slug)
    if site is None or not any(grant.reaches(site.id, site.sandbox) for grant in caller.grants):
        raise NotFound("site", site_slug)
    return site


async def site_allowing(caller: Caller, site_slug: str, action: Action,
                        resources: Iterable[str] | None = None) -> Site:
    """The site called ``site_slug``, once ``caller`` may do ``action`` there (on these resources).

    :func:`site_for` then :func:`authorize`: 404 for a site out of reach, 403
    for a missing scope or role. What most admin routes start with.
    """
    found = await site_for(caller, site_slug)
    authorize(caller, action, found, resources)
    return found


def authorize(caller: Caller, action: Action, site: Site, resources: Iterable[str] | None = None) -> None:
    """Raise unless ``caller`` may do ``action`` on ``site`` (on these resources, for bookings and time off)."""
    target = (Target.site(site.id, sandbox=site.sandbox) if resources is None
              else Target.on(site.id, resources, sandbox=site.sandbox))
    decision = decide(caller.grants, action, target)
    if decision is Decision.NOT_FOUND:
        raise NotFound("site", site.slug)
    if decision is Decision.FORBIDDEN:
        raise Forbidden(str(action))


def visible_to(caller: Caller, site: Site) -> frozenset[str] | None:
    """The resources whose bookings the caller may list on ``site``; None: all."""
    return visible_resources(caller.grants, site.id)
