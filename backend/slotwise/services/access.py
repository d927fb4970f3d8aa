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


async def caller_for_key(secret: str, *, now: datetime) -> Caller | None:
    key = await keys.authenticate(secret, now=now)
    return Caller(key.actor, (key.grant,)) if key else None


async def site_for(caller: Caller, site_slug: str) -> Site:
    """The site, if the caller holds any grant on it; else NotFound, as if it did not exist."""
    site = await queries.find_site(site_slug)
    if site is None or not any(grant.reaches(site.id, site.sandbox) for grant in caller.grants):
        raise NotFound("site", site_slug)
    return site


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
