"""Read queries that return domain values, never ORM rows.

Each function is one round trip (or a fixed few), whatever the number of
slots or days asked for: the availability engine gets everything it needs up
front and never goes back to the database per candidate slot.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine
from piccolo.columns import JSON
from piccolo.engine.sqlite import SQLiteEngine

from slotwise.domain import model
from slotwise.domain.limits import MAX_BLOCK_MINUTES
from slotwise.domain.model import Busy, ResourceCalendar, ResourceKind, ServiceRules
from slotwise.persistence import codec
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import current_engine, postgres_fetch
from slotwise.persistence.tables import Allocation, CalendarBusy, Resource, Service, Site, TimeOff


def site_from_row(row: dict[str, Any]) -> model.Site:
    return model.Site(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        timezone=row["timezone"],
        locale=row["locale"],
        allowed_origins=tuple(row["allowed_origins"]),
        accent=row["accent"],
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        address=row["address"],
        notify_email=row["notify_email"],
        hours=codec.decode_weekly(row["hours"]),
        closed=codec.decode_dates(row["closed"]),
        hold_minutes=row["hold_minutes"],
        max_reschedules=row["max_reschedules"],
        sms_enabled=row["sms_enabled"],
        sandbox=row["sandbox"],
        feed_customer_names=row["feed_customer_names"],
        email_templates=dict(row["message_templates"].get("email", {})),
        sms_templates=dict(row["message_templates"].get("sms", {})),
        config_version=row["config_version"],
    )


def service_from_row(row: dict[str, Any]) -> model.Service:
    minutes = timedelta(minutes=1)
    rules = ServiceRules(
        key=row["slug"],
        duration=row["duration_minutes"] * minutes,
        step=row["step_minutes"] * minutes,
        resource_groups=tuple(tuple(group) for group in row["resource_groups"]),
        buffer_before=row["buffer_before_minutes"] * minutes,
        buffer_after=row["buffer_after_minutes"] * minutes,
        min_notice=row["min_notice_minutes"] * minutes,
        max_advance=row["max_advance_minutes"] * minutes,
        seats=row["seats"],
    )
    return model.Service(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        rules=rules,
        description=row["description"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        phone=model.PhoneMode(row["phone"]),
        questions=tuple(codec.decode_question(q) for q in row["questions"]),
        reminders=tuple(row["reminders"]),
        cancel_until_minutes=row["cancel_until_minutes"],
        reschedule_until_minutes=row["reschedule_until_minutes"],
        enabled=row["enabled"],
        texts=row.get("texts") or {},
        category=row.get("category"),
        listed_duration_minutes=row.get("listed_duration_minutes"),
        ask_address=bool(row.get("ask_address")),
        metadata=row.get("metadata") or {},
    )


# Every admin request and every booking-page step looks its site up by slug. On
# PostgreSQL a plain statement skips building the Piccolo query (about 0.5 ms
# of CPU a request, more than the lookup itself). JSON columns arrive as text.
# Every column of the table, so the plain statements below can never miss one a
# migration adds (site_from_row reads them by name).
SITE_COLUMNS = tuple(column._meta.db_column_name for column in Site._meta.columns)
_SITE_JSON = tuple(column._meta.db_column_name for column in Site._meta.columns if isinstance(column, JSON))
_POSTGRES_SITE = f"SELECT {', '.join(SITE_COLUMNS)} FROM site WHERE slug = $1"


def site_from_record(record: Mapping[str, Any], prefix: str = "") -> model.Site:
    """A site from a plain PostgreSQL row (JSON columns as text); its columns may carry a prefix."""
    row = {column: record[prefix + column] for column in SITE_COLUMNS}
    for column in _SITE_JSON:
        row[column] = json.loads(row[column])
    return site_from_row(row)


async def find_site(slug: str) -> model.Site | None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        rows = await postgres_fetch(engine, _POSTGRES_SITE, slug)
        return site_from_record(rows[0]) if rows else None
    row = await Site.select().where(Site.slug == slug).first().output(load_json=True)
    return site_from_row(row) if row else None


async def list_services(site_id: int, *, include_disabled: bool = False) -> list[model.Service]:
    query = Service.select().where(Service.site == site_id)
    if not include_disabled:
        query = query.where(Service.enabled.eq(True))
    rows = await query.order_by(Service.position).output(load_json=True)
    return [service_from_row(row) for row in rows]


async def find_service(site_id: int, slug: str) -> model.Service | None:
    row = (
        await Service.select()
        .where((Service.site == site_id) & (Service.slug == slug))
        .first()
        .output(load_json=True)
    )
    return service_from_row(row) if row else None


async def load_resources(site: model.Site, keys: Sequence[str]) -> dict[str, model.Resource]:
    """The named active resources of a site, with calendars resolved.

    A resource without its own zone or hours inherits the site's at read time,
    so changing the site's hours in the site file moves every inheriting
    resource with it.
    """
    if not keys:
        return {}
    rows = (
        await Resource.select()
        .where(
            (Resource.site == site.id)
            & Resource.key.is_in(list(keys))
            & Resource.active.eq(True)
        )
        .output(load_json=True)
    )
    return {row["key"]: resource_from_row(row, site) for row in rows}


def resource_from_row(row: Mapping[str, Any], site: model.Site) -> model.Resource:
    """A resource row (JSON columns decoded) with its calendar resolved against its site's."""
    calendar = ResourceCalendar(
        key=row["key"],
        zone=ZoneInfo(row["timezone"] or site.timezone),
        weekly=site.hours if row["hours"] is None else codec.decode_weekly(row["hours"]),
        closed=codec.decode_dates(row["closed"]),
        extra_open=codec.decode_dated_ranges(row["extra_open"]),
    )
    return model.Resource(
        id=row["id"], key=row["key"], name=row["name"], kind=ResourceKind(row["kind"]),
        calendar=calendar, texts=row.get("texts") or {}, metadata=row.get("metadata") or {},
    )


