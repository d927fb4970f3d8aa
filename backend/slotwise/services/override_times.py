"""Times staff may move a booking to with an override: the whole day on the service's step.

The engine lists only times inside opening hours, notice and advance. Under
``Rules.OVERRIDE`` those are set aside but capacity is not, so the candidates
here are every step of the local day (00:00, 00:15, … for a 15-minute step)
not yet past that :func:`check_slot_under` accepts on busy time and seats alone; each is
marked when it needed the override, so the page can warn about exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise.domain.actors import Rules
from slotwise.domain.availability import check_slot_under
from slotwise.domain.model import Booking
from slotwise.persistence.engine import current_engine, read_transaction
from slotwise.services.availability import busy_for, load_offer, local_midnight


@dataclass(frozen=True, slots=True)
class OverrideTime:
    start: datetime  # aware, UTC
    outside_rules: bool  # True: hours, notice or advance would refuse it


async def override_times(booking: Booking, day: date, *, now: datetime) -> list[OverrideTime]:
    """Starts on ``day`` (in the site's zone) where ``booking`` fits on its first resource under an override."""
    keep = booking.resources[0].key if booking.resources else None
    async with read_transaction(current_engine()):
        offer = await load_offer(booking.site.slug, booking.service.slug, resource=keep)
    zone = ZoneInfo(offer.site.timezone)
    begin, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    busy = await busy_for(offer, begin, end, now=now, except_booking=booking.id)
    step = offer.service.rules.step
    found: list[OverrideTime] = []
    at = begin
    while at < end:
        # Times already past are not offered: an override sets the notice aside, not the clock.
        if at != booking.start and at >= now:
            slot, overridden = check_slot_under(Rules.OVERRIDE, offer.service.rules, offer.calendars, busy,
                                                start=at, now=now, site_closed=offer.site.closed,
                                                only_resource=keep)
            if slot is not None:
                found.append(OverrideTime(slot.start, overridden))
        at += step
    return found
