"""Domain bookings built in memory, for tests of what is rendered from one (emails, SMS, .ics)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from slotwise.domain.model import (
    Booking,
    BookingStatus,
    Customer,
    ResourceKind,
    ResourceRef,
    ServiceRef,
    SiteRef,
)

# Flat names a test may change, mapped to the part of the booking they live in.
_PARTS = {
    "site": ("site_", SiteRef),
    "service": ("service_", ServiceRef),
    "customer": ("customer_", Customer),
}


def booking_like(base: Booking, **changes: Any) -> Booking:
    """``base`` with ``changes``; ``site_name=…``, ``customer_phone=…`` and the like reach into the parts.

    ``resources`` may be given as ``(key, name, kind)`` tuples.
    """
    for part, (prefix, _) in _PARTS.items():
        inner = {name.removeprefix(prefix): changes.pop(name) for name in list(changes)
                 if name.startswith(prefix)}
        if inner:
            changes[part] = dataclasses.replace(getattr(base, part), **inner)
    if "resources" in changes:
        changes["resources"] = tuple(
            r if isinstance(r, ResourceRef) else ResourceRef(r[0], r[1], ResourceKind(r[2]))
            for r in changes["resources"])
    if "status" in changes:
        changes["status"] = BookingStatus(changes["status"])
    return dataclasses.replace(base, **changes)


# A consultation on Tuesday 24 November 2026, 09:00-09:45 in Berlin (08:00 UTC),
# with a person and a room, booked the morning before.
SAMPLE = Booking(
    id=7, uid="5f0c1c7e-8d3b-4c49-9d1e-0a6b7c8d9e10", status=BookingStatus.CONFIRMED, sequence=0,
    site=SiteRef(id=1, slug="studio", name="Studio Müller", timezone="Europe/Berlin",
                 contact_email="hello@studio.example", address="Marktplatz 1, 10115 Berlin"),
    service=ServiceRef(slug="consult", name="Consultation"),
    start=datetime(2026, 11, 24, 8, 0, tzinfo=UTC), end=datetime(2026, 11, 24, 8, 45, tzinfo=UTC),
    resources=(ResourceRef("anna", "Anna Berg", ResourceKind.PERSON),
               ResourceRef("room-1", "Room 1", ResourceKind.ROOM)),
    customer=Customer(name="Jo Smith", email="jo@example.com", phone="+491701234567"),
    answers={}, price_minor=2500, currency="EUR", locale="en", timezone="Europe/Berlin",
    manage_token_salt="salt", created_at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
)


def sample_booking(**changes: Any) -> Booking:
    """:data:`SAMPLE` with ``changes`` (flat names such as ``site_name`` allowed)."""
    return booking_like(SAMPLE, **changes)