# No booking blocks a resource longer than this (the site file caps duration
# and buffers), so the busy query can bound its range scan on both ends.
LONGEST_BLOCK = timedelta(minutes=MAX_BLOCK_MINUTES)
# How busy time from time off is labelled for the engine: no service is called
# this (slugs have no "#"), so it is never a seat of a group session.
TIME_OFF = "#time-off"
# Busy blocks from connected calendars are stored in pieces of at most this
# length (persistence/calendars.py splits a week-long event into days), so
# their scan is bounded below too: a piece starting a day before the range has ended.
LONGEST_CALENDAR_BLOCK = timedelta(days=1)

# Busy time as the widget's availability reads it on PostgreSQL (see load_busy).
_busy_cache: TableCache[tuple, list[tuple[datetime | None, Busy]]] = TableCache(
    "allocation", "time_off", "calendar_busy", size=4096,
)
# A ``now`` before any hold's expiry: the cached read keeps every hold and the clock filters later.
EVERY_HOLD = datetime(2000, 1, 1, tzinfo=UTC)


async def load_busy(
    resources: Mapping[int, str], *, service_id: int, service_key: str,
    overlapping_from: datetime, overlapping_until: datetime, now: datetime,
    except_hold: int | None = None, except_booking: int | None = None,
) -> list[Busy]:
    """Blocks on these resources (id -> key) that overlap ``[overlapping_from, overlapping_until)``.

    Holds count only while they live (``expires_at > now``); bookings always.
    ``except_hold`` leaves out the hold a customer is now turning into a booking,
    ``except_booking`` the booking being moved (its own time counts as free).
    Rows of ``service_id`` are labelled ``service_key`` so the engine can tell
    seats of the same group session; other services only need to differ.
    The scan runs on the (resource, blocked_from) index over a range bounded
    on both ends: a block starting before ``overlapping_from - LONGEST_BLOCK``
    has certainly ended. Time off of these resources counts too, with no
    buffers and no length bound (a fortnight's leave); there are few such rows.
    Busy blocks synced from connected calendars count the same way as time off,
    their scan bounded below by ``LONGEST_CALENDAR_BLOCK``.
    """
    if not resources:
        return []
    lower_bound = overlapping_from - LONGEST_BLOCK
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        calendar_bound = overlapping_from - LONGEST_CALENDAR_BLOCK
        if except_hold is None and except_booking is None:
            # Kept in memory until busy time changes anywhere (change_feed), with
            # every hold alive when read: the clock then only drops the ones
            # that have expired since, so one entry serves every later ``now``.
            async def load() -> list[tuple[datetime | None, Busy]]:
                rows = await postgres_fetch(
                    engine, _POSTGRES_BUSY, list(resources), lower_bound, overlapping_from,
                    overlapping_until, EVERY_HOLD, None, None, calendar_bound,
                )
                return [(row["expires_at"], _busy(row, resources, service_id, service_key)) for row in rows]

            key = (tuple(resources.items()), service_id, service_key, overlapping_from, overlapping_until)
            kept = await _busy_cache.get(key, load)
            return [busy for expires_at, busy in kept if expires_at is None or expires_at > now]
        rows = await postgres_fetch(
            engine, _POSTGRES_BUSY, list(resources), lower_bound, overlapping_from, overlapping_until, now,
            except_hold, except_booking, calendar_bound,
        )
        return [_busy(row, resources, service_id, service_key) for row in rows]
    if isinstance(engine, SQLiteEngine) and except_hold is None and except_booking is None:
        rows = _sqlite_reader(engine.path).busy_rows(
            list(resources), lower_bound, overlapping_from, overlapping_until, now
        )
        return [_busy(row, resources, service_id, service_key) for row in rows]
    query = Allocation.select(
        Allocation.resource,
        Allocation.service,
        Allocation.start_at,
        Allocation.blocked_from,
        Allocation.blocked_until,
        Allocation.seats,
    ).where(
        Allocation.resource.is_in(list(resources))
        & (Allocation.blocked_from >= lower_bound)
        & (Allocation.blocked_from < overlapping_until)
        & (Allocation.blocked_until > overlapping_from)
        & (Allocation.expires_at.is_null() | (Allocation.expires_at > now))
    )
    if except_hold is not None:
        query = query.where(Allocation.hold.is_null() | (Allocation.hold != except_hold))
    if except_booking is not None:
        query = query.where(Allocation.booking.is_null() | (Allocation.booking != except_booking))
    time_off = TimeOff.select(
        TimeOff.resource, TimeOff.start_at.as_alias("blocked_from"), TimeOff.end_at.as_alias("blocked_until"),
    ).where(TimeOff.resource.is_in(list(resources)) & (TimeOff.start_at < overlapping_until)
            & (TimeOff.end_at > overlapping_from))
    calendar_busy = CalendarBusy.select(
        CalendarBusy.resource, CalendarBusy.start_at.as_alias("blocked_from"),
        CalendarBusy.end_at.as_alias("blocked_until"),
    ).where(CalendarBusy.resource.is_in(list(resources))
            & (CalendarBusy.start_at >= overlapping_from - LONGEST_CALENDAR_BLOCK)
            & (CalendarBusy.start_at < overlapping_until) & (CalendarBusy.end_at > overlapping_from))
    rows = [*await query, *({**row, "service": None, "start_at": None, "seats": 1}
                            for row in [*await time_off, *await calendar_busy])]
    return [_busy(row, resources, service_id, service_key) for row in rows]


