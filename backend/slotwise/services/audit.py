"""The audit log of configuration changes: recorded inside each change's transaction, read by owners.

Every write to a site's configuration calls :func:`record` (one object) or,
for a whole site file, :func:`site_state` before and :func:`record_site`
after, *inside its own write transaction*: the entry commits or rolls back
with the change. An entry holds the actor, the time, the way in (``via``),
what happened (created, changed, retired, restored, removed, revoked) to which
object, and the fields that changed (``domain.audit.diff``). Nothing is
recorded when nothing changed.

What is recorded never holds a secret (key hashes, passwords, tokens: callers
leave them out, and ``domain.audit`` drops any field named like one) nor
customer data (bookings are not audited here; their own history is).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slotwise.domain.actors import Actor
from slotwise.domain.audit import AuditAction, action_of, diff
from slotwise.domain.model import Site
from slotwise.persistence import audit as store
from slotwise.persistence import catalog, queries
from slotwise.persistence.audit import AuditEntry, NewEntry
from slotwise.persistence.engine import current_engine, read_transaction
from slotwise.services.booking_lists import MAX_LIMIT, _bound
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.sitefile.writing import resource_table, service_table, site_table

__all__ = ["AuditEntry", "AuditPage", "NewEntry", "entry", "list_entries", "record", "record_all", "record_site",
           "site_state"]

DEFAULT_LIMIT = 50
ACTOR_MAX = 255


def _plain(value: Any) -> Any:
    """JSON-safe values (dates and times become ISO text), as they will be stored and answered."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def entry(*, kind: str, ref: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
          flag: str | None = None, action: AuditAction | None = None) -> NewEntry | None:
    """One object's change (``before`` None: created; ``after`` None: removed); None when nothing changed.

    ``flag`` names the field whose true → false is a retirement (``active``,
    ``enabled``); ``action`` overrides the action derived from the versions
    (a key's revocation).
    """
    before = None if before is None else _plain(dict(before))
    after = None if after is None else _plain(dict(after))
    changes = diff(before, after)
    if not changes and before is not None and after is not None:
        return None
    return NewEntry(action or action_of(before, after, flag=flag), kind, ref, changes)


async def record(site_id: int, *, actor: Actor, now: datetime, via: str, kind: str, ref: str,
                 before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                 flag: str | None = None, action: AuditAction | None = None) -> None:
    """Record one object's change (see :func:`entry`), if anything changed.

    Call it inside the change's write transaction.
    """
    found = entry(kind=kind, ref=ref, before=before, after=after, flag=flag, action=action)
    await store.insert(site_id, [found] if found else [], at=now, actor=actor, via=via)


async def record_all(site_id: int, entries: list[NewEntry | None], *, actor: Actor, now: datetime,
                     via: str) -> None:
    """Record the changes of one write to many objects, in one statement."""
    await store.insert(site_id, [found for found in entries if found], at=now, actor=actor, via=via)


# --- a whole site at once (slotwise apply, the whole-site PUT) ----------------------------------


async def site_state(slug: str) -> dict[str, Any] | None:
    """The site's configuration as site-file tables (retired resources included, with ``active``)."""
    site = await queries.find_site(slug)
    if site is None:
        return None
    spec = await catalog.read_site(site.id)
    settings = {**site_table(spec), "templates": {"email": dict(spec.email_templates),
                                                  "sms": dict(spec.sms_templates)}}
    return {
        "site": settings,
        "resources": {r.spec.key: {**resource_table(r.spec), "active": r.active}
                      for r in await catalog.resources_of(site.id)},
        "services": {s.spec.slug: service_table(s.spec) for s in await catalog.services_of(site.id)},
    }


async def record_site(slug: str, before: dict[str, Any] | None, *, actor: Actor, now: datetime, via: str) -> None:
    """Record every object a whole-site write changed: the settings, each resource and service."""
    site = await queries.find_site(slug)
    after = await site_state(slug)
    if site is None or after is None:
        return
    old = before or {"site": None, "resources": {}, "services": {}}
    entries = [entry(kind="site", ref=slug, before=old["site"], after=after["site"])]
    for kind, flag in (("resources", "active"), ("services", "enabled")):
        keys = list(after[kind]) + [key for key in old[kind] if key not in after[kind]]
        entries += [entry(kind=kind[:-1], ref=key, before=old[kind].get(key), after=after[kind].get(key),
                          flag=flag) for key in keys]
    await record_all(site.id, entries, actor=actor, now=now, via=via)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


def _cursor(entry: AuditEntry) -> str:
    return base64.urlsafe_b64encode(f"a{entry.id}".encode()).decode().rstrip("=")


def _before_id(cursor: str | None, problems: list[FieldProblem]) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("a") and text[1:].isdigit():
            return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    problems.append(FieldProblem("cursor", "cursor-invalid"))
    return None


async def list_entries(site: Site, params: Mapping[str, str | None]) -> AuditPage:
    """One page of the site's audit log, newest first; ``since`` a date (site's zone) or an instant,
    ``actor`` an actor's id (``key_…``, ``acc_…``, ``command``) or kind (``api_key``, ``system``)."""
    problems: list[FieldProblem] = []
    since = _bound("since", params.get("since"), ZoneInfo(site.timezone), end=False, problems=problems)
    raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", "number-between", {"low": 1, "high": MAX_LIMIT}))
    before_id = _before_id(params.get("cursor"), problems)
    actor = (params.get("actor") or "").strip() or None
    if actor is not None and len(actor) > ACTOR_MAX:
        problems.append(FieldProblem("actor", "text-too-long", {"limit": ACTOR_MAX}))
    if problems:
        raise InvalidInput(problems)
    async with read_transaction(current_engine()):
        rows = await store.entries(site.id, before_id=before_id, since=since, actor=actor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return AuditPage(page, _cursor(page[-1]) if more else None)


# --- the catalog's objects as the log shows them ------------------------------------------------


def resource_state(spec: Any, active: bool) -> dict[str, Any]:
    """A resource as its site-file table, with ``active`` (a retirement shows as ``active: true → false``)."""
    return {**resource_table(spec), "active": active}


def service_state(spec: Any) -> dict[str, Any]:
    return service_table(spec)
