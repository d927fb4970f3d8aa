"""Write-side queries for holds and bookings. Callers run them inside ``write_transaction``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain import model
from slotwise.domain.model import ServiceRules
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import current_engine, postgres_fetch
from slotwise.persistence.tables import (
    Allocation,
    Booking,
    Hold,
    Resource,
    Site,
)


async def lock_resources(resource_ids: Sequence[int]) -> None:
    """Serialise every writer that may touch these resources until commit.

    PostgreSQL: row locks on the resources, always taken in id order so two
    bookings over overlapping sets cannot deadlock. Availability is re-read
    after the lock, and each statement under READ COMMITTED sees what the
    previous lock holder committed. SQLite: nothing to do, ``BEGIN IMMEDIATE``
    already holds the database's single write lock.
    """
    if isinstance(current_engine(), PostgresEngine) and resource_ids:
        await (
            Resource.select(Resource.id)
            .where(Resource.id.is_in(sorted(set(resource_ids))))
            .order_by(Resource.id)
            .lock_rows()
        )


async def site_config_version(site_id: int) -> int:
    """The site's configuration version, read under a share lock on PostgreSQL.

    A configuration change raises the version with an UPDATE of the same row,
    so it waits for this transaction (and this one for it): the booking is
    checked against the configuration in force when it commits. On SQLite the
    write transaction already excludes every other writer.
    """
    query = Site.select(Site.config_version).where(Site.id == site_id)
    if isinstance(current_engine(), PostgresEngine):
        query = query.lock_rows("SHARE")
    rows = await query
    # A site deleted under a cached copy (nothing a deployment does, but a
    # test may) has no version: -1 never matches, so the copy is reloaded.
    return rows[0]["config_version"] if rows else -1


def _allocations(
    rules: ServiceRules, service_id: int, resource_ids: Sequence[int], start: datetime,
    *, booking: int | None = None, hold: int | None = None, expires_at: datetime | None = None,
) -> list[Allocation]:
    end = start + rules.duration
    return [
        Allocation(
            resource=resource_id,
            service=service_id,
            booking=booking,
            hold=hold,
            start_at=start,
            end_at=end,
            blocked_from=start - rules.buffer_before,
            blocked_until=end + rules.buffer_after,
            seats=1,
            expires_at=expires_at,
        )
        for resource_id in resource_ids
    ]


async def insert_hold(
    *, site_id: int, service_id: int, rules: ServiceRules, resource_ids: Sequence[int],
    start: datetime, token_hash: str, now: datetime, expires_at: datetime, client: str | None = None,
) -> int:
    rows = await Hold.insert(
        Hold(site=site_id, service=service_id, token_hash=token_hash, start_at=start,
             end_at=start + rules.duration, expires_at=expires_at, created_at=now, client=client)
    )
    hold_id = rows[0]["id"]
    await Allocation.insert(
        *_allocations(rules, service_id, resource_ids, start, hold=hold_id, expires_at=expires_at)
    )
    return hold_id


async def find_live_hold(site_id: int, token_hash: str, now: datetime) -> dict[str, Any] | None:
    return await (
        Hold.select()
        .where((Hold.site == site_id) & (Hold.token_hash == token_hash) & (Hold.expires_at > now))
        .first()
    )


async def live_holds_of_client(site_id: int, client: str, now: datetime) -> list[int]:
    """Ids of the client's live holds on the site, oldest first."""
    rows = await (
        Hold.select(Hold.id)
        .where((Hold.site == site_id) & (Hold.client == client) & (Hold.expires_at > now))
        .order_by(Hold.created_at).order_by(Hold.id)
    )
    return [row["id"] for row in rows]


async def prune_expired_holds(site_id: int, *, expired_before: datetime) -> None:
    """Delete holds (and their blocks) of a site that expired before the given instant."""
    expired = Hold.select(Hold.id).where((Hold.site == site_id) & (Hold.expires_at < expired_before))
    await Allocation.delete().where(Allocation.hold.is_in(expired))
    await Hold.delete().where((Hold.site == site_id) & (Hold.expires_at < expired_before))


