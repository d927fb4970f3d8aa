"""Reads for the back office's day view: the live holds on some resources, and all of a day but its bookings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain import model
from slotwise.domain.model import Booking, Resource, Service, Site, TimeOff
from slotwise.persistence import catalog as catalog_store
from slotwise.persistence import queries
from slotwise.persistence import time_off as time_off_store
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

    PostgreSQL: none. Its two plain statements each read one consistent state
    on a pooled connection; under READ COMMITTED a transaction would share no
    snapshot between them anyway and only cost a BEGIN and a COMMIT. SQLite: a
    read transaction, so its Piccolo queries share one connection.
    """
    engine = current_engine()
    return nullcontext() if isinstance(engine, PostgresEngine) else read_transaction(engine)


@dataclass(frozen=True, slots=True)
class SheetParts:
    """Everything of a day sheet but its bookings: what one PostgreSQL statement answers."""

    resources: list[Resource]  # active, narrowed to the visible ones, in the site file's order
    services: list[Service]  # all of the site's, disabled ones too, in the site file's order
    time_off: list[TimeOff]  # overlapping the day on those resources, in start order
    holds: list[HeldSpan]  # live, starting that day on those resources, in start order
    bookings: list[Booking] | None = None  # PostgreSQL: confirmed, starting that day, on those resources


async def sheet_parts(site: Site, visible: frozenset[str] | None, start: datetime, end: datetime, *,
                      now: datetime) -> SheetParts:
    """A day's resources, services, time off and live holds (see :class:`SheetParts`).

    On PostgreSQL one plain statement (one round trip, no Piccolo query to
    build: docs/decisions.md, Performance) that answers the day's bookings
    too; elsewhere the Piccolo queries each concern has, which the statement
    must match (the tests run both), and ``bookings`` stays None (the caller
    reads them through ``persistence.bookings.list_bookings``).
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
                      await live_holds(ids, start, end, now=now))


# The statement of ``sheet_parts``: the shown resources once (a CTE), and each
# concern as one JSON array of a single row. Its text is fixed (the visible
# keys are one array parameter, NULL for all), so asyncpg prepares it once per
# connection. Timestamps come back as ISO text in JSON.
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
    (SELECT json_agg(json_build_array(a.resource, a.start_at, a.end_at, a.expires_at) ORDER BY a.start_at, a.id)
     FROM allocation AS a
     WHERE a.hold IS NOT NULL AND a.resource IN (SELECT id FROM shown) AND a.expires_at > $5
       AND a.start_at >= $3 AND a.start_at < $4) AS holds,
    (SELECT json_agg(json_build_array(r.id, r.key, r.name, r.kind, r.texts)) FROM resource AS r
     WHERE r.site = $1) AS names,
    (SELECT json_agg(json_build_array(b.id, b.uid, b.status, b.service, b.start_at, b.end_at, b.customer_name,
                                      b.customer_email, b.customer_phone, b.answers, b.price_minor, b.currency,
                                      b.locale, b.timezone, b.created_at, b.updated_at, b.sequence,
                                      b.reschedule_count, b.manage_token_salt, b.resource_ids,
                                      b.customer_address, b.metadata)
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
    holds = [HeldSpan(resource, _instant(s), _instant(e), _instant(x))
             for resource, s, e, x in json.loads(row["holds"] or "[]")]
    bookings = _bookings(site, services, json.loads(row["names"] or "[]"), json.loads(row["bookings"] or "[]"))
    return SheetParts(resources, services, time_off, holds, bookings)


_STATUS = {str(status): status for status in model.BookingStatus}  # a dict lookup is faster than the Enum's


def _bookings(site: Site, services: list[Service], names: list[list], rows: list[list]) -> list[Booking]:
    """The day's bookings as ``persistence.bookings`` builds them: what they share built once."""
    site_ref = model.SiteRef(id=site.id, slug=site.slug, name=site.name, timezone=site.timezone,
                             contact_email=site.contact_email, address=site.address)
    refs = {rid: model.ResourceRef(key, name, model.ResourceKind(kind), texts or {})
            for rid, key, name, kind, texts in names}
    service_refs = {s.id: model.ServiceRef(slug=s.slug, name=s.name, texts=s.texts,
                                           listed_duration_minutes=s.listed_duration_minutes) for s in services}
    orders = {s.id: {key: i for i, group in enumerate(s.rules.resource_groups) for key in group} for s in services}
    taken: dict[tuple[int, tuple[int, ...]], tuple[model.ResourceRef, ...]] = {}
    bookings = []
    for (booking_id, uid, status, service_id, start, end, name, email, phone, answers, price_minor, currency,
         locale, timezone, created, updated, sequence, reschedules, salt, resource_ids, address,
         metadata) in rows:
        key = (service_id, tuple(resource_ids))
        if key not in taken:
            order = orders[service_id]
            taken[key] = tuple(sorted((refs[rid] for rid in resource_ids if rid in refs),
                                      key=lambda r: order.get(r.key, len(order))))
        bookings.append(model.Booking(
            id=booking_id, uid=uid, status=_STATUS[status], site=site_ref,
            service=service_refs[service_id], start=_instant(start), end=_instant(end), resources=taken[key],
            customer=model.Customer(name=name, email=email, phone=phone), answers=answers or {},
            price_minor=price_minor, currency=currency, locale=locale, timezone=timezone,
            created_at=_instant(created), updated_at=_instant(updated) if updated else None, sequence=sequence,
            reschedule_count=reschedules, manage_token_salt=salt, address=address, metadata=metadata or {}))
    return bookings