# The query of ``load_busy`` on PostgreSQL, as one statement of fixed text (one
# round trip, prepared once per connection). Building the two Piccolo queries
# cost about 0.8 ms a request, four times the statement's own time; see
# docs/decisions.md, Performance. It must match the Piccolo query in
# ``load_busy``, which SQLite runs for the ``except_`` cases (the tests cover
# both engines): $6 and $7 are the hold and booking to leave out, or NULL; $8 bounds
# the calendar blocks' scan from below (LONGEST_CALENDAR_BLOCK).
_POSTGRES_BUSY = (
    "SELECT resource, service, start_at, blocked_from, blocked_until, seats, expires_at FROM allocation"
    " WHERE resource = ANY($1::integer[]) AND blocked_from >= $2 AND blocked_from < $4"
    " AND blocked_until > $3 AND (expires_at IS NULL OR expires_at > $5)"
    " AND ($6::integer IS NULL OR hold IS NULL OR hold <> $6)"
    " AND ($7::integer IS NULL OR booking IS NULL OR booking <> $7)"
    " UNION ALL"
    " SELECT resource, NULL, NULL, start_at, end_at, 1, NULL FROM time_off"
    " WHERE resource = ANY($1::integer[]) AND start_at < $4 AND end_at > $3"
    " UNION ALL"
    " SELECT resource, NULL, NULL, start_at, end_at, 1, NULL FROM calendar_busy"
    " WHERE resource = ANY($1::integer[]) AND start_at >= $8 AND start_at < $4 AND end_at > $3"
)