async def delete_hold(hold_id: int) -> None:
    await Allocation.delete().where(Allocation.hold == hold_id)
    await Hold.delete().where(Hold.id == hold_id)


@dataclass(frozen=True, slots=True)
class NewBooking:
    site_id: int
    service_id: int
    rules: ServiceRules
    resource_ids: Sequence[int]
    start: datetime
    customer_name: str
    customer_email: str
    customer_phone: str | None
    answers: dict[str, Any]
    price_minor: int | None
    currency: str | None
    locale: str
    timezone: str
    manage_token_salt: str
    address: str | None = None  # the customer's postal address, when the service asks
    metadata: dict[str, Any] | None = None


async def insert_booking(new: NewBooking, *, manage_token_hash: str, uid: uuid.UUID, now: datetime) -> int:
    rows = await Booking.insert(
        Booking(
            uid=uid,
            site=new.site_id,
            service=new.service_id,
            status="confirmed",
            start_at=new.start,
            end_at=new.start + new.rules.duration,
            customer_name=new.customer_name,
            customer_email=new.customer_email,
            customer_phone=new.customer_phone,
            answers=new.answers,
            price_minor=new.price_minor,
            currency=new.currency,
            locale=new.locale,
            timezone=new.timezone,
            manage_token_hash=manage_token_hash,
            manage_token_salt=new.manage_token_salt,
            resource_ids=list(new.resource_ids),
            customer_address=new.address,
            metadata=dict(new.metadata or {}),
            created_at=now,
            updated_at=now,
        )
    )
    booking_id = rows[0]["id"]
    await Allocation.insert(*_allocations(new.rules, new.service_id, new.resource_ids, new.start,
                                          booking=booking_id))
    return booking_id


_BOOKING_COLUMNS = (
    Booking.all_columns(),
    Booking.site.slug.as_alias("site_slug"),
    Booking.site.name.as_alias("site_name"),
    Booking.site.timezone.as_alias("site_timezone"),
    Booking.site.contact_email.as_alias("site_contact_email"),
    Booking.site.address.as_alias("site_address"),
    Booking.service.slug.as_alias("service_slug"),
    Booking.service.name.as_alias("service_name"),
    Booking.service.texts.as_alias("service_texts"),
    Booking.service.listed_duration_minutes.as_alias("service_listed_minutes"),
    Booking.service.resource_groups.as_alias("resource_groups"),
)


async def load_booking(booking_id: int) -> model.Booking:
    found = await _bookings(Booking.id == booking_id)
    if not found:
        raise LookupError(f"no booking with id {booking_id}")
    return found[0]


@dataclass(frozen=True, slots=True)
class BookingFilter:
    """Which bookings of a site a list shows. Instants in UTC; None: no bound."""

    site_id: int
    start_from: datetime | None = None  # the booking starts at or after
    start_before: datetime | None = None  # ... and before
    resource_ids: Sequence[int] | None = None  # takes any of these resources now (so: confirmed)
    service_id: int | None = None
    status: str | None = None
    text: str | None = None  # in the customer's name or email, case-insensitively
    updated_since: datetime | None = None


