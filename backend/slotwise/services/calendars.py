"""Busy calendars in, bookings written back out (docs/calendars.md).

A resource connects ICS URLs and CalDAV calendars. The sync (run by the worker
every ``SLOTWISE_CALENDAR_SYNC_MINUTES``, and at once for a new connection or
on request) reads each one over the site's booking horizon and replaces the
connection's stored busy blocks with what it found; availability and the
booking transaction read those blocks like time off (``persistence/queries``).
A failed sync changes no block: the last good copy keeps blocking, the
connection shows the error, and after ``ALERT_AFTER`` failures in a row the
owner is emailed once. No sync ever touches a Slotwise booking.

With ``write_bookings`` (CalDAV only) every change of a booking of the
resource queues a write (``calendar_write``) in the change's own transaction;
the worker carries it out with retries. The event's UID is the booking's
(``services/calendar_files.booking_uid``), the one in the customer's ``.ics``,
and the sync skips events with our UIDs, so a written-back booking never
blocks itself.
"""

from __future__ import annotations

import asyncio
import html
import logging
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from icalendar import Calendar, Event

from slotwise.adapters import calendar_sources as sources
from slotwise.adapters.delivery import OutgoingEmail
from slotwise.clock import Clock
from slotwise.domain.actors import Actor
from slotwise.domain.external_busy import BadCalendar, ExternalBusy, busy_blocks
from slotwise.domain.model import Booking, Site
from slotwise.domain.retry import gives_up, retry_delay
from slotwise.i18n import DEFAULT_LOCALE, supported, translations
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import calendars as store
from slotwise.persistence import outbox, queries
from slotwise.persistence.calendars import Connection
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit
from slotwise.services.secret_box import SecretBox, UnreadableSecret
from slotwise.services.calendar_files import PRODID, booking_uid
from slotwise.services.email_content import header_value
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope

log = logging.getLogger(__name__)

KINDS = ("ics", "caldav")
URL_MAX = 2000
CREDENTIAL_MAX = 255
PURPOSE = "calendar-password"  # the HKDF purpose of stored calendar passwords
VIA = "admin-api"
# Failed syncs in a row before the owner is emailed (once per run of failures).
ALERT_AFTER = 3
# Busy blocks one connection may store: a dense work calendar has a few
# thousand over a season; more is a runaway rule or a hostile file.
MAX_BLOCKS = 20_000
# The window synced: from a day back (an event running into today) to the
# furthest any service of the site can be booked; 90 days when none says.
LOOK_BACK = timedelta(days=1)
DEFAULT_HORIZON = timedelta(days=90)
LONGEST_HORIZON = timedelta(days=2 * 366)
LEASE = timedelta(minutes=2)
BATCH = 10
IDLE_PAUSE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Outbound:
    """What outbound calls need: the key stored passwords are encrypted with, and whether
    private and loopback addresses may be called (``SLOTWISE_WEBHOOK_ALLOW_PRIVATE``)."""

    secret_key: str
    allow_private: bool = False
    sync_period: timedelta = timedelta(minutes=5)
    mail_from: str = "slotwise@localhost"
    base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_settings(cls, settings) -> Outbound:
        from slotwise.services.notifications import Messaging

        messaging = Messaging.from_settings(settings)
        return cls(secret_key=settings.secret_key, allow_private=settings.allow_private_targets,
                   sync_period=timedelta(minutes=settings.calendar_sync_minutes),
                   mail_from=messaging.mail_from, base_url=messaging.base_url)


