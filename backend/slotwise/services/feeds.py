"""Calendar feeds out: a secret ``/feeds/<token>.ics`` URL per resource or per site.

Making a feed URL (:func:`issue_feed`) gives the resource (or the whole site)
a new token and answers it once; the old URL stops working. The token is
derived like a manage token, HMAC-SHA256(secret key, "feed:" + salt) with 192
random bits of salt, and only its SHA-256 is stored: an idempotent replay of
the request derives the same URL from the salt it remembered, without the
token itself being kept anywhere.

Reading a feed (:func:`read_feed`) finds the row by the token's hash (one
indexed lookup) and builds the calendar (:func:`feed_calendar`, pure) from the
confirmed bookings that start in the window: from 30 days before today (UTC)
to 90 days after. Cancelled bookings are absent, so a calendar program
removes them. Each event's UID is the UID of the booking's emailed ``.ics``
(``calendar_files.booking_uid``), so a booking is one event wherever it
arrives. The body is byte-for-byte the same while nothing changes (DTSTAMP is
the booking's last change, as RFC 5545 allows for a calendar without METHOD),
so a hash of what it is built from is the ``ETag`` (checked before building
it); ``Last-Modified`` is when that body was first served, remembered on the
feed's row. See ``docs/feeds.md``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from icalendar import Calendar, Event, vDuration

from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, BookingStatus, Site
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import feeds as store
from slotwise.persistence import queries
from slotwise.persistence.bookings import BookingFilter
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit, catalog
from slotwise.services.calendar_files import PRODID, booking_uid
from slotwise.services.errors import NotFound
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.services.tokens import hash_token

DAYS_BEFORE = 30
DAYS_AFTER = 90
# A feed lists at most this many bookings (the earliest first): a calendar
# program polls it every few minutes, and 120 days of a busy site stay far below.
MAX_EVENTS = 5000
PAGE = 500
SALT_BYTES = 24  # 192 random bits behind every token
# Calendar programs that honour it (RFC 7986 REFRESH-INTERVAL, Outlook's X-PUBLISHED-TTL) poll this often.
REFRESH = timedelta(minutes=15)
VIA = "admin-api"


# --- the token -------------------------------------------------------------------------------


def new_feed_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def feed_token(secret_key: str, salt: str) -> str:
    digest = hmac.new(secret_key.encode(), f"feed:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}/feeds/{token}.ics"


async def active_resource_key(site: Site, ref: str) -> str:
    """The key of an active resource named by its key or its ``res_…`` id; else NotFound."""
    found = await catalog.get_resource(site, ref)
    if not found.active:
        raise NotFound("resource", ref)
    return found.table["key"]


async def issue_feed(site: Site, resource_key: str | None, *, actor: Actor, now: datetime, secret_key: str,
                     idempotency_key: str | None = None) -> str:
    """A new token for the resource's feed (``resource_key``) or the site's (None); the old one dies.

    Unknown (or retired) resource: NotFound. Recorded in the audit log
    without the token.
    """
    resource_id = None
    if resource_key is not None:
        async with read_transaction(current_engine()):
            found = await queries.load_resources(site, [resource_key])
        if resource_key not in found:
            raise NotFound("resource", resource_key)
        resource_id = found[resource_key].id
    target = store.target_of(site.id, resource_id)
    write = IdempotentWrite(scope(f"site:{site.id}", f"feed:{target}", actor), idempotency_key,
                            fingerprint(target=target))
    async with write_transaction(current_engine()):
        previous = await write.replay(now)
        if previous is not None:
            return feed_token(secret_key, previous["salt"])
        salt = new_feed_salt()
        token = feed_token(secret_key, salt)
        before = await store.find_by_target(target)
        await store.put(site.id, resource_id, token_hash=hash_token(token), now=now)
        await audit.record(site.id, actor=actor, now=now, via=VIA, kind="feed", ref=resource_key or "site",
                           before=None if before is None else {"url_issued_at": before.created_at},
                           after={"url_issued_at": now})
        await write.remember({"salt": salt}, now)
    return token


async def feed_issued_at(site: Site, resource_key: str | None) -> datetime | None:
    """When the current URL of the resource's (or the site's) feed was made; None if there is none.

    The back office uses it to say "get a feed URL" or "make a new URL" (the
    URL itself cannot be shown again: only its hash is stored).
    """
    async with read_transaction(current_engine()):
        resource_id = None
        if resource_key is not None:
            found = await queries.load_resources(site, [resource_key])
            if resource_key not in found:
                raise NotFound("resource", resource_key)
            resource_id = found[resource_key].id
        stored = await store.find_by_target(store.target_of(site.id, resource_id))
    return stored.created_at if stored else None


# --- the calendar (pure) ---------------------------------------------------------------------


def window(now: datetime) -> tuple[datetime, datetime]:
    """Bookings starting in [today - 30 days, today + 91 days) (UTC days): the body changes at most daily by it."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DAYS_BEFORE), today + timedelta(days=DAYS_AFTER + 1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def feed_event(record: Booking, *, customer_names: bool) -> Event:
    """One booking as the staff's calendar shows it: no manage link, the customer named only if allowed."""
    changed = _utc(record.updated_at or record.created_at)
    event = Event()
    event.add("uid", booking_uid(record))
    event.add("dtstamp", changed)
    event.add("created", _utc(record.created_at))
    event.add("last-modified", changed)
    event.add("dtstart", _utc(record.start))
    event.add("dtend", _utc(record.end))
    event.add("sequence", record.sequence)
    summary = record.service.name
    if customer_names:
        summary = f"{summary} – {record.customer.name}"
    event.add("summary", summary)
    lines = [record.service.name]
    people = ", ".join(r.name for r in record.resources)
    if people:
        lines.append(people)
    if customer_names:
        lines.append(record.customer.name)
    lines.append(record.public_id)
    # icalendar escapes commas, semicolons, backslashes and newlines of text (RFC 5545 3.3.11).
    event.add("description", "\n".join(lines))
    if record.site.address:
        event.add("location", record.site.address)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def feed_calendar(bookings: Sequence[Booking], *, name: str, customer_names: bool) -> bytes:
    """The feed's VCALENDAR: same input, same bytes (no clock is read here)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    refresh = vDuration(REFRESH)
    refresh.params["VALUE"] = "DURATION"
    calendar.add("refresh-interval", refresh)
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for record in bookings:
        if record.status is BookingStatus.CONFIRMED:
            calendar.add_component(feed_event(record, customer_names=customer_names))
    return calendar.to_ical()


def http_date(moment: datetime) -> str:
    return format_datetime(_utc(moment).replace(microsecond=0), usegmt=True)


def not_modified(*, if_none_match: str | None, if_modified_since: str | None, etag: str,
                 last_modified: datetime) -> bool:
    """RFC 9110 13.2.2 for a GET: If-None-Match decides when present (weak comparison), else If-Modified-Since."""
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        wanted = etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return _utc(last_modified).replace(microsecond=0) <= since


# --- reading a feed --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feed:
    """What a feed shows now: its ETag and Last-Modified at once, its body on demand (:meth:`render`).

    Building the body costs about 0.4 ms of CPU per event with icalendar, so a
    304 never builds it, and the web layer renders it off the event loop.
    """

    bookings: tuple[Booking, ...]
    name: str
    customer_names: bool
    etag: str
    last_modified: datetime

    def render(self) -> bytes:
        return feed_calendar(self.bookings, name=self.name, customer_names=self.customer_names)


# Raised whenever feed_calendar changes what it writes for the same bookings, so every ETag changes too.
FORMAT = 1


def fingerprint_of(bookings: Sequence[Booking], *, name: str, customer_names: bool) -> str:
    """SHA-256 over everything the body is built from (whole bookings: more than it shows, never less).

    The body is a function of these alone (:func:`feed_calendar` reads no
    clock), so equal fingerprints mean equal bodies.
    """
    material = repr((FORMAT, name, customer_names, tuple(bookings)))
    return hashlib.sha256(material.encode()).hexdigest()


def entity_tag_of(fingerprint: str) -> str:
    """A weak ETag (weak because compression may change the bytes on the wire)."""
    return f'W/"{fingerprint[:32]}"'


async def read_feed(token: str, *, now: datetime) -> Feed:
    """The feed behind a token; an unknown or replaced token is NotFound."""
    token_hash = hash_token(token)
    start, end = window(now)
    async with read_transaction(current_engine()):
        stored = await store.find_by_token_hash(token_hash)
        if stored is None:
            raise NotFound("feed", "")
        row = await store.site_row(stored.site_id)
        if row is None:
            raise NotFound("feed", "")
        site = queries.site_from_row(row)
        name = site.name
        if stored.resource_id is not None:
            name = f"{await store.resource_name(stored.resource_id) or ''} – {site.name}"
        where = BookingFilter(site_id=site.id, start_from=start, start_before=end, status="confirmed",
                              resource_ids=None if stored.resource_id is None else [stored.resource_id])
        bookings: list[Booking] = []
        after = None
        while len(bookings) < MAX_EVENTS:
            page = await booking_store.list_bookings(where, after=after, limit=min(PAGE, MAX_EVENTS - len(bookings)))
            bookings += page
            if len(page) < PAGE:
                break
            after = (page[-1].start, page[-1].id)
    fingerprint = fingerprint_of(bookings, name=name, customer_names=site.feed_customer_names)
    changed_at = stored.changed_at
    if changed_at is None or fingerprint != stored.content_hash:
        # Whole seconds (what HTTP dates carry), and always later than the previous
        # body's, so an If-Modified-Since of that body never matches this one.
        changed_at = now.astimezone(UTC).replace(microsecond=0)
        if stored.changed_at is not None and changed_at <= _utc(stored.changed_at):
            changed_at = _utc(stored.changed_at).replace(microsecond=0) + timedelta(seconds=1)
        async with write_transaction(current_engine()):
            await store.mark_served(token_hash, content_hash=fingerprint, changed_at=changed_at)
    return Feed(tuple(bookings), name, site.feed_customer_names, entity_tag_of(fingerprint), changed_at)
