"""The history of a booking: what happened to it, when (and, with issue 10's audit, by whom)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotwise.domain.model import HistoryEntry
from slotwise.persistence.tables import BookingEvent


async def add_entry(booking_id: int, kind: str, data: dict[str, Any], *, at: datetime) -> None:
    await BookingEvent.insert(BookingEvent(booking=booking_id, kind=kind, data=data, created_at=at))


async def booking_history(booking_id: int) -> list[HistoryEntry]:
    """Oldest first."""
    rows = await (
        BookingEvent.select(BookingEvent.kind, BookingEvent.data, BookingEvent.created_at)
        .where(BookingEvent.booking == booking_id)
        .order_by(BookingEvent.created_at)
        .order_by(BookingEvent.id)
        .output(load_json=True)
    )
    return [HistoryEntry(kind=r["kind"], data=r["data"] or {}, at=r["created_at"]) for r in rows]