def shown_url(url: str) -> str:
    """The URL without any user:password part, as lists, logs and emails show it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:  # "http://[::1", "http://host:99999"
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


async def _resource_id(site: Site, key: str) -> int:
    found = await queries.load_resources(site, [key])
    if key not in found:
        raise NotFound("resource", key)
    return found[key].id


# --- configuration --------------------------------------------------------------------


async def connect_calendar(site: Site, resource: str, *, kind: object, url: object, username: object,
                           password: object, write_bookings: object, actor: Actor, now: datetime,
                           outbound: Outbound, idempotency_key: str | None = None) -> Connection:
    """Connect a calendar; it is due for its first sync at once (the worker picks it up)."""
    problems: list[FieldProblem] = []
    if kind not in KINDS:
        problems.append(FieldProblem("kind", "choice-unknown", {"choices": ", ".join(KINDS)}))
    if url is None or (isinstance(url, str) and not url.strip()):
        problems.append(FieldProblem("url", "required"))
    elif not isinstance(url, str):
        problems.append(FieldProblem("url", "string-expected"))
    elif len(url) > URL_MAX:
        problems.append(FieldProblem("url", "text-too-long", {"limit": URL_MAX}))
    elif not _is_http_url(url.strip()):
        problems.append(FieldProblem("url", "http-url-expected"))
    for name, value in (("username", username), ("password", password)):
        if value is not None and not isinstance(value, str):
            problems.append(FieldProblem(name, "string-expected"))
        elif isinstance(value, str) and len(value) > CREDENTIAL_MAX:
            problems.append(FieldProblem(name, "text-too-long", {"limit": CREDENTIAL_MAX}))
    if write_bookings is not None and not isinstance(write_bookings, bool):
        problems.append(FieldProblem("write_bookings", "boolean-expected"))
    elif write_bookings and kind != "caldav":
        problems.append(FieldProblem("write_bookings", "caldav-only"))
    if not problems:
        assert isinstance(url, str)
        try:
            await sources.check_target(url.strip(), allow_private=outbound.allow_private)
        except sources.PrivateTarget:
            problems.append(FieldProblem("url", "private-address"))
        except sources.SourceError:
            pass  # not resolvable now: the sync will say so in the connection's error
    if problems:
        raise InvalidInput(problems)
    assert isinstance(url, str) and isinstance(kind, str)
    encrypted = (SecretBox(outbound.secret_key, PURPOSE).seal(password)
                 if isinstance(password, str) and password else None)
    write = IdempotentWrite(scope(f"site:{site.id}", f"calendar:{resource}", actor), idempotency_key,
                            fingerprint(kind=kind, url=url, username=username, password=password,
                                        write_bookings=write_bookings))
    async with write_transaction(current_engine()):
        previous = await write.replay(now)
        if previous is not None:
            earlier = await store.by_public_id(site.id, previous["calendar"])
            if earlier is not None:
                return earlier
        resource_id = await _resource_id(site, resource)
        connection = await store.insert(
            public_id="cal_" + secrets.token_hex(8), site_id=site.id, resource_id=resource_id, kind=kind,
            url=url.strip(), username=username or None, password_encrypted=encrypted,
            write_bookings=bool(write_bookings), now=now)
        if connection.write_bookings:  # the bookings already there go to the calendar too
            for booking_id in await store.upcoming_bookings_on(resource_id, now=now):
                await store.queue_write(connection.id, booking_id, "put", now=now)
        await audit.record(site.id, actor=actor, now=now, via=VIA, kind="calendar", ref=connection.public_id,
                           before=None, after=_audited(connection))
        await write.remember({"calendar": connection.public_id}, now)
    return connection


def _audited(connection: Connection) -> dict[str, object]:
    """A connection as the audit log shows it: never the password."""
    return {"resource": connection.resource, "kind": connection.kind, "url": shown_url(connection.url),
            "username": connection.username, "write_bookings": connection.write_bookings}


async def _connection_of(site: Site, resource: str, public_id: str) -> Connection:
    found = await store.by_public_id(site.id, public_id)
    if found is None or found.resource != resource:
        raise NotFound("calendar", public_id)
    return found


async def calendars_of(site: Site, resource: str) -> list[Connection]:
    async with read_transaction(current_engine()):
        return await store.of_resource(await _resource_id(site, resource))


async def disconnect_calendar(site: Site, resource: str, public_id: str, *, actor: Actor, now: datetime) -> None:
    """Remove the connection and its busy blocks (bookings written back stay in the calendar)."""
    async with write_transaction(current_engine()):
        found = await _connection_of(site, resource, public_id)
        await store.delete(found.id)
        await audit.record(site.id, actor=actor, now=now, via=VIA, kind="calendar", ref=public_id,
                           before=_audited(found), after=None)


async def sync_now(site: Site, resource: str, public_id: str, *, outbound: Outbound, clock: Clock) -> Connection:
    """Sync one connection now, in this request; answers it as it is afterwards."""
    found = await _connection_of(site, resource, public_id)
    await sync_connection(found.id, outbound=outbound, now=clock())
    refreshed = await store.by_id(found.id)
    assert refreshed is not None
    return refreshed


# --- the sync ---------------------------------------------------------------------------


async def _horizon(site_id: int, now: datetime) -> tuple[datetime, datetime]:
    services = await queries.list_services(site_id)
    furthest = max((s.rules.max_advance for s in services), default=DEFAULT_HORIZON) or DEFAULT_HORIZON
    return now - LOOK_BACK, now + min(furthest, LONGEST_HORIZON) + timedelta(days=1)


async def _read(connection: Connection, site: Site, *, outbound: Outbound,
                now: datetime) -> tuple[list[ExternalBusy] | None, str | None, str | None]:
    """The source's busy blocks (None: unchanged since the last fetch), with the new ETag/Last-Modified."""
    resources = await queries.load_resources(site, [connection.resource])
    if connection.resource not in resources:
        raise sources.SourceError("the resource is retired")
    zone = resources[connection.resource].calendar.zone
    start, end = await _horizon(site.id, now)
    password = (SecretBox(outbound.secret_key, PURPOSE).open(connection.password_encrypted)
                if connection.password_encrypted else None)
    if connection.kind == "ics":
        # The first sync of each (UTC) day fetches in full even when the file is unchanged:
        # the window moves on, and recurring events must be expanded into its new last day.
        fresh_day = connection.last_synced_at is None or connection.last_synced_at.date() != now.date()
        fetched = await sources.fetch_ics(connection.url, etag=None if fresh_day else connection.etag,
                                          last_modified=None if fresh_day else connection.last_modified,
                                          allow_private=outbound.allow_private,
                                          username=connection.username, password=password)
        if fetched.body is None:
            return None, fetched.etag, fetched.last_modified
        blocks = await asyncio.to_thread(busy_blocks, fetched.body, start=start, end=end, zone=zone,
                                         limit=MAX_BLOCKS)
        return blocks, fetched.etag, fetched.last_modified
    texts = await sources.caldav_events(connection.url, username=connection.username, password=password,
                                        start=start, end=end, allow_private=outbound.allow_private)
    blocks = []
    for text in texts:
        blocks += await asyncio.to_thread(busy_blocks, text, start=start, end=end, zone=zone,
                                          limit=MAX_BLOCKS - len(blocks))
    return blocks, None, None


