"""Reads for the back office's day view that no other query serves: the live holds on some resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slotwise.persistence.tables import Allocation


@dataclass(frozen=True, slots=True)
class HeldSpan:
    """A live hold on one resource: someone is typing their details for ``[start, end)``."""

    resource_id: int
    start: datetime
    end: datetime
    expires_at: datetime


async def live_holds(resource_ids: Sequence[int], start: datetime, end: datetime, *,
                     now: datetime) -> list[HeldSpan]:
    """Holds not expired at ``now`` on these resources, starting in ``[start, end)``."""
    if not resource_ids:
        return []
    rows = await (Allocation.select(Allocation.resource, Allocation.start_at, Allocation.end_at,
                                    Allocation.expires_at)
                  .where(Allocation.hold.is_not_null() & Allocation.resource.is_in(list(resource_ids))
                         & (Allocation.expires_at > now) & (Allocation.start_at >= start)
                         & (Allocation.start_at < end))
                  .order_by(Allocation.start_at))
    return [HeldSpan(row["resource"], row["start_at"], row["end_at"], row["expires_at"]) for row in rows]
