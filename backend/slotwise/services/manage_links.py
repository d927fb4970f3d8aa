"""Manage links: the customer's private URL resolved to the booking it stands for.

A link is a bearer secret, so this is the only thing its routes do before
calling the same verbs as anyone else (``services.bookings``) with a customer
actor. See ``services.tokens`` for how a link is derived.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking
from slotwise.persistence import bookings as store
from slotwise.services import tokens
from slotwise.services.errors import NotFound

# A manage link stops working 30 days after the booking ends (docs/product.md#manage-links).
LINK_LIFETIME_AFTER_END = timedelta(days=30)

# Who acts through a manage link.
LINK_HOLDER = Actor.customer("manage-link")

_DUMMY_UID = "00000000-0000-0000-0000-000000000000"
_DUMMY_SALT = "0" * 32


async def booking_for_token(token: str, *, secret_key: str, now: datetime) -> Booking:
    """The booking behind a manage token, or NotFound that says nothing more.

    The lookup goes by the token's SHA-256 (an index, not a comparison of
    secrets); the derived token is then compared in constant time, so a
    stored hash alone never unlocks a booking. An unknown token runs the same
    derivation and comparison against a dummy, so the answer takes as long as
    for a known one (no timing oracle for guessing).
    """
    booking_id = await store.find_booking_id_by_token_hash(tokens.hash_token(token))
    booking = await store.load_booking(booking_id) if booking_id is not None else None
    expected = tokens.manage_token(
        secret_key, booking.uid if booking else _DUMMY_UID,
        booking.manage_token_salt if booking else _DUMMY_SALT,
    )
    # As bytes: compare_digest refuses str with non-ASCII characters, and a link may hold anything.
    matches = hmac.compare_digest(expected.encode(), token.encode("utf-8", "surrogatepass"))
    if booking is None or not matches or now > booking.end + LINK_LIFETIME_AFTER_END:
        raise NotFound("booking", "for this link",
                       detail="This link does not lead to a booking. It may be mistyped or expired.")
    return booking
