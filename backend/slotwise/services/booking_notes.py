"""The team's internal note on a booking: read it, replace it. Never shown to the customer, never messaged.

The note keeps who wrote it last and when (the account as actor); an empty
text clears it. At most :data:`NOTE_MAX` characters.
"""

from __future__ import annotations

from datetime import datetime

from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, BookingNote
from slotwise.persistence import notes as store
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services.errors import FieldProblem, InvalidInput

NOTE_MAX = 2000


async def note_of(booking: Booking) -> BookingNote | None:
    async with read_transaction(current_engine()):
        return await store.note_of(booking.id)


async def set_note(booking: Booking, text: str, *, actor: Actor, now: datetime) -> BookingNote | None:
    """Replace the booking's note with ``text`` (trimmed; line breaks kept)."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput([FieldProblem("note", "text-too-long", {"limit": NOTE_MAX})])
    async with write_transaction(current_engine()):
        await store.set_note(booking.id, text, actor=actor, now=now)
        return await store.note_of(booking.id)
