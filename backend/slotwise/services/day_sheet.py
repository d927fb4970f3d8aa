"""One day of a site for the back office: its resources side by side, their bookings, time off and hours.

A read (one transaction on SQLite, one plain statement on PostgreSQL): the
active resources (narrowed to those the caller may see: staff see their own),
the confirmed bookings starting that day (in the site's zone) on them, as
much of each as the grid shows, the time off overlapping the day, and each
resource's opening hours that day (or that it is closed). The page turns it
into a grid; nothing here knows about HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slotwise.domain.model import Resource, Service, Site, TimeOff
from slotwise.persistence import day_sheet as day_store
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.day_sheet import DayBooking

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Opening:
    """A resource's open hours that day, as local wall-clock minutes; empty: closed all day."""

    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Held:
    resource: str  # its key
    start: datetime
    end: datetime
    expires: datetime  # when it stops being shown, unless the customer confirms first


@dataclass(frozen=True, slots=True)
class DaySheet:
    site: Site
    day: date
    zone: ZoneInfo
    resources: list[Resource]  # in the site file's order
    services: dict[str, Service]  # by slug: seats of group sessions
    bookings: list[DayBooking]  # confirmed, starting that day, on the resources shown
    time_off: list[TimeOff]  # overlapping the day, on the resources shown
    openings: dict[str, Opening]  # by resource key
    site_closed: bool  # the whole site is closed that day
    holds: list[Held] = field(default_factory=list)  # live holds: a customer is typing their details


def _opening(resource: Resource, day: date, site_closed: bool) -> Opening:
    """Weekly hours of that weekday plus the day's extra openings; on a closed day only the extras
    (an explicit extra opening wins over a closure, as in the engine)."""
    calendar = resource.calendar
    extra = tuple(calendar.extra_open.get(day, ()))
    weekly = () if site_closed or day in calendar.closed else tuple(calendar.weekly.get(day.weekday(), ()))
    return Opening(tuple(sorted((r.start_minute, r.end_minute) for r in weekly + extra)))


async def day_sheet(site: Site, day: date, *, visible: frozenset[str] | None, now: datetime) -> DaySheet:
    """The day ``day`` (site's zone) of ``site``; ``visible`` narrows the resources (None: all)."""
    [sheet] = await day_sheets(site, day, days=1, visible=visible, now=now)
    return sheet


async def day_sheets(site: Site, first: date, *, days: int, visible: frozenset[str] | None,
                     now: datetime) -> list[DaySheet]:
    """``days`` days from ``first`` (a resource's week), read at once and cut into days (site's zone).

    One read for the whole span (on PostgreSQL one statement, not one a day):
    each day then takes the bookings and holds starting in it and the time off
    overlapping it, exactly what a read of that day alone answers.
    """
    zone = ZoneInfo(site.timezone)
    bounds = [datetime.combine(first + timedelta(days=n), time(), zone) for n in range(days + 1)]
    async with day_store.reading():
        parts = await day_store.sheet_parts(site, visible, bounds[0], bounds[-1], now=now)
    resources = parts.resources
    services = {s.slug: s for s in parts.services}
    keys_by_id = {r.id: r.key for r in resources}
    sheets = []
    for n in range(days):
        day, start, end = first + timedelta(days=n), bounds[n], bounds[n + 1]
        site_closed = day in site.closed
        sheets.append(DaySheet(
            site=site, day=day, zone=zone, resources=resources, services=services,
            bookings=[b for b in parts.bookings if start <= b.start < end],
            time_off=[t for t in parts.time_off if t.start < end and t.end > start],
            openings={r.key: _opening(r, day, site_closed) for r in resources}, site_closed=site_closed,
            holds=[Held(keys_by_id[h.resource_id], h.start, h.end, h.expires_at) for h in parts.holds
                   if start <= h.start < end]))
    return sheets


# Days as the back office shows them, on PostgreSQL kept until a table the
# sheet reads changes anywhere (change_feed) or a hold shown on it expires.
# Every signed-in screen polls its day (POLL_SECONDS); between changes it is
# the same day, and turning 120 bookings into a grid costs more than reading them.
_shown_days: TableCache[tuple[Any, ...], tuple[datetime | None, Any]] = TableCache(
    "booking", "allocation", "time_off", "site", "service", "resource", size=256,
)


async def shown_day(site: Site, day: date, *, visible: frozenset[str] | None, now: datetime,
                    variant: Hashable, show: Callable[[DaySheet], T]) -> T:
    """``show(day_sheet(...))``, kept while nothing it shows can have changed.

    ``variant`` names everything else ``show`` depends on (the reader's
    language, what they may do, the row of the line for now): equal variants
    must give equal pages. The clock ends a kept day only through its holds:
    at the first expiry the hold must vanish from the grid.
    """

    async def load() -> tuple[datetime | None, T]:
        sheet = await day_sheet(site, day, visible=visible, now=now)
        return min((h.expires for h in sheet.holds), default=None), show(sheet)

    key = (site.id, day, visible, variant)
    until, shown = await _shown_days.get(key, load)
    if until is not None and until <= now:
        _shown_days.discard(key)
        until, shown = await _shown_days.get(key, load)
    return shown