async def list_bookings(where: BookingFilter, *, after: tuple[datetime, int] | None,
                        limit: int) -> list[model.Booking]:
    """Bookings in (start, id) order, from just after the cursor ``after``: stable as others are added."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        return await _postgres_list(engine, where, after=after, limit=limit)
    condition = Booking.site == where.site_id
    if where.start_from is not None:
        condition &= Booking.start_at >= where.start_from
    if where.start_before is not None:
        condition &= Booking.start_at < where.start_before
    if where.service_id is not None:
        condition &= Booking.service == where.service_id
    if where.status is not None:
        condition &= Booking.status == where.status
    if where.updated_since is not None:
        condition &= Booking.updated_at >= where.updated_since
    if where.text:
        # Case-insensitive: ILIKE on PostgreSQL; SQLite's LIKE already ignores ASCII case.
        pattern = f"%{where.text}%"
        postgres = isinstance(current_engine(), PostgresEngine)
        name, email = Booking.customer_name, Booking.customer_email
        condition &= ((name.ilike(pattern) | email.ilike(pattern)) if postgres
                      else (name.like(pattern) | email.like(pattern)))
    if where.resource_ids is not None:
        # Through the allocations: the bookings that take one of these
        # resources now. A cancelled booking has given its time back and takes
        # none, so a list by resource shows confirmed bookings only.
        taken = Allocation.select(Allocation.booking).where(
            Allocation.resource.is_in(list(where.resource_ids) or [-1]) & Allocation.booking.is_not_null())
        condition &= Booking.id.is_in(taken)
    if after is not None:
        start, booking_id = after
        condition &= (Booking.start_at > start) | ((Booking.start_at == start) & (Booking.id > booking_id))
    return await _bookings(condition, limit=limit)


# The list on PostgreSQL: one plain statement of the bookings' own columns,
# named through the site's catalog as this process keeps it (``_catalog``).
# Building Piccolo queries and decoding their rows cost about 8 ms of the admin
# list's 10 ms, joining the site, service and resources in the statement about
# half of what was left (docs/decisions.md, Performance). Its text depends only
# on which filters are given (asyncpg prepares each text once per connection).
# It must match the Piccolo query in ``list_bookings``, which SQLite runs; the
# tests of the admin API run both.
_POSTGRES_LIST = """
SELECT b.id, b.uid, b.status, b.site, b.service, b.start_at, b.end_at, b.customer_name, b.customer_email,
       b.customer_phone, b.answers, b.price_minor, b.currency, b.locale, b.timezone, b.created_at,
       b.updated_at, b.sequence, b.reschedule_count, b.manage_token_salt, b.resource_ids,
       b.customer_address, b.metadata
FROM booking AS b
WHERE {where}
ORDER BY b.start_at, b.id
LIMIT {limit}"""


@dataclass(frozen=True, slots=True)
class _Catalog:
    """How a site's bookings name their site, services and resources (retired ones included)."""

    site: model.SiteRef
    services: dict[int, tuple[model.ServiceRef, dict[str, int]]]  # id -> (ref, resource key -> group order)
    resources: dict[int, model.ResourceRef]


_catalogs: TableCache[int, _Catalog | None] = TableCache("site", "service", "resource", size=256)

_POSTGRES_CATALOG = """
SELECT s.slug, s.name, s.timezone, s.contact_email, s.address,
       (SELECT json_agg(json_build_array(v.id, v.slug, v.name, v.texts, v.listed_duration_minutes,
                                         v.resource_groups))
        FROM service AS v WHERE v.site = s.id) AS services,
       (SELECT json_agg(json_build_array(r.id, r.key, r.name, r.kind, r.texts))
        FROM resource AS r WHERE r.site = s.id) AS resources
FROM site AS s WHERE s.id = $1"""


async def _catalog(engine: PostgresEngine, site_id: int) -> _Catalog | None:
    async def load() -> _Catalog | None:
        rows = await postgres_fetch(engine, _POSTGRES_CATALOG, site_id)
        if not rows:
            return None
        row = rows[0]
        site = model.SiteRef(id=site_id, slug=row["slug"], name=row["name"], timezone=row["timezone"],
                             contact_email=row["contact_email"], address=row["address"])
        services = {
            service_id: (model.ServiceRef(slug=slug, name=name, texts=_json(texts),
                                          listed_duration_minutes=listed),
                         {key: i for i, group in enumerate(_json_list(groups)) for key in group})
            for service_id, slug, name, texts, listed, groups in json.loads(row["services"] or "[]")
        }
        resources = {resource_id: model.ResourceRef(key, name, model.ResourceKind(kind), _json(texts))
                     for resource_id, key, name, kind, texts in json.loads(row["resources"] or "[]")}
        return _Catalog(site=site, services=services, resources=resources)

    return await _catalogs.get(site_id, load)


def _names_all(catalog: _Catalog, records: Sequence[Any]) -> bool:
    return all(record["service"] in catalog.services for record in records) and all(
        rid in catalog.resources
        for resource_ids in {record["resource_ids"] for record in records} for rid in json.loads(resource_ids))


