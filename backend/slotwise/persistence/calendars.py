"""Calendar connections, their stored busy blocks, and the write-back queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.domain.external_busy import ExternalBusy
from slotwise.domain.model import Site as SiteValue
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.queries import LONGEST_CALENDAR_BLOCK, site_from_row
from slotwise.persistence.tables import (
    Allocation,
    Booking,
    CalendarBusy,
    CalendarConnection,
    CalendarWrite,
    Site,
)


@dataclass(frozen=True, slots=True)
class Connection:
    id: int
    public_id: str
    site_id: int
    resource_id: int
    resource: str  # the resource's key
    kind: str  # ics | caldav
    url: str
    username: str | None
    password_encrypted: str | None
    write_bookings: bool
    state: str  # pending | ok | error
    last_synced_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    failures: int
    etag: str | None
    last_modified: str | None
    created_at: datetime


_COLUMNS = (CalendarConnection.all_columns(), CalendarConnection.resource.key.as_alias("resource_key"))


def _connection(row: dict[str, Any]) -> Connection:
    return Connection(
        id=row["id"], public_id=row["public_id"], site_id=row["site"], resource_id=row["resource"],
        resource=row["resource_key"], kind=row["kind"], url=row["url"], username=row["username"],
        password_encrypted=row["password_encrypted"], write_bookings=row["write_bookings"], state=row["state"],
        last_synced_at=row["last_synced_at"], last_attempt_at=row["last_attempt_at"],
        last_error=row["last_error"], failures=row["failures"], etag=row["etag"],
        last_modified=row["last_modified"], created_at=row["created_at"],
    )


async def insert(*, public_id: str, site_id: int, resource_id: int, kind: str, url: str,
                 username: str | None, password_encrypted: str | None, write_bookings: bool,
                 now: datetime) -> Connection:
    await CalendarConnection.insert(CalendarConnection(
        public_id=public_id, site=site_id, resource=resource_id, kind=kind, url=url, username=username,
        password_encrypted=password_encrypted, write_bookings=write_bookings, state="pending",
        next_sync_at=now, created_at=now))
    found = await by_public_id(site_id, public_id)
    assert found is not None
    return found


async def by_public_id(site_id: int, public_id: str) -> Connection | None:
    row = await (CalendarConnection.select(*_COLUMNS)
                 .where((CalendarConnection.site == site_id) & (CalendarConnection.public_id == public_id)).first())
    return _connection(row) if row else None


async def by_id(connection_id: int) -> Connection | None:
    row = await CalendarConnection.select(*_COLUMNS).where(CalendarConnection.id == connection_id).first()
    return _connection(row) if row else None


async def of_resource(resource_id: int) -> list[Connection]:
    rows = await (CalendarConnection.select(*_COLUMNS).where(CalendarConnection.resource == resource_id)
                  .order_by(CalendarConnection.id))
    return [_connection(row) for row in rows]


async def writing_on_site(site_id: int) -> list[Connection]:
    """The site's connections that write bookings back."""
    rows = await CalendarConnection.select(*_COLUMNS).where(
        (CalendarConnection.site == site_id) & (CalendarConnection.write_bookings == True)  # noqa: E712
    )
    return [_connection(row) for row in rows]


async def delete(connection_id: int) -> None:
    await CalendarBusy.delete().where(CalendarBusy.connection == connection_id)
    await CalendarWrite.delete().where(CalendarWrite.connection == connection_id)
    await CalendarConnection.delete().where(CalendarConnection.id == connection_id)


