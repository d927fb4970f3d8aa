"""Reading a site's bookings for its owner: a filtered list in pages, and one booking in detail.

The list is in (start, id) order and pages with a cursor that names the last
booking shown, so a page never repeats or skips a booking when others are
added meanwhile. ``from``/``to`` are dates in the site's zone (both included)
or ISO instants; ``q`` looks in the customer's name and email.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slotwise.domain.limits import CALENDAR_BOUNDS, within_calendar
from slotwise.domain.model import Booking, HistoryEntry, Site
from slotwise.persistence import bookings as store
from slotwise.persistence import outbox, queries
from slotwise.persistence.bookings import BookingFilter
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import current_engine, read_transaction
from slotwise.persistence.history import booking_history
from slotwise.services.booking_documents import AdminBookingOut, booking_documents
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
STATUSES = ("confirmed", "cancelled")
ID_PREFIX = "bkg_"

T = TypeVar("T")


def public_id(booking: Booking) -> str:
    """The admin API's id of a booking: ``bkg_`` and its uid's 32 hex digits."""
    return booking.public_id


def uid_of(booking_id: str) -> uuid.UUID | None:
    if not booking_id.startswith(ID_PREFIX):
        return None
    try:
        return uuid.UUID(hex=booking_id.removeprefix(ID_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Page:
    bookings: list[Booking]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Detail:
    booking: Booking
    history: list[HistoryEntry]
    messages: list[dict[str, Any]]


def _cursor(booking: Booking) -> str:
    text = f"{booking.start.isoformat()}|{booking.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _after(cursor: str | None, problems: list[FieldProblem]) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start, booking_id = text.split("|")
        return datetime.fromisoformat(start), int(booking_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        problems.append(FieldProblem("cursor", "cursor-invalid"))
        return None


def _bound(name: str, raw: str | None, zone: ZoneInfo, *, end: bool,
           problems: list[FieldProblem]) -> datetime | None:
    """A date in the site's zone (the day's first instant; for ``to`` the next day's) or an instant."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if not within_calendar(day):
                problems.append(FieldProblem(name, "out-of-calendar", CALENDAR_BOUNDS))
                return None
            return datetime.combine(day + (timedelta(days=1) if end else timedelta(0)), time(0), tzinfo=zone)
        instant = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        problems.append(FieldProblem(name, "date-or-instant-expected", {"value": repr(raw)}))
        return None
    if instant.tzinfo is None:
        problems.append(FieldProblem(name, "offset-missing"))
        return None
    if not within_calendar(instant):
        problems.append(FieldProblem(name, "out-of-calendar", CALENDAR_BOUNDS))
        return None
    return instant


async def list_bookings(site: Site, params: Mapping[str, str | None], *,
                        visible: frozenset[str] | None) -> Page:
    """One page of the site's bookings; ``visible`` narrows it to those resources (staff)."""
    bookings, next_cursor = await _listed(site, params, visible, lambda page: page, cache=None)
    return Page(bookings, next_cursor)


# Pages as the admin API answers them, on PostgreSQL kept until a booking,
# an allocation (the resource filter) or the catalog that names them changes
# anywhere (change_feed). Integrators and the back office poll the same week
# again and again; between changes the answer is the same.
_document_pages: TableCache[tuple[Any, ...], tuple[list[AdminBookingOut], str | None]] = TableCache(
    "booking", "allocation", "site", "service", "resource", size=512,
)


async def list_documents(site: Site, params: Mapping[str, str | None], *,
                         visible: frozenset[str] | None) -> tuple[list[AdminBookingOut], str | None]:
    """:func:`list_bookings` as the admin API answers it: documents and the next cursor."""
    return await _listed(site, params, visible, lambda page: booking_documents(page, site),
                         cache=_document_pages)


async def _listed(site: Site, params: Mapping[str, str | None], visible: frozenset[str] | None,
                  shape: Callable[[list[Booking]], T], *,
                  cache: TableCache[tuple[Any, ...], tuple[T, str | None]] | None) -> tuple[T, str | None]:
    problems: list[FieldProblem] = []
    zone = ZoneInfo(site.timezone)
    start_from = _bound("from", params.get("from"), zone, end=False, problems=problems)
    start_before = _bound("to", params.get("to"), zone, end=True, problems=problems)
    updated_since = _bound("updated_since", params.get("updated_since"), zone, end=False,
                           problems=problems)
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        problems.append(FieldProblem("status", "choice-unknown", {"choices": ", ".join(STATUSES)}))
    raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", "number-between", {"low": 1, "high": MAX_LIMIT}))
    after = _after(params.get("cursor"), problems)
    text = (params.get("q") or "").strip() or None
    if text is not None and len(text) > 200:
        problems.append(FieldProblem("q", "text-too-long", {"limit": 200}))
    wanted = {params["resource"]} if params.get("resource") else None
    if visible is not None:
        wanted = (wanted & visible) if wanted is not None else set(visible)
    # Keys to look up first share one transaction with the list, so they
    # name what the list then filters by. A plain list is one statement and
    # needs none: on PostgreSQL BEGIN and COMMIT would be two more round trips.
    lookups = bool(params.get("service")) or wanted is not None
    async with read_transaction(current_engine()) if lookups else nullcontext():
        service_id = resource_ids = None
        if params.get("service"):
            service = await queries.find_service(site.id, params["service"] or "")
            if service is None:
                problems.append(FieldProblem("service", "unknown-key", {"value": repr(params["service"])}))
            else:
                service_id = service.id
        if wanted is not None:
            found = await queries.load_resources(site, sorted(wanted))
            if params.get("resource") and params["resource"] not in found and (
                    visible is None or params["resource"] in visible):
                problems.append(FieldProblem("resource", "unknown-key", {"value": repr(params["resource"])}))
            resource_ids = [r.id for r in found.values()]
        if problems:
            raise InvalidInput(problems)
        where = BookingFilter(site_id=site.id, start_from=start_from, start_before=start_before,
                              resource_ids=None if resource_ids is None else tuple(resource_ids),
                              service_id=service_id, status=status, text=text, updated_since=updated_since)

        async def load() -> tuple[T, str | None]:
            rows = await store.list_bookings(where, after=after, limit=limit + 1)
            page, more = rows[:limit], len(rows) > limit
            return shape(page), (_cursor(page[-1]) if more else None)

        if cache is None:
            return await load()
        return await cache.get((where, after, limit, site.timezone), load)


async def find_booking(site: Site, booking_id: str) -> Booking:
    """A booking of this site by its admin id; any other site's, or none, is NotFound."""
    uid = uid_of(booking_id)
    found = await store.find_booking_id_by_uid(site.id, uid) if uid else None
    if found is None:
        raise NotFound("booking", booking_id)
    return await store.load_booking(found)


async def booking_detail(booking: Booking) -> Detail:
    async with read_transaction(current_engine()):
        return Detail(booking, await booking_history(booking.id), await outbox.messages_of(booking.id))
