"""What happened to one booking, oldest first, as its manage page tells it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotwise.persistence.tables import BookingEvent


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    kind: str  # booked | rescheduled | cancelled | …
    data: dict[str, Any]  # rescheduled: "from"/"to" ISO instants; cancelled: "reason"
    at: datetime  # UTC


async def booking_history(booking_id: int) -> list[HistoryEntry]:
    rows = await (
        BookingEvent.select(BookingEvent.kind, BookingEvent.data, BookingEvent.created_at)
        .where(BookingEvent.booking == booking_id)
        .order_by(BookingEvent.created_at)
        .order_by(BookingEvent.id)
        .output(load_json=True)
    )
    return [HistoryEntry(kind=r["kind"], data=r["data"] or {}, at=r["created_at"]) for r in rows]
