"""The team's internal note on a booking: one row per booking, replaced whole."""

from __future__ import annotations

from datetime import datetime

from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.model import BookingNote as Note
from slotwise.persistence.tables import BookingNote


async def note_of(booking_id: int) -> Note | None:
    row = await BookingNote.select().where(BookingNote.booking == booking_id).first()
    if row is None:
        return None
    return Note(text=row["text"], updated_at=row["updated_at"],
                actor=Actor(ActorKind(row["actor_kind"]), row["actor_ref"], row["actor_label"]))


async def set_note(booking_id: int, text: str, *, actor: Actor, now: datetime) -> None:
    """Replace the note (inside the caller's write transaction); the unique booking column keeps it one row."""
    exists = await BookingNote.exists().where(BookingNote.booking == booking_id)
    if exists:
        await BookingNote.update({
            BookingNote.text: text, BookingNote.actor_kind: str(actor.kind), BookingNote.actor_ref: actor.ref,
            BookingNote.actor_label: actor.label, BookingNote.updated_at: now,
        }).where(BookingNote.booking == booking_id)
    else:
        await BookingNote.insert(BookingNote(booking=booking_id, text=text, actor_kind=str(actor.kind),
                                             actor_ref=actor.ref, actor_label=actor.label, updated_at=now))


async def delete_notes(booking_ids: list[int]) -> None:
    """Forget the notes of these bookings (a customer's erasure: the team wrote about them)."""
    if booking_ids:
        await BookingNote.delete().where(BookingNote.booking.is_in(booking_ids))