def _busy(row: Mapping[str, Any], resources: Mapping[int, str], service_id: int, service_key: str) -> Busy:
    if row["service"] is None:
        label = TIME_OFF  # collides with everything, seats or not
    else:
        label = service_key if row["service"] == service_id else f"#{row['service']}"
    return Busy(
        resource=resources[row["resource"]],
        blocked_from=row["blocked_from"],
        blocked_until=row["blocked_until"],
        service=label,
        start=row["start_at"],
        seats=row["seats"],
    )


class _SQLiteReader:
    """A kept-open, read-only connection for the hottest read: busy time.

    Through Piccolo every SQLite statement opens a connection and hops to an
    aiosqlite thread, about 1-2 ms; this indexed read of a few dozen rows
    takes about 0.1 ms on a kept connection, short enough to run on the event
    loop. In WAL mode readers never wait for writers, and each statement in
    autocommit mode sees everything committed before it. The SQL must match
    the Piccolo query in ``load_busy`` and ``_POSTGRES_BUSY`` (all three are
    exercised by the tests: this path and, for the ``except_`` filters, the
    Piccolo one on SQLite; ``_POSTGRES_BUSY`` on PostgreSQL).
    """

    SQL = (
        "SELECT resource, service, start_at, blocked_from, blocked_until, seats FROM allocation"
        " WHERE resource IN ({marks}) AND blocked_from >= ? AND blocked_from < ?"
        " AND blocked_until > ? AND (expires_at IS NULL OR expires_at > ?)"
        " UNION ALL"
        " SELECT resource, NULL, NULL, start_at, end_at, 1 FROM time_off"
        " WHERE resource IN ({marks}) AND start_at < ? AND end_at > ?"
        " UNION ALL"
        " SELECT resource, NULL, NULL, start_at, end_at, 1 FROM calendar_busy"
        " WHERE resource IN ({marks}) AND start_at >= ? AND start_at < ? AND end_at > ?"
    )

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self.connection.row_factory = sqlite3.Row

    def busy_rows(self, resource_ids: list[int], lower: datetime, since: datetime,
                  until: datetime, now: datetime) -> list[dict[str, Any]]:
        sql = self.SQL.format(marks=", ".join("?" * len(resource_ids)))
        params = [*resource_ids, *(_sqlite_instant(t) for t in (lower, until, since, now)),
                  *resource_ids, *(_sqlite_instant(t) for t in (until, since)),
                  *resource_ids,
                  *(_sqlite_instant(t) for t in (since - LONGEST_CALENDAR_BLOCK, until, since))]
        return [
            {
                "resource": row["resource"],
                "service": row["service"],
                "start_at": _parse_instant(row["start_at"]) if row["start_at"] else None,
                "blocked_from": _parse_instant(row["blocked_from"]),
                "blocked_until": _parse_instant(row["blocked_until"]),
                "seats": row["seats"],
            }
            for row in self.connection.execute(sql, params)
        ]


@lru_cache(maxsize=4)
def _sqlite_reader(path: str) -> _SQLiteReader:
    return _SQLiteReader(path)


def _sqlite_instant(value: datetime) -> str:
    # Piccolo writes aware datetimes to SQLite as str() of the UTC value.
    return str(value.astimezone(UTC))


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