async def claim_due(*, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Connections due for a sync, leased to this worker (as the message outbox claims its rows)."""
    due = (CalendarConnection.next_sync_at <= now) & (
        CalendarConnection.claimed_until.is_null() | (CalendarConnection.claimed_until < now))
    if not await CalendarConnection.exists().where(due):
        return []  # the usual idle round: a plain read, no write lock taken every few seconds
    async with write_transaction(current_engine()):
        query = (CalendarConnection.select(CalendarConnection.id).where(due)
                 .order_by(CalendarConnection.next_sync_at).limit(limit))
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows(skip_locked=True)
        ids = [row["id"] for row in await query]
        if ids:
            await CalendarConnection.update({CalendarConnection.claimed_until: now + lease}).where(
                CalendarConnection.id.is_in(ids))
    return ids


async def make_due(connection_id: int, *, now: datetime) -> None:
    await CalendarConnection.update({CalendarConnection.next_sync_at: now}).where(
        CalendarConnection.id == connection_id)


async def record_success(connection_id: int, *, busy: Sequence[ExternalBusy] | None, resource_id: int,
                         etag: str | None, last_modified: str | None, now: datetime,
                         next_sync_at: datetime) -> None:
    """A good sync: its blocks replace the stored ones whole (``busy`` None: unchanged, a 304).

    A connection removed while it was being read stays removed.
    """
    if not await CalendarConnection.exists().where(CalendarConnection.id == connection_id):
        return
    if busy is not None:
        await CalendarBusy.delete().where(CalendarBusy.connection == connection_id)
        rows = [CalendarBusy(connection=connection_id, resource=resource_id, start_at=start, end_at=end, uid=b.uid)
                for b in busy for start, end in pieces(b.start, b.end)]
        for chunk in range(0, len(rows), 500):
            await CalendarBusy.insert(*rows[chunk:chunk + 500])
    await CalendarConnection.update({
        CalendarConnection.state: "ok", CalendarConnection.last_synced_at: now,
        CalendarConnection.last_attempt_at: now, CalendarConnection.last_error: None,
        CalendarConnection.failures: 0, CalendarConnection.etag: etag,
        CalendarConnection.last_modified: last_modified, CalendarConnection.next_sync_at: next_sync_at,
        CalendarConnection.claimed_until: None,
    }).where(CalendarConnection.id == connection_id)


async def record_failure(connection_id: int, *, error: str, now: datetime, next_sync_at: datetime) -> int:
    """A failed sync: the stored blocks stay; returns the failures in a row, this one included."""
    row = await CalendarConnection.select(CalendarConnection.failures).where(
        CalendarConnection.id == connection_id).first()
    failures = (row["failures"] if row else 0) + 1
    await CalendarConnection.update({
        CalendarConnection.state: "error", CalendarConnection.last_attempt_at: now,
        CalendarConnection.last_error: error, CalendarConnection.failures: failures,
        CalendarConnection.next_sync_at: next_sync_at, CalendarConnection.claimed_until: None,
    }).where(CalendarConnection.id == connection_id)
    return failures


def pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into back-to-back pieces of at most ``LONGEST_CALENDAR_BLOCK``.

    A three-day event 2026-11-25 00:00 to 11-28 00:00 is stored as three rows
    of a day each; together they block exactly what the event blocks, and the
    busy query can bound its scan on both ends.
    """
    found = []
    while end - start > LONGEST_CALENDAR_BLOCK:
        found.append((start, start + LONGEST_CALENDAR_BLOCK))
        start += LONGEST_CALENDAR_BLOCK
    found.append((start, end))
    return found


async def busy_of(connection_id: int) -> list[dict[str, Any]]:
    return await (CalendarBusy.select(CalendarBusy.start_at, CalendarBusy.end_at, CalendarBusy.uid)
                  .where(CalendarBusy.connection == connection_id).order_by(CalendarBusy.start_at))


async def site_of(site_id: int) -> SiteValue:
    row = await Site.select().where(Site.id == site_id).first().output(load_json=True)
    return site_from_row(row)


# --- write-back queue ---


async def upcoming_bookings_on(resource_id: int, *, now: datetime) -> list[int]:
    """Confirmed bookings of the resource that have not ended, in start order."""
    rows = await (Allocation.select(Allocation.booking).where(
        (Allocation.resource == resource_id) & Allocation.booking.is_not_null() & (Allocation.end_at > now))
        .order_by(Allocation.start_at))
    return list(dict.fromkeys(row["booking"] for row in rows))


async def booked_resource_ids(booking_id: int) -> list[int]:
    """The resources a booking has (or had, when cancelled: the booking row keeps them)."""
    row = await Booking.select(Booking.resource_ids).where(Booking.id == booking_id).first().output(load_json=True)
    return list(row["resource_ids"]) if row else []



async def queue_write(connection_id: int, booking_id: int, action: str, *, now: datetime) -> None:
    await CalendarWrite.insert(CalendarWrite(connection=connection_id, booking=booking_id, action=action,
                                             status="queued", next_attempt_at=now, created_at=now))


async def claim_writes(*, now: datetime, lease: timedelta, limit: int) -> list[dict[str, Any]]:
    """Due writes, in the order they were queued, leased to this worker.

    A booking's writes must land in order (a move after its create), so a
    write is due only when no earlier write of the same booking and
    calendar is still open.
    """
    due = ((CalendarWrite.status == "queued") & (CalendarWrite.next_attempt_at <= now)) | (
        (CalendarWrite.status == "sending") & (CalendarWrite.claimed_until < now))
    if not await CalendarWrite.exists().where(due):
        return []
    async with write_transaction(current_engine()):
        query = CalendarWrite.select().where(due).order_by(CalendarWrite.id).limit(limit)
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows(skip_locked=True)
        rows = await query
        open_rows = await CalendarWrite.select(CalendarWrite.id, CalendarWrite.connection, CalendarWrite.booking).where(
            CalendarWrite.status.is_in(["queued", "sending"]))
        first_open: dict[tuple[int, int], int] = {}
        for row in open_rows:
            pair = (row["connection"], row["booking"])
            first_open[pair] = min(first_open.get(pair, row["id"]), row["id"])
        rows = [row for row in rows if first_open.get((row["connection"], row["booking"])) == row["id"]]
        if rows:
            await CalendarWrite.update({
                CalendarWrite.status: "sending", CalendarWrite.claimed_until: now + lease,
                CalendarWrite.attempts: CalendarWrite.attempts + 1,
            }).where(CalendarWrite.id.is_in([row["id"] for row in rows]))
    return [{**row, "attempts": row["attempts"] + 1} for row in rows]


async def finish_write(write_id: int, *, status: str, error: str | None, now: datetime,
                       next_attempt_at: datetime | None = None) -> None:
    values: dict[Any, Any] = {CalendarWrite.status: status, CalendarWrite.last_error: error,
                              CalendarWrite.claimed_until: None}
    if next_attempt_at is not None:
        values[CalendarWrite.next_attempt_at] = next_attempt_at
    if status in {"done", "failed"}:
        values[CalendarWrite.done_at] = now
    await CalendarWrite.update(values).where(CalendarWrite.id == write_id)


async def writes_of(booking_id: int) -> list[dict[str, Any]]:
    return await CalendarWrite.select().where(CalendarWrite.booking == booking_id).order_by(CalendarWrite.id)
