"""Steps that read before they show: the free times or services a step needs, through the
services, handed to its builder. Shared by the booking page and the manage link's picker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from slotwise.domain.model import Service
from slotwise.services import availability
from slotwise.services.availability import AvailabilityQuery, AvailableSlot, Offer
from slotwise.services.errors import InvalidInput, NotFound
from slotwise.web.booking import steps
from slotwise.web.booking.present import Presenter
from slotwise.web.booking.steps import Links, View


async def free_times(p: Presenter, service: Service, first: date, last: date, *, now: datetime,
                     moving: int | None = None) -> list[AvailableSlot]:
    """Free times of the chosen resource from ``first`` to ``last`` (days in the shown zone).

    ``moving`` is a booking being moved: its own time counts as free.
    """
    result = await availability.get_availability(
        p.site.slug,
        AvailabilityQuery(service=service.slug, start=first, end=last, zone=p.zone,
                          resource=p.state.resource_key, ignoring_booking=moving),
        now=now,
    )
    return result.slots


async def services_view(p: Presenter, now: datetime, *, message: str | None = None,
                        services: Sequence[Service] | None = None) -> View:
    """The service list, with the next free session of the first few group services."""
    if services is None:
        _, services = await availability.list_services(p.site.slug)
    next_sessions: dict[str, AvailableSlot] = {}
    today = now.astimezone(p.zone).date()
    for service in [s for s in services if s.seats > 1][: steps.GROUP_LOOKUPS]:
        try:
            result = await availability.get_availability(
                p.site.slug,
                AvailabilityQuery(service=service.slug, start=today,
                                  end=today + timedelta(days=steps.GROUP_LOOKAHEAD_DAYS), zone=p.zone),
                now=now,
            )
        except (NotFound, InvalidInput):
            continue
        if result.slots:
            next_sessions[service.slug] = result.slots[0]
    return steps.services_step(p, services, next_sessions, message)


async def calendar_view(p: Presenter, links: Links, offer: Offer, now: datetime, *,
                        message: str | None = None, back: tuple[str, str] | None = None,
                        moving: tuple[int, datetime] | None = None) -> View:
    """The month calendar, from one availability read for the visible month.

    ``moving`` is (id, start) of a booking being moved: its time counts as free
    and is shown marked.
    """
    window = steps.calendar_window(p, offer.service, now)
    slots: list[AvailableSlot] = []
    if window.bookable:
        slots = await free_times(p, offer.service, window.first_day, window.last_day, now=now,
                                 moving=moving[0] if moving else None)
    return steps.calendar_step(p, links, offer, window, slots, back=back, message=message,
                               moving_start=moving[1] if moving else None)


async def expired_view(p: Presenter, links: Links, service: Service, start: datetime,
                       carried: Sequence[tuple[str, str]], now: datetime) -> View:
    day = start.astimezone(p.zone).date()
    slots = await free_times(p, service, day, day, now=now)
    return steps.expired_step(p, links, service, start, slots, carried)
