"""Audit log rows: written beside the change they record, read newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.audit import AuditAction, FieldChange
from slotwise.persistence.tables import AuditEntry as AuditRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: Actor
    via: str
    action: AuditAction
    object_kind: str
    object_ref: str
    changes: tuple[FieldChange, ...]


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=row["at"],
        actor=Actor(ActorKind(row["actor_kind"]), row["actor_ref"], row["actor_label"]),
        via=row["via"], action=AuditAction(row["action"]), object_kind=row["object_kind"],
        object_ref=row["object_ref"],
        changes=tuple(FieldChange(c["field"], c.get("old"), c.get("new")) for c in row["changes"] or []),
    )


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What happened to one object; the site, actor, time and way in are the write's."""

    action: AuditAction
    object_kind: str
    object_ref: str
    changes: tuple[FieldChange, ...]


async def insert(site_id: int, entries: list[NewEntry], *, at: datetime, actor: Actor, via: str) -> None:
    """Several entries of one write in one statement (an import of 2,000 rows is one INSERT here)."""
    if not entries:
        return
    await AuditRow.insert(*[AuditRow(
        site=site_id, at=at, actor_kind=str(actor.kind), actor_ref=actor.ref, actor_label=actor.label,
        via=via, action=str(entry.action), object_kind=entry.object_kind, object_ref=entry.object_ref,
        changes=[{"field": c.field, "old": c.old, "new": c.new} for c in entry.changes]) for entry in entries])


async def entries(site_id: int, *, before_id: int | None, since: datetime | None, actor: str | None,
                  limit: int) -> list[AuditEntry]:
    """Newest first (by id: the order they were written in); ``actor`` is a ref (``key_…``) or a kind."""
    where = AuditRow.site == site_id
    if before_id is not None:
        where &= AuditRow.id < before_id
    if since is not None:
        where &= AuditRow.at >= since
    if actor:
        where &= (AuditRow.actor_ref == actor) | (AuditRow.actor_kind == actor)
    rows = await (AuditRow.select().where(where).order_by(AuditRow.id, ascending=False).limit(limit)
                  .output(load_json=True))
    return [_entry(row) for row in rows]
