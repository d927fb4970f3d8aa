"""The history of a booking: what happened to it, when, and who did it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.model import HistoryEntry
from slotwise.persistence.tables import BookingEvent


async def add_entry(booking_id: int, kind: str, data: dict[str, Any], *, actor: Actor, at: datetime) -> None:
    await BookingEvent.insert(BookingEvent(
        booking=booking_id, kind=kind, data=data, actor_kind=str(actor.kind), actor_ref=actor.ref,
        actor_label=actor.label, created_at=at))


async def booking_history(booking_id: int) -> list[HistoryEntry]:
    """Oldest first."""
    rows = await (
        BookingEvent.select(BookingEvent.kind, BookingEvent.data, BookingEvent.created_at,
                            BookingEvent.actor_kind, BookingEvent.actor_ref, BookingEvent.actor_label)
        .where(BookingEvent.booking == booking_id)
        .order_by(BookingEvent.created_at)
        .order_by(BookingEvent.id)
        .output(load_json=True)
    )
    return [
        HistoryEntry(kind=r["kind"], data=r["data"] or {}, at=r["created_at"],
                     actor=Actor(ActorKind(r["actor_kind"]), r["actor_ref"], r["actor_label"]))
        for r in rows
    ]
