"""What the holder of a manage link may see and do with one booking."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from slotwise.persistence import bookings as store
from slotwise.persistence.bookings import BookingRecord
from slotwise.services import tokens
from slotwise.services.errors import NotFound

# PRODUCT §8: a manage link stops working 30 days after the booking ends.
LINK_LIFETIME_AFTER_END = timedelta(days=30)


async def booking_for_token(token: str, *, secret_key: str, now: datetime) -> BookingRecord:
    """The booking behind a manage token, or NotFound that says nothing more.

    The lookup goes by the token's SHA-256 (an index, not a comparison of
    secrets); the derived token is then compared in constant time, so a
    stored hash alone never unlocks a booking.
    """
    booking_id = await store.find_booking_id_by_token_hash(tokens.hash_token(token))
    if booking_id is None:
        raise NotFound("booking", "for this link")
    record = await store.load_booking(booking_id)
    expected = tokens.manage_token(secret_key, record.uid, record.manage_token_salt)
    if not hmac.compare_digest(expected, token) or now > record.end + LINK_LIFETIME_AFTER_END:
        raise NotFound("booking", "for this link")
    return record