async def sync_connection(connection_id: int, *, outbound: Outbound, now: datetime) -> None:
    """Read one source and store its busy blocks; a failure is recorded, never raised."""
    connection = await store.by_id(connection_id)
    if connection is None:
        return
    site = await store.site_of(connection.site_id)
    next_sync = now + outbound.sync_period
    try:
        blocks, etag, last_modified = await _read(connection, site, outbound=outbound, now=now)
    except (sources.SourceError, BadCalendar, UnreadableSecret) as exc:
        error = str(exc)[:1000]
        log.warning("calendar %s (%s) failed to sync: %s", connection.public_id, shown_url(connection.url), error)
        async with write_transaction(current_engine()):
            failures = await store.record_failure(connection.id, error=error, now=now, next_sync_at=next_sync)
            if failures == ALERT_AFTER and site.notify_email:
                await _queue_alert(site, connection, error=error, failures=failures, now=now, outbound=outbound)
        return
    async with write_transaction(current_engine()):
        await store.record_success(connection.id, busy=blocks, resource_id=connection.resource_id, etag=etag,
                                   last_modified=last_modified, now=now, next_sync_at=next_sync)
    log.info("calendar %s synced: %s busy blocks", connection.public_id,
             "unchanged" if blocks is None else len(blocks))


async def _queue_alert(site: Site, connection: Connection, *, error: str, failures: int, now: datetime,
                       outbound: Outbound) -> None:
    """Email the owner (the site's notify address) that a calendar keeps failing."""
    assert site.notify_email
    locale = supported(site.locale) or DEFAULT_LOCALE
    _ = translations(locale).gettext
    subject = _("A connected calendar of %(resource)s cannot be read") % {"resource": connection.resource}
    paragraphs = [
        _("The calendar %(url)s, connected to %(resource)s, has failed %(count)s times in a row.")
        % {"url": shown_url(connection.url), "resource": connection.resource, "count": failures},
        _("Its busy times from the last good sync keep blocking bookings until it can be read again. "
          "No booking has been changed."),
        _("The last error: %(error)s") % {"error": error},
    ]
    uid = uuid.uuid4()
    domain = outbound.mail_from.rpartition("@")[2] or "slotwise"
    email = OutgoingEmail(
        to=header_value(site.notify_email), from_address=header_value(outbound.mail_from),
        from_name=header_value(site.name), reply_to=None, subject=header_value(subject), text="\n\n".join(paragraphs) + "\n",
        html="".join(f"<p>{html.escape(p)}</p>" for p in paragraphs), message_id=f"<{uid}@{domain}>",
    )
    from slotwise.services.delivery import email_to_json

    await outbox.queue([outbox.QueuedMessage(
        uid=uid, site_id=site.id, booking_id=None, event="calendar-failing", channel="email",
        recipient=site.notify_email, content=email_to_json(email), send_at=now)], now=now)


