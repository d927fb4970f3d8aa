"""The admin API's audit log: who changed what in a site's configuration, newest first.

``GET /api/v1/admin/sites/{site}/audit?since=&actor=&limit=&cursor=``; keys
need ``catalog:read``, accounts the owner or manager role. See ``services/audit.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter

from slotwise.domain.access import Action
from slotwise.domain.model import Site
from slotwise.services import access
from slotwise.services import audit as audit_service
from slotwise.services.access import Caller
from slotwise.services.audit import AuditEntry
from slotwise.services.booking_documents import ActorOut
from slotwise.web.admin_api import provide_caller


@dataclass(frozen=True)
class ChangeOut:
    field: str  # dotted for nested tables: "hours.mon", "templates.email.confirmed.de.txt"
    old: Any  # null: the object (or the field) did not exist
    new: Any  # null: removed, or left at its default


@dataclass(frozen=True)
class AuditEntryOut:
    id: str  # aud_…
    at: str  # ISO, in the site's zone
    actor: ActorOut
    via: str  # admin-api | csv-import | site-document | apply | command | back-office
    action: str  # created | changed | retired | restored | removed | revoked
    object: str  # site | resource | service | time_off | key | membership
    ref: str  # its key, slug or id
    changes: list[ChangeOut]
    summary: list[str]  # the changes as lines: 'name: "Anna" → "Anna Berg"'


@dataclass(frozen=True)
class AuditPageOut:
    data: list[AuditEntryOut]
    next_cursor: str | None


def _entry_out(entry: AuditEntry, site: Site) -> AuditEntryOut:
    return AuditEntryOut(
        id=f"aud_{entry.id:x}", at=entry.at.astimezone(ZoneInfo(site.timezone)).isoformat(),
        actor=ActorOut(kind=str(entry.actor.kind), id=entry.actor.ref, label=entry.actor.label),
        via=entry.via, action=str(entry.action), object=entry.object_kind, ref=entry.object_ref,
        changes=[ChangeOut(c.field, c.old, c.new) for c in entry.changes],
        summary=[str(c) for c in entry.changes],
    )


class AdminAuditApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/audit", summary="Configuration changes, newest first: actor, time, what (catalog:read)")
    async def audit(
        self, site: FromPath[str], caller: NamedDependency[Caller],
        since: str | None = Parameter(default=None, description="from this day (site's zone) or instant on"),
        actor: str | None = Parameter(default=None, description="an actor's id (key_…, acc_…) or kind"),
        limit: str | None = Parameter(default=None, description="1-200, default 50"),
        cursor: str | None = Parameter(default=None, description="next_cursor of the previous page"),
    ) -> AuditPageOut:
        found = await access.site_allowing(caller, site, Action.AUDIT_READ)
        page = await audit_service.list_entries(found, {"since": since, "actor": actor, "limit": limit,
                                                        "cursor": cursor})
        return AuditPageOut(data=[_entry_out(entry, found) for entry in page.entries],
                            next_cursor=page.next_cursor)
