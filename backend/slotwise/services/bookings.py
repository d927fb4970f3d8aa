"""Holds and bookings: each operation is one write transaction.

Inside the transaction the resources are locked (PostgreSQL) or the database
write lock is held (SQLite, ``BEGIN IMMEDIATE``), busy time is read afresh and
the slot is re-checked with the same engine that showed it. Only then is
anything written, so two customers can never both get one slot, whatever the
number of requests or processes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slotwise.domain.availability import check_slot
from slotwise.persistence import bookings as store
from slotwise.persistence.bookings import BookingRecord, NewBooking
from slotwise.persistence.engine import current_engine, is_unique_violation, write_transaction
from slotwise.services import tokens
from slotwise.services.availability import (
    AvailableSlot,
    Offer,
    busy_for,
    cached_offer,
    parse_zone,
    shown,
    slots_in,
)
from slotwise.services.errors import FieldProblem, InvalidInput, ServiceError
from slotwise.services.notifications import Messaging, SiteMessaging, queue_booking_messages
from slotwise.services.validation import Customer, phone_region, validate_answers, validate_customer

# How far ahead alternatives to a taken slot are looked for, and how many.
ALTERNATIVES_HORIZON = timedelta(days=14)
ALTERNATIVES_COUNT = 3
# Expired holds block nothing (the busy query skips them) but their rows stay
# until a later hold on the site sweeps them, this long after they expired.
EXPIRED_HOLD_RETENTION = timedelta(hours=1)
# How long an idempotency key is remembered (PRODUCT §4 / the widget issue: 24 h).
IDEMPOTENCY_TTL = timedelta(hours=24)
SUPPORTED_LOCALES = ("en", "de")


class SlotUnavailable(ServiceError):
    """The start is not (or no longer) bookable; ``alternatives`` are the next free ones."""

    def __init__(self, alternatives: list[AvailableSlot]) -> None:
        super().__init__("this time is no longer available")
        self.alternatives = alternatives


class IdempotencyConflict(ServiceError):
    """The key was used before with a different request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request")


