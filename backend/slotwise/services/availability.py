"""Which times can be booked: load what the engine needs, run it, shape the answer.

One read per kind of data (site, service, resources, busy time), then the pure
engine; the answer carries each slot's instants in the zone asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotwise.domain.availability import find_slots
from slotwise.domain.limits import CALENDAR_BOUNDS, within_calendar
from slotwise.domain.model import Busy, Resource, ResourceCalendar, Service, Site, Slot
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import queries
from slotwise.persistence.engine import current_engine, read_transaction
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound

# How long one process reuses a site's configuration (site, service,
# resources) for showing slots and for accepting them: both use the same copy,
# so the server accepts exactly what it shows. After `slotwise apply` in
# another process, new hours apply within this time (at once in the process
# that applied). Busy time is never cached.
OFFER_CACHE_SECONDS = 2.0

# The longest range one availability request may span. A quarter (92 days
# covers any three consecutive months) is enough for a month calendar with
# look-ahead, and bounds the work one request can cause.
MAX_RANGE_DAYS = 92


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    service: str
    start: date
    end: date
    zone: ZoneInfo | None  # None: the site's zone
    resource: str | None = None
    # A booking being moved: its own time counts as free, since moving
    # releases it (and a 60-minute appointment may shift by 15 minutes).
    ignoring_booking: int | None = None


@dataclass(frozen=True, slots=True)
class AvailableSlot:
    start: datetime  # aware, in the zone of the answer
    end: datetime
    resources: tuple[Resource, ...]
    seats_left: int


@dataclass(frozen=True, slots=True)
class Availability:
    site: Site
    service: Service
    zone: ZoneInfo
    start: date
    end: date
    slots: list[AvailableSlot]


def parse_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None if there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_availability_query(
    *, service: str | None, start: str | None, end: str | None,
    tz: str | None = None, resource: str | None = None,
) -> AvailabilityQuery:
    """Check raw request parameters; every problem is reported with its parameter name."""
    problems: list[FieldProblem] = []
    if not service:
        problems.append(FieldProblem("service", "required"))
    start_date = _parse_date("start", start, problems)
    end_date = _parse_date("end", end, problems)
    zone = None
    if tz:
        zone = parse_zone(tz)
        if zone is None:
            problems.append(FieldProblem("tz", "zone-unknown", {"value": repr(tz)}))
    if start_date and end_date:
        if end_date < start_date:
            problems.append(FieldProblem("end", "end-before-start"))
        elif (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
            problems.append(
                FieldProblem("end", "range-too-long", {"days": MAX_RANGE_DAYS})
            )
    if problems:
        raise InvalidInput(problems)
    assert service and start_date and end_date
    return AvailabilityQuery(service=service, start=start_date, end=end_date, zone=zone,
                             resource=resource or None)


def _parse_date(name: str, raw: str | None, problems: list[FieldProblem]) -> date | None:
    if not raw:
        problems.append(FieldProblem(name, "required"))
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        problems.append(FieldProblem(name, "date-expected", {"value": repr(raw)}))
        return None
    if not within_calendar(day):
        problems.append(FieldProblem(name, "out-of-calendar", CALENDAR_BOUNDS))
        return None
    return day


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a local day begins, in UTC.

    Where midnight itself falls in a DST gap (some zones switch at 00:00),
    ``fold=0`` applies the offset from before the switch, which lands exactly
    on the switch: the first instant of that day.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


async def get_site(slug: str) -> Site:
    site = await queries.find_site(slug)
    if site is None:
        raise NotFound("site", slug)
    return site


async def list_services(site_slug: str) -> tuple[Site, list[Service]]:
    site = await get_site(site_slug)
    return site, await queries.list_services(site.id)


@dataclass(frozen=True, slots=True)
class Offer:
    """A bookable service with its site and the resources that can deliver it."""

    site: Site
    service: Service
    resources: dict[str, Resource]

    @property
    def calendars(self) -> dict[str, ResourceCalendar]:
        return {key: r.calendar for key, r in self.resources.items()}

    def resource_ids(self, keys: Iterable[str] | None = None) -> list[int]:
        return [self.resources[k].id for k in (self.resources if keys is None else keys)]


async def load_offer(site_slug: str, service_slug: str, *, resource: str | None = None) -> Offer:
    """Site, enabled service and its resources; 404-type and 422-type errors as exceptions."""
    site = await get_site(site_slug)
    service = await queries.find_service(site.id, service_slug)
    if service is None or not service.enabled:
        raise NotFound("service", service_slug)
    keys = [key for group in service.rules.resource_groups for key in group]
    if resource is not None and resource not in keys:
        raise InvalidInput([FieldProblem("resource", "resource-not-offering", {"value": repr(resource)})])
    return Offer(site=site, service=service, resources=await queries.load_resources(site, keys))


_offer_cache: dict[tuple[str, str, str | None], tuple[float, Offer]] = {}


async def cached_offer(site_slug: str, service_slug: str, *, resource: str | None = None) -> Offer:
    """:func:`load_offer`, reused for ``OFFER_CACHE_SECONDS``."""
    key = (site_slug, service_slug, resource)
    hit = _offer_cache.get(key)
    if hit is not None and monotonic() - hit[0] < OFFER_CACHE_SECONDS:
        return hit[1]
    async with read_transaction(current_engine()):
        offer = await load_offer(site_slug, service_slug, resource=resource)
    _offer_cache[key] = (monotonic(), offer)
    return offer


async def fresh_offer(offer: Offer, *, resource: str | None) -> Offer:
    """Inside a write transaction: ``offer`` if its configuration is still in force, else a new one.

    Each process reuses an offer for ``OFFER_CACHE_SECONDS``; a change to the
    site's configuration in another process raises its version at once. A
    booking compares the two before it locks anything, so no process accepts
    what the configuration in force refuses (a disabled service, a closed
    afternoon), however fresh the change.
    """
    version = await booking_store.site_config_version(offer.site.id)
    if version == offer.site.config_version:
        return offer
    forget_offers()
    return await load_offer(offer.site.slug, offer.service.slug, resource=resource)


def forget_offers() -> None:
    """Drop cached configuration, e.g. after a site file was applied in this process."""
    _offer_cache.clear()


async def busy_for(
    offer: Offer, window_start: datetime, window_end: datetime, *, now: datetime,
    except_hold: int | None = None, except_booking: int | None = None,
) -> list[Busy]:
    """Busy time that can matter to starts in ``[window_start, window_end)``.

    A start ``s`` looks at ``[s - buffer_before, s + duration + buffer_after)``,
    so blocks are read that far beyond the window on either side.
    """
    rules = offer.service.rules
    return await queries.load_busy(
        {r.id: r.key for r in offer.resources.values()},
        service_id=offer.service.id,
        service_key=rules.key,
        overlapping_from=window_start - rules.buffer_before,
        overlapping_until=window_end + rules.duration + rules.buffer_after,
        now=now,
        except_hold=except_hold,
        except_booking=except_booking,
    )


def slots_in(
    offer: Offer, busy: list[Busy], window_start: datetime, window_end: datetime, *,
    now: datetime, resource: str | None,
) -> list[Slot]:
    return find_slots(
        offer.service.rules,
        offer.calendars,
        busy,
        window_start=window_start,
        window_end=window_end,
        now=now,
        site_closed=offer.site.closed,
        only_resource=resource,
    )


def shown(offer: Offer, slot: Slot, zone: ZoneInfo) -> AvailableSlot:
    return AvailableSlot(
        start=slot.start.astimezone(zone),
        end=slot.end.astimezone(zone),
        resources=tuple(offer.resources[key] for key in slot.resources),
        seats_left=slot.seats_left,
    )


async def get_availability(site_slug: str, query: AvailabilityQuery, *, now: datetime) -> Availability:
    offer = await cached_offer(site_slug, query.service, resource=query.resource)
    zone = query.zone or ZoneInfo(offer.site.timezone)
    window_start = local_midnight(query.start, zone)
    window_end = local_midnight(query.end + timedelta(days=1), zone)
    busy = await busy_for(offer, window_start, window_end, now=now, except_booking=query.ignoring_booking)
    slots = slots_in(offer, busy, window_start, window_end, now=now, resource=query.resource)
    return Availability(
        site=offer.site,
        service=offer.service,
        zone=zone,
        start=query.start,
        end=query.end,
        slots=[shown(offer, slot, zone) for slot in slots],
    )