async def sync_due(*, outbound: Outbound, now: datetime, limit: int = BATCH) -> int:
    """Sync the connections that are due; returns how many were tried."""
    ids = await store.claim_due(now=now, lease=LEASE, limit=limit)
    for connection_id in ids:
        await sync_connection(connection_id, outbound=outbound, now=now)
    return len(ids)


# --- write-back -------------------------------------------------------------------------


async def queue_writes(booking: Booking, *, now: datetime) -> None:
    """Queue the booking's current state for its resources' write-back calendars.

    Call inside the change's transaction. A booking moved to another resource
    is also removed from the calendars of the resources it left.
    """
    writing = await store.writing_on_site(booking.site.id)
    if not writing:  # the common case: one indexed read, nothing more on the booking path
        return
    resource_ids = set(await store.booked_resource_ids(booking.id))
    targets = [c for c in writing if c.resource_id in resource_ids]
    action = "delete" if booking.cancelled else "put"
    for connection in targets:
        await store.queue_write(connection.id, booking.id, action, now=now)
    if not booking.cancelled:
        written = {row["connection"] for row in await store.writes_of(booking.id) if row["action"] == "put"}
        for connection_id in written - {c.id for c in targets}:
            await store.queue_write(connection_id, booking.id, "delete", now=now)


def staff_event(booking: Booking, *, now: datetime) -> bytes:
    """The booking as the staff member's calendar shows it: service and customer, the booking's UID.

    Not the customer's file: no manage link (it would let anyone reading the
    staff calendar cancel), the customer's name and contact for the staff.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("sequence", booking.sequence)
    event.add("summary", f"{booking.service.name}: {booking.customer.name}")
    contact = [booking.customer.email, booking.customer.phone or ""]
    event.add("description", "\n".join(p for p in contact if p))
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()


async def write_due(*, outbound: Outbound, now: datetime, limit: int = BATCH,
                    jitter=lambda: random.uniform(-1, 1)) -> int:
    """Carry out due writes; returns how many were tried."""
    rows = await store.claim_writes(now=now, lease=LEASE, limit=limit)
    for row in rows:
        await _write(row, outbound=outbound, now=now, jitter=jitter)
    return len(rows)


async def _write(row: dict, *, outbound: Outbound, now: datetime, jitter) -> None:
    connection = await store.by_id(row["connection"])
    if connection is None:
        await store.finish_write(row["id"], status="failed", error="the calendar was disconnected", now=now)
        return
    try:
        booking = await booking_store.load_booking(row["booking"])
        password = (SecretBox(outbound.secret_key, PURPOSE).open(connection.password_encrypted)
                    if connection.password_encrypted else None)
        uid = booking_uid(booking)
        if row["action"] == "delete":
            await sources.caldav_delete(connection.url, username=connection.username, password=password, uid=uid,
                                        allow_private=outbound.allow_private)
        else:
            await sources.caldav_put(connection.url, username=connection.username, password=password, uid=uid,
                                     ical=staff_event(booking, now=now), allow_private=outbound.allow_private)
    except (sources.SourceError, UnreadableSecret) as exc:
        error = str(exc)[:1000]
        if gives_up(row["created_at"], now):
            log.warning("calendar write %s of booking %s given up: %s", row["id"], row["booking"], error)
            await store.finish_write(row["id"], status="failed", error=error, now=now)
        else:
            delay = retry_delay(row["attempts"], jitter())
            log.info("calendar write %s of booking %s failed, again in %s: %s", row["id"], row["booking"],
                     delay, error)
            await store.finish_write(row["id"], status="queued", error=error, now=now,
                                     next_attempt_at=now + delay)
        return
    log.info("calendar write %s: %s booking %s in %s", row["id"], row["action"], row["booking"],
             connection.public_id)
    await store.finish_write(row["id"], status="done", error=None, now=now)


# --- the worker loop ---------------------------------------------------------------------


async def run(stop: asyncio.Event, *, outbound: Outbound, clock: Clock) -> None:
    """Sync due calendars and carry out due writes until ``stop``; a failing round is logged, never fatal."""
    while not stop.is_set():
        tried = 0
        try:
            tried += await sync_due(outbound=outbound, now=clock())
            tried += await write_due(outbound=outbound, now=clock())
        except Exception:  # the database may be briefly away; try again shortly
            log.exception("calendar round failed")
        if tried == 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=IDLE_PAUSE_SECONDS)
            except TimeoutError:
                pass