@dataclass(frozen=True, slots=True)
class HoldResult:
    token: str
    expires_at: datetime
    slot: AvailableSlot


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a customer sends; raw values, checked by :func:`confirm_booking`."""

    service: str
    start: datetime
    customer: Mapping[str, Any]
    answers: Mapping[str, Any] = field(default_factory=dict)
    resource: str | None = None
    hold: str | None = None
    locale: str | None = None
    timezone: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the request's content, to tell a replay from a different request."""
        canonical = json.dumps(
            {
                "service": self.service, "start": self.start.isoformat(),
                "customer": dict(self.customer), "answers": dict(self.answers),
                "resource": self.resource, "hold": self.hold, "locale": self.locale,
                "timezone": self.timezone,
            },
            sort_keys=True, default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class BookingResult:
    booking: BookingRecord
    manage_token: str
    replayed: bool = False


async def take_hold(
    site_slug: str, service_slug: str, start: datetime, *, resource: str | None, now: datetime
) -> HoldResult:
    """Reserve a slot for the site's hold time while the customer types."""
    offer = await cached_offer(site_slug, service_slug, resource=resource)
    token = tokens.new_token()
    expires_at = now + timedelta(minutes=offer.site.hold_minutes)
    async with write_transaction(current_engine()):
        await store.lock_resources(offer.resource_ids())
        await store.prune_expired_holds(offer.site.id, expired_before=now - EXPIRED_HOLD_RETENTION)
        slot = await _recheck(offer, start, now=now, resource=resource)
        if slot is None:
            slot_taken = True
        else:
            slot_taken = False
            await store.insert_hold(
                site_id=offer.site.id, service_id=offer.service.id, rules=offer.service.rules,
                resource_ids=offer.resource_ids(slot.resources), start=slot.start,
                token_hash=tokens.hash_token(token), now=now, expires_at=expires_at,
            )
    if slot_taken:
        raise SlotUnavailable(await alternatives(offer, start, now=now, resource=resource))
    return HoldResult(token=token, expires_at=expires_at, slot=shown(offer, slot, ZoneInfo("UTC")))


async def confirm_booking(
    site_slug: str, request: BookingRequest, *, now: datetime, secret_key: str,
    idempotency_key: str | None = None, idempotency_scope: str = "api-booking",
    messaging: Messaging | None = None,
) -> BookingResult:
    """Validate, re-check and write one booking; replay it for a repeated idempotency key.

    With ``messaging``, the confirmation and reminders are queued in the
    outbox in the same transaction: a booking and its messages exist together
    or not at all, and no provider is contacted during the request.

    Two requests with one key normally meet at the resource lock and the second
    replays the first. Over different resources they don't share a lock; then
    the unique index on the key lets one win, and the other, retried once,
    finds its record and replays it (or learns the bodies differ).
    """
    offer = await cached_offer(site_slug, request.service, resource=request.resource)
    customer, answers, locale, zone = _validated(offer, request)
    attempt = _BookingAttempt(offer, request, customer, answers, locale, zone, now=now,
                              secret_key=secret_key, key=idempotency_key, scope=idempotency_scope,
                              messaging=messaging)
    try:
        return await attempt.run()
    except Exception as exc:
        if idempotency_key is None or not is_unique_violation(exc):
            raise
    return await attempt.run()


@dataclass
class _BookingAttempt:
    """One try at writing a validated booking in its own write transaction."""

    offer: Offer
    request: BookingRequest
    customer: Customer
    answers: dict[str, Any]
    locale: str
    zone: ZoneInfo
    now: datetime
    secret_key: str
    key: str | None
    scope: str
    messaging: Messaging | None = None

    async def run(self) -> BookingResult:
        offer, request, now = self.offer, self.request, self.now
        fingerprint = request.fingerprint()
        salt = tokens.new_salt()
        uid = uuid.uuid4()
        async with write_transaction(current_engine()):
            # The lock comes first: a concurrent request with the same key then
            # finds this one's record instead of racing it for the slot.
            await store.lock_resources(offer.resource_ids())
            if self.key is not None:
                previous = await store.find_idempotency(offer.site.id, self.scope, self.key, now)
                if previous is not None:
                    if previous["request_hash"] != fingerprint:
                        raise IdempotencyConflict()
                    record = await store.load_booking(previous["booking"])
                    token = tokens.manage_token(self.secret_key, record.uid, record.manage_token_salt)
                    return BookingResult(booking=record, manage_token=token, replayed=True)
            hold = None
            if request.hold:
                # A hold that expired or is unknown is no error: the slot may still
                # be free, and then the booking simply goes ahead without it.
                hold = await store.find_live_hold(offer.site.id, tokens.hash_token(request.hold), now)
                if hold is not None and (hold["service"] != offer.service.id or hold["start_at"] != request.start):
                    hold = None
            slot = await _recheck(offer, request.start, now=now, resource=request.resource,
                                  except_hold=hold["id"] if hold else None)
            if slot is not None:
                token = tokens.manage_token(self.secret_key, str(uid), salt)
                booking_id = await store.insert_booking(
                    NewBooking(
                        site_id=offer.site.id, service_id=offer.service.id, rules=offer.service.rules,
                        resource_ids=offer.resource_ids(slot.resources), start=slot.start,
                        customer_name=self.customer.name, customer_email=self.customer.email,
                        customer_phone=self.customer.phone, answers=self.answers,
                        price_minor=offer.service.price_minor, currency=offer.service.currency,
                        locale=self.locale, timezone=self.zone.key, manage_token_salt=salt,
                    ),
                    manage_token_hash=tokens.hash_token(token), uid=uid, now=now,
                )
                if hold is not None:
                    await store.delete_hold(hold["id"])
                if self.key is not None:
                    await store.record_idempotency(
                        site_id=offer.site.id, scope=self.scope, key=self.key,
                        request_hash=fingerprint, booking_id=booking_id, now=now, keep=IDEMPOTENCY_TTL,
                    )
                record = await store.load_booking(booking_id)
                if self.messaging is not None:
                    await queue_booking_messages(
                        record, event="confirmed",
                        site=SiteMessaging.of(offer.site, offer.service),
                        messaging=self.messaging, now=now,
                    )
        if slot is None:
            raise SlotUnavailable(await alternatives(offer, request.start, now=now, resource=request.resource))
        return BookingResult(booking=record, manage_token=token)


async def _recheck(
    offer: Offer, start: datetime, *, now: datetime, resource: str | None,
    except_hold: int | None = None,
):
    """The engine's verdict on ``start``, from busy time read inside the write transaction.

    On SQLite the busy read may go through the kept read-only connection: that
    is exact here, because this transaction holds the database's write lock (no
    one else can commit) and has written nothing yet itself.
    """
    busy = await busy_for(offer, start, start + timedelta(microseconds=1), now=now, except_hold=except_hold)
    return check_slot(offer.service.rules, offer.calendars, busy, start=start, now=now,
                      site_closed=offer.site.closed, only_resource=resource)


async def alternatives(
    offer: Offer, after: datetime, *, now: datetime, resource: str | None,
    moving: BookingRecord | None = None, count: int = ALTERNATIVES_COUNT,
) -> list[AvailableSlot]:
    """The next free starts after ``after`` (within two weeks), in the site's zone.

    The next day is searched first and the rest of the horizon only if it
    holds fewer than ``count``: a taken slot usually has neighbours the same
    day, and every losing request of a race computes this. For a booking
    being ``moving``, its own time counts as free and its current start is
    not offered, as in the picker.
    """
    zone = ZoneInfo(offer.site.timezone)
    window_start = max(after, now)
    skip = {after, moving.start} if moving else {after}
    found: list = []
    for window_end in (window_start + timedelta(days=1), window_start + ALTERNATIVES_HORIZON):
        busy = await busy_for(offer, window_start, window_end, now=now,
                              except_booking=moving.id if moving else None)
        slots = slots_in(offer, busy, window_start, window_end, now=now, resource=resource)
        found = [slot for slot in slots if slot.start not in skip]
        if len(found) >= count:
            break
    return [shown(offer, slot, zone) for slot in found[:count]]


def _validated(offer: Offer, request: BookingRequest):
    """Every field checked; all problems reported together as one InvalidInput."""
    problems: list[FieldProblem] = []
    raw = request.customer if isinstance(request.customer, Mapping) else {}
    customer, customer_problems = validate_customer(
        raw.get("name"), raw.get("email"), raw.get("phone"),
        phone_mode=offer.service.phone, default_region=phone_region(offer.site.contact_phone),
    )
    problems += customer_problems
    answers, answer_problems = validate_answers(offer.service.questions, request.answers)
    problems += answer_problems
    locale = request.locale or offer.site.locale
    if locale not in SUPPORTED_LOCALES:
        problems.append(FieldProblem("locale", f"must be one of {', '.join(SUPPORTED_LOCALES)}"))
    zone = parse_zone(request.timezone) if request.timezone else ZoneInfo(offer.site.timezone)
    if zone is None:
        problems.append(FieldProblem("timezone", f"unknown time zone {request.timezone!r}"))
    if problems:
        raise InvalidInput(problems)
    return customer, answers, locale, zone