def _json_list(value: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else (value or [])


async def _postgres_list(engine: PostgresEngine, where: BookingFilter, *,
                         after: tuple[datetime, int] | None, limit: int) -> list[model.Booking]:
    clauses, args = ["b.site = $1"], [where.site_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if where.start_from is not None:
        clauses.append(f"b.start_at >= {arg(where.start_from)}")
    if where.start_before is not None:
        clauses.append(f"b.start_at < {arg(where.start_before)}")
    if where.service_id is not None:
        clauses.append(f"b.service = {arg(where.service_id)}")
    if where.status is not None:
        clauses.append(f"b.status = {arg(where.status)}")
    if where.updated_since is not None:
        clauses.append(f"b.updated_at >= {arg(where.updated_since)}")
    if where.text:
        pattern = arg(f"%{where.text}%")
        clauses.append(f"(b.customer_name ILIKE {pattern} OR b.customer_email ILIKE {pattern})")
    if where.resource_ids is not None:
        # As in the Piccolo query: bookings that take one of these resources now.
        clauses.append(f"b.id IN (SELECT booking FROM allocation WHERE resource = ANY("
                       f"{arg(list(where.resource_ids))}::integer[]) AND booking IS NOT NULL)")
    if after is not None:
        start, booking_id = after
        at, after_id = arg(start), arg(booking_id)
        clauses.append(f"(b.start_at > {at} OR (b.start_at = {at} AND b.id > {after_id}))")
    sql = _POSTGRES_LIST.format(where=" AND ".join(clauses), limit=arg(limit))
    records = await postgres_fetch(engine, sql, *args)
    if not records:
        return []
    catalog = await _catalog(engine, where.site_id)
    if catalog is None or not _names_all(catalog, records):
        # Only a service or resource created after the catalog was kept, and
        # before its notice arrived, can be missing: read it once more, live.
        _catalogs.clear()
        catalog = await _catalog(engine, where.site_id)
        assert catalog is not None
    # The bookings of a page share a service or two and a few pairs of
    # resources: what they share is built once per distinct combination (it
    # is immutable). Answers are each customer's own.
    shared: dict[tuple[Any, ...], Any] = {}
    bookings = []
    for record in records:
        row = dict(record)
        # Most bookings answer nothing: skip the decoder for the empty object.
        row["answers"] = {} if row["answers"] == "{}" else json.loads(row["answers"])
        row["metadata"] = {} if row["metadata"] in (None, "{}") else json.loads(row["metadata"])
        common = (row["resource_ids"], row["service"])
        if common not in shared:
            service, order = catalog.services[row["service"]]
            resources = sorted((catalog.resources[rid] for rid in json.loads(row["resource_ids"])
                                if rid in catalog.resources), key=lambda r: order.get(r.key, len(order)))
            shared[common] = (tuple(resources), catalog.site, service)
        bookings.append(_booking(row, {}, shared[common]))
    return bookings


async def _bookings(condition: Any, *, limit: int | None = None) -> list[model.Booking]:
    """Bookings matching ``condition`` with their site, service and resources: two queries, any count."""
    query = (Booking.select(*_BOOKING_COLUMNS).where(condition)
             .order_by(Booking.start_at).order_by(Booking.id).output(load_json=True))
    rows = await (query.limit(limit) if limit is not None else query)
    wanted = {rid for row in rows for rid in row["resource_ids"]}
    # From the booking's own record, not its allocations: a cancelled booking
    # has freed its time but still says whom it was with.
    names = {
        r["id"]: model.ResourceRef(r["key"], r["name"], model.ResourceKind(r["kind"]), r["texts"] or {})
        for r in (await Resource.select(Resource.id, Resource.key, Resource.name, Resource.kind,
                                        Resource.texts).output(load_json=True)
                  .where(Resource.id.is_in(list(wanted))) if wanted else [])
    }
    return [_booking(row, names) for row in rows]


def _booking(row: dict[str, Any], names: dict[int, model.ResourceRef],
             shared: tuple[tuple[model.ResourceRef, ...], model.SiteRef, model.ServiceRef] | None = None,
             ) -> model.Booking:
    """A booking from its row; ``shared`` is what it has in common with others of a page (see ``_shared``)."""
    resources, site, service = shared or _shared(row, names)
    return model.Booking(
        id=row["id"], uid=str(row["uid"]), status=model.BookingStatus(row["status"]),
        site=site, service=service, start=row["start_at"], end=row["end_at"], resources=resources,
        customer=model.Customer(name=row["customer_name"], email=row["customer_email"],
                                phone=row["customer_phone"]),
        answers=row["answers"], price_minor=row["price_minor"], currency=row["currency"],
        locale=row["locale"], timezone=row["timezone"], created_at=row["created_at"],
        updated_at=row["updated_at"], sequence=row["sequence"],
        reschedule_count=row["reschedule_count"], manage_token_salt=row["manage_token_salt"],
        address=row["customer_address"], metadata=row["metadata"] or {},
    )


def _json(value: Any) -> dict[str, Any]:
    """A joined JSON column: ``load_json`` decodes the table's own columns, not always a join's."""
    if isinstance(value, str):
        return json.loads(value) if value else {}
    return value or {}


async def set_metadata(booking_id: int, metadata: dict[str, Any], *, now: datetime) -> None:
    await Booking.update({Booking.metadata: metadata, Booking.updated_at: now}).where(Booking.id == booking_id)


def _shared(row: dict[str, Any], names: dict[int, model.ResourceRef],
            ) -> tuple[tuple[model.ResourceRef, ...], model.SiteRef, model.ServiceRef]:
    """A booking's resources (in its service's group order), site and service: immutable values."""
    order = {key: i for i, group in enumerate(row["resource_groups"]) for key in group}
    resources = sorted((names[rid] for rid in row["resource_ids"] if rid in names),
                       key=lambda r: order.get(r.key, len(order)))
    site = model.SiteRef(id=row["site"], slug=row["site_slug"], name=row["site_name"],
                         timezone=row["site_timezone"], contact_email=row["site_contact_email"],
                         address=row["site_address"])
    service = model.ServiceRef(slug=row["service_slug"], name=row["service_name"], texts=_json(row["service_texts"]),
                               listed_duration_minutes=row["service_listed_minutes"])
    return tuple(resources), site, service


async def find_booking_id_by_uid(site_id: int, uid: uuid.UUID) -> int | None:
    row = await Booking.select(Booking.id).where((Booking.site == site_id) & (Booking.uid == uid)).first()
    return row["id"] if row else None


async def find_booking_id_by_token_hash(token_hash: str) -> int | None:
    row = await Booking.select(Booking.id).where(Booking.manage_token_hash == token_hash).first()
    return row["id"] if row else None


async def cancel(booking_id: int, *, reason: str | None, now: datetime) -> None:
    """Mark cancelled with its reason and free its time at once."""
    await Booking.update({
        Booking.status: "cancelled", Booking.cancelled_at: now, Booking.cancel_reason: reason,
        Booking.sequence: Booking.sequence + 1, Booking.updated_at: now,
    }).where(Booking.id == booking_id)
    await Allocation.delete().where(Allocation.booking == booking_id)


async def move(
    booking_id: int, *, rules: ServiceRules, service_id: int, resource_ids: Sequence[int],
    new_start: datetime, now: datetime,
) -> None:
    """Move to ``new_start`` on these resources: the old time is released in the same step."""
    await Booking.update({
        Booking.start_at: new_start, Booking.end_at: new_start + rules.duration,
        Booking.sequence: Booking.sequence + 1,
        Booking.reschedule_count: Booking.reschedule_count + 1, Booking.resource_ids: list(resource_ids),
        Booking.updated_at: now,
    }).where(Booking.id == booking_id)
    await Allocation.delete().where(Allocation.booking == booking_id)
    await Allocation.insert(*_allocations(rules, service_id, resource_ids, new_start, booking=booking_id))


async def resource_ids_of(booking_id: int) -> list[int]:
    row = await (Booking.select(Booking.resource_ids).where(Booking.id == booking_id)
                 .first().output(load_json=True))
    return list(row["resource_ids"])


async def token_material(booking_id: int) -> tuple[str, str]:
    """The uid and salt a booking's manage token is derived from."""
    row = await Booking.select(Booking.uid, Booking.manage_token_salt).where(Booking.id == booking_id).first()
    return str(row["uid"]), row["manage_token_salt"]
