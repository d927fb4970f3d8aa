"""Domain bookings built in memory, for tests of what is rendered from one (emails, SMS, .ics)."""

from __future__ import annotations

import dataclasses
from typing import Any

from slotwise.domain.model import Booking, BookingStatus, Customer, ResourceRef, ServiceRef, SiteRef

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
        changes["resources"] = tuple(r if isinstance(r, ResourceRef) else ResourceRef(*r)
                                     for r in changes["resources"])
    if "status" in changes:
        changes["status"] = BookingStatus(changes["status"])
    return dataclasses.replace(base, **changes)
