"""Time off rows, read as domain values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.model import TimeOff
from slotwise.persistence.tables import Allocation
from slotwise.persistence.tables import TimeOff as TimeOffRow

_COLUMNS = (TimeOffRow.all_columns(), TimeOffRow.resource.key.as_alias("resource_key"))


def _time_off(row: dict[str, Any]) -> TimeOff:
    return TimeOff(
        id=row["id"], public_id=row["public_id"], resource=row["resource_key"], start=row["start_at"],
        end=row["end_at"], reason=row["reason"], created_at=row["created_at"],
        actor=Actor(ActorKind(row["actor_kind"]), row["actor_ref"], row["actor_label"]),
    )


time_off_from_row = _time_off  # the day sheet's PostgreSQL statement builds them as well


async def insert(*, public_id: str, site_id: int, resource_id: int, start: datetime, end: datetime,
                 reason: str, actor: Actor, now: datetime) -> TimeOff:
    await TimeOffRow.insert(TimeOffRow(
        public_id=public_id, site=site_id, resource=resource_id, start_at=start, end_at=end, reason=reason,
        actor_kind=str(actor.kind), actor_ref=actor.ref, actor_label=actor.label, created_at=now))
    found = await by_public_id(site_id, public_id)
    assert found is not None
    return found


async def by_public_id(site_id: int, public_id: str) -> TimeOff | None:
    row = await (TimeOffRow.select(*_COLUMNS)
                 .where((TimeOffRow.site == site_id) & (TimeOffRow.public_id == public_id)).first())
    return _time_off(row) if row else None


async def of_resource(resource_id: int, *, ending_after: datetime) -> list[TimeOff]:
    rows = await (TimeOffRow.select(*_COLUMNS)
                  .where((TimeOffRow.resource == resource_id) & (TimeOffRow.end_at > ending_after))
                  .order_by(TimeOffRow.start_at))
    return [_time_off(row) for row in rows]


async def delete(time_off_id: int) -> None:
    await TimeOffRow.delete().where(TimeOffRow.id == time_off_id)


async def bookings_during(resource_id: int, start: datetime, end: datetime) -> list[str]:
    """The uids of confirmed bookings on the resource that overlap ``[start, end)``."""
    rows = await (Allocation.select(Allocation.booking.uid.as_alias("uid"))
                  .where((Allocation.resource == resource_id) & Allocation.booking.is_not_null()
                         & (Allocation.start_at < end) & (Allocation.end_at > start))
                  .order_by(Allocation.start_at))
    return [str(row["uid"]) for row in rows]




async def overlapping(resource_ids: list[int], start: datetime, end: datetime) -> list[TimeOff]:
    """The time off of these resources that overlaps ``[start, end)``, in start order (one query)."""
    if not resource_ids:
        return []
    rows = await (TimeOffRow.select(*_COLUMNS)
                  .where(TimeOffRow.resource.is_in(resource_ids) & (TimeOffRow.end_at > start)
                         & (TimeOffRow.start_at < end))
                  .order_by(TimeOffRow.start_at))
    return [_time_off(row) for row in rows]
