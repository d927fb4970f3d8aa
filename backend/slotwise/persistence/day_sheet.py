"""Reads for the back office's day view: a day's resources, services, time off, live holds and bookings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain.model import Booking, Resource, Service, Site, TimeOff, booking_public_id
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import catalog as catalog_store
from slotwise.persistence import queries
from slotwise.persistence import time_off as time_off_store
from slotwise.persistence.bookings import BookingFilter
from slotwise.persistence.engine import current_engine, postgres_fetch, read_transaction
from slotwise.persistence.tables import Allocation


@dataclass(frozen=True, slots=True)
class HeldSpan:
    """A live hold on one resource: someone is typing their details for ``[start, end)``."""

    resource_id: int
    start: datetime
    end: datetime
    expires_at: datetime


async def live_holds(resource_ids: Sequence[int], start: datetime, end: datetime, *,
                     now: datetime) -> list[HeldSpan]:
    """Holds not expired at ``now`` on these resources, starting in ``[start, end)``."""
    if not resource_ids:
        return []
    rows = await (Allocation.select(Allocation.resource, Allocation.start_at, Allocation.end_at,
                                    Allocation.expires_at)
                  .where(Allocation.hold.is_not_null() & Allocation.resource.is_in(list(resource_ids))
                         & (Allocation.expires_at > now) & (Allocation.start_at >= start)
                         & (Allocation.start_at < end))
                  .order_by(Allocation.start_at))
    return [HeldSpan(row["resource"], row["start_at"], row["end_at"], row["expires_at"]) for row in rows]


def reading():
    """The context of a day sheet's reads.

    PostgreSQL: none. Its one plain statement reads one consistent state on a
    pooled connection; a transaction would only cost a BEGIN and a COMMIT.
    SQLite: a read transaction, so its Piccolo queries share one connection.
    """
    engine = current_engine()
    return nullcontext() if isinstance(engine, PostgresEngine) else read_transaction(engine)


PAGE = 500  # bookings per Piccolo query on SQLite; a day of a busy site fits in one or two


@dataclass(frozen=True, slots=True)
class DayBooking:
    """A confirmed booking as the day grid shows it, and no more.

    The grid names the customer, the time and the service, and links the
    booking's panel. Reading and building whole domain ``Booking`` values
    (22 columns, the customer, the site, the resources' names) for a busy
    day's 120 bookings cost more than the rest of the sheet
    (docs/decisions.md, "Back office: the day view's speed").
    """

    id: str  # bkg_…, as Booking.public_id
    customer: str  # the customer's name
    service: str  # its service's slug
    start: datetime
    end: datetime
    resources: frozenset[str]  # the keys of the sheet's resources it takes

    @classmethod
    def of(cls, booking: Booking, shown: frozenset[str]) -> DayBooking:
        """A whole booking narrowed to what the grid shows (``shown``: the sheet's resource keys)."""
        return cls(booking.public_id, booking.customer.name, booking.service.slug, booking.start, booking.end,
                   frozenset(r.key for r in booking.resources if r.key in shown))


@dataclass(frozen=True, slots=True)
class SheetParts:
    """A day sheet as read: what one PostgreSQL statement answers."""

    resources: list[Resource]  # active, narrowed to the visible ones, in the site file's order
    services: list[Service]  # all of the site's, disabled ones too, in the site file's order
    time_off: list[TimeOff]  # overlapping the day on those resources, in start order
    holds: list[HeldSpan]  # live, starting that day on those resources, in start order
    bookings: list[DayBooking]  # confirmed, starting that day, on those resources, in (start, id) order


async def sheet_parts(site: Site, visible: frozenset[str] | None, start: datetime, end: datetime, *,
                      now: datetime) -> SheetParts:
    """A day's resources, services, time off, live holds and bookings (see :class:`SheetParts`).

    On PostgreSQL one plain statement (one round trip, no Piccolo query to
    build: docs/decisions.md, Performance); elsewhere the Piccolo queries each
    concern has (the bookings through ``persistence.bookings.list_bookings``),
    which the statement must match (the tests run both).
    """
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        return await _postgres_parts(engine, site, visible, start, end, now)
    stored = await catalog_store.resources_of(site.id)  # in the site file's order
    keys = [r.spec.key for r in stored if r.active and (visible is None or r.spec.key in visible)]
    loaded = await queries.load_resources(site, keys)
    resources = [loaded[key] for key in keys if key in loaded]
    services = await queries.list_services(site.id, include_disabled=True)
    ids = [r.id for r in resources]
    return SheetParts(resources, services, await time_off_store.overlapping(ids, start, end),
                      await live_holds(ids, start, end, now=now),
                      await _listed(site, resources, start, end) if resources else [])


async def _listed(site: Site, resources: list[Resource], start: datetime, end: datetime) -> list[DayBooking]:
    """The day's confirmed bookings on ``resources`` through the bookings list, a page at a time."""
    shown = frozenset(r.key for r in resources)
    where = BookingFilter(site_id=site.id, start_from=start, start_before=end, resource_ids=[r.id for r in resources],
                          service_id=None, status="confirmed", text=None, updated_since=None)
    bookings: list[DayBooking] = []
    after = None
    while True:
        page = await booking_store.list_bookings(where, after=after, limit=PAGE)
        bookings.extend(DayBooking.of(booking, shown) for booking in page)
        if len(page) < PAGE:
            return bookings
        after = (page[-1].start, page[-1].id)


# The statement of ``sheet_parts``: the shown resources once (a CTE), and each
# concern as one array of a single row. Its text is fixed (the visible keys are
# one array parameter, NULL for all), so asyncpg prepares it once per
# connection. The catalog's rows (resources, services, time off) come as JSON
# and are decoded as their Piccolo rows are; the many rows (bookings, holds)
# as arrays of records, which asyncpg decodes in C, timestamps included, and
# bookings with only the columns the grid shows.
_POSTGRES_PARTS = """
WITH shown AS (
    SELECT id, key, name, kind, timezone, hours, closed, extra_open, texts, metadata, position
    FROM resource WHERE site = $1 AND active AND ($2::text[] IS NULL OR key = ANY($2::text[]))
)
SELECT
    (SELECT json_agg(row_to_json(shown) ORDER BY position, id) FROM shown) AS resources,
    (SELECT json_agg(row_to_json(v) ORDER BY v.position, v.id) FROM service AS v WHERE v.site = $1) AS services,
    (SELECT json_agg(json_build_object('id', o.id, 'public_id', o.public_id, 'resource_key', shown.key,
                                       'start_at', o.start_at, 'end_at', o.end_at, 'reason', o.reason,
                                       'actor_kind', o.actor_kind, 'actor_ref', o.actor_ref,
                                       'actor_label', o.actor_label, 'created_at', o.created_at)
                     ORDER BY o.start_at, o.id)
     FROM time_off AS o JOIN shown ON shown.id = o.resource WHERE o.end_at > $3 AND o.start_at < $4) AS time_off,
    (SELECT array_agg(ROW(a.resource, a.start_at, a.end_at, a.expires_at) ORDER BY a.start_at, a.id)
     FROM allocation AS a
     WHERE a.hold IS NOT NULL AND a.resource IN (SELECT id FROM shown) AND a.expires_at > $5
       AND a.start_at >= $3 AND a.start_at < $4) AS holds,
    (SELECT array_agg(ROW(b.uid::text, b.customer_name, b.service, b.start_at, b.end_at, b.resource_ids)
                      ORDER BY b.start_at, b.id)
     FROM booking AS b
     WHERE b.site = $1 AND b.start_at >= $3 AND b.start_at < $4 AND b.status = 'confirmed'
       AND b.id IN (SELECT booking FROM allocation
                    WHERE resource IN (SELECT id FROM shown) AND booking IS NOT NULL)) AS bookings
"""


def _instant(text: str) -> datetime:
    """A timestamptz from PostgreSQL's JSON (ISO 8601 with its offset), as aware UTC like asyncpg's."""
    return datetime.fromisoformat(text).astimezone(UTC)


async def _postgres_parts(engine: PostgresEngine, site: Site, visible: frozenset[str] | None,
                          start: datetime, end: datetime, now: datetime) -> SheetParts:
    [row] = await postgres_fetch(engine, _POSTGRES_PARTS, site.id,
                                 None if visible is None else sorted(visible), start, end, now)
    resources = [queries.resource_from_row(r, site) for r in json.loads(row["resources"] or "[]")]
    services = [queries.service_from_row(s) for s in json.loads(row["services"] or "[]")]
    time_off = [time_off_store.time_off_from_row({**o, "start_at": _instant(o["start_at"]),
                                                  "end_at": _instant(o["end_at"]),
                                                  "created_at": _instant(o["created_at"])})
                for o in json.loads(row["time_off"] or "[]")]
    holds = [HeldSpan(*hold) for hold in row["holds"] or ()]
    return SheetParts(resources, services, time_off, holds, _day_bookings(resources, services, row["bookings"] or ()))


def _day_bookings(resources: list[Resource], services: list[Service], rows) -> list[DayBooking]:
    """The bookings' records as :class:`DayBooking`: (uid, customer, service id, start, end, resource ids as JSON)."""
    keys = {r.id: r.key for r in resources}
    slugs = {s.id: s.slug for s in services}
    # A day's bookings take a few distinct sets of resources: each decoded once.
    taken: dict[str, frozenset[str]] = {}
    bookings = []
    for uid, customer, service_id, start, end, resource_ids in rows:
        shown = taken.get(resource_ids)
        if shown is None:
            shown = taken[resource_ids] = frozenset(keys[i] for i in json.loads(resource_ids or "[]") if i in keys)
        bookings.append(DayBooking(booking_public_id(uid), customer, slugs[service_id], start, end, shown))
    return bookings
