"""The verbs of bookings: take a hold, book, move, cancel. One write transaction each.

Every verb is addressed by what it changes (a site and service for a new
booking, the booking's id otherwise), takes the :class:`Actor` who acts and
the :class:`Rules` the change keeps (by default the actor's: a customer's
policy for customers, staff rules for everyone else), and ends in
``changes.after_change``, which writes the history and queues the messages in
the same transaction. How the actor got here (a manage link, a form, an API
key) is the web layer's business: a manage link is resolved to a booking id
first (``services.manage_links``), then it calls the same verb as anyone.

Inside the transaction the resources are locked (PostgreSQL) or the database
write lock is held (SQLite, ``BEGIN IMMEDIATE``), busy time is read afresh and
the slot is re-checked with the same engine that showed it. Only then is
anything written, so two requests can never both get one slot, whatever the
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

from slotwise.domain.actors import Actor, Rules, default_rules, may_use
from slotwise.domain.availability import check_slot_under
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.model import Booking, Customer, HistoryEntry, Service, Site
from slotwise.domain.policy import ChangePolicy, Verdict
from slotwise.persistence import bookings as store
from slotwise.persistence import queries
from slotwise.persistence.bookings import NewBooking
from slotwise.persistence.engine import current_engine, is_unique_violation, write_transaction
from slotwise.persistence.history import booking_history
from slotwise.services import tokens
from slotwise.services.availability import (
    AvailableSlot,
    Offer,
    busy_for,
    cached_offer,
    fresh_offer,
    load_offer,
    parse_zone,
    shown,
    slots_in,
)
from slotwise.services.changes import BookingChange, ChangeKind, after_change
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import (
    ActionRefused,
    FieldProblem,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    SlotUnavailable,
)
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.services.validation import (
    metadata_field_problems,
    phone_region,
    validate_address,
    validate_answers,
    validate_customer,
)

# How far ahead alternatives to a taken slot are looked for, and how many.
ALTERNATIVES_HORIZON = timedelta(days=14)
ALTERNATIVES_COUNT = 3
# Expired holds block nothing (the busy query skips them) but their rows stay
# until a later hold on the site sweeps them, this long after they expired.
EXPIRED_HOLD_RETENTION = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HoldResult:
    token: str
    expires_at: datetime
    slot: AvailableSlot


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """What a customer (or staff for them) asks to book; raw values, checked by :func:`create_booking`."""

    service: str
    start: datetime
    customer: Mapping[str, Any]
    answers: Mapping[str, Any] = field(default_factory=dict)
    resource: str | None = None
    hold: str | None = None
    locale: str | None = None
    timezone: str | None = None
    metadata: Mapping[str, Any] | None = None  # the owner's own keys (admin API only)

    def fingerprint(self) -> str:
        """SHA-256 of the request's content, to tell a replay from a different request."""
        extra = {} if self.metadata is None else {"metadata": dict(self.metadata)}
        return fingerprint(
            service=self.service, start=self.start.isoformat(), customer=dict(self.customer),
            answers=dict(self.answers), resource=self.resource, hold=self.hold,
            locale=self.locale, timezone=self.timezone, **extra,
        )


@dataclass(frozen=True, slots=True)
class BookingResult:
    booking: Booking
    manage_token: str
    replayed: bool = False


def _rules(actor: Actor, rules: Rules | None) -> Rules:
    chosen = rules or default_rules(actor)
    if not may_use(actor, chosen):
        raise PermissionError(f"{actor.kind} may not act under {chosen} rules")
    return chosen


# --- holds ------------------------------------------------------------------------


async def take_hold(
    site_slug: str, service_slug: str, start: datetime, *, resource: str | None, actor: Actor,
    now: datetime, client: str | None = None, replaces: str | None = None, holds_per_client: int = 0,
) -> HoldResult:
    """Reserve a slot for the site's hold time while the customer types.

    A hold keeps the bookable rules (hours, notice, advance) whoever takes it:
    it is a promise that the booking can follow. Holds have no history, so
    ``actor`` is not stored; it is taken so that every verb reads alike.

    ``replaces`` is the token of the hold this one takes over (the customer
    picked another time on the same page): it is released first, so its time
    counts as free. ``client`` names who asks (the web layer's client
    address; only its hash is stored); with ``holds_per_client`` > 0 a client
    keeps at most that many live holds on the site: a new one releases its
    oldest. So one client cannot empty a day by holding every slot (before:
    14 anonymous holds took a day from 32 free times to none for ten minutes).
    """
    offer = await cached_offer(site_slug, service_slug, resource=resource)
    token = tokens.new_token()
    expires_at = now + timedelta(minutes=offer.site.hold_minutes)
    client_hash = tokens.hash_token(client) if client else None
    async with write_transaction(current_engine()):
        offer = await fresh_offer(offer, resource=resource)
        await store.lock_resources(offer.resource_ids())
        await store.prune_expired_holds(offer.site.id, expired_before=now - EXPIRED_HOLD_RETENTION)
        if replaces:
            previous = await store.find_live_hold(offer.site.id, tokens.hash_token(replaces), now)
            if previous is not None:
                await store.delete_hold(previous["id"])
        slot, _ = await _recheck(offer, start, now=now, resource=resource)
        if slot is not None:
            if client_hash and holds_per_client > 0:
                live = await store.live_holds_of_client(offer.site.id, client_hash, now)
                for hold_id in live[: max(len(live) - holds_per_client + 1, 0)]:
                    await store.delete_hold(hold_id)
            await store.insert_hold(
                site_id=offer.site.id, service_id=offer.service.id, rules=offer.service.rules,
                resource_ids=offer.resource_ids(slot.resources), start=slot.start,
                token_hash=tokens.hash_token(token), now=now, expires_at=expires_at, client=client_hash,
            )
    if slot is None:
        raise SlotUnavailable(await alternatives(offer, start, now=now, resource=resource))
    return HoldResult(token=token, expires_at=expires_at, slot=shown(offer, slot, ZoneInfo("UTC")))


# --- book ---------------------------------------------------------------------------


async def create_booking(
    site_slug: str, request: BookingRequest, *, actor: Actor, now: datetime, config: ServiceConfig,
    idempotency_key: str | None = None, notify: bool = True, rules: Rules | None = None,
) -> BookingResult:
    """Validate, re-check and write one booking; replay it for a repeated idempotency key.

    Two requests with one key normally meet at the resource lock and the second
    replays the first. Over different resources they don't share a lock; then
    the unique index on the key lets one win, and the other, retried once,
    finds its record and replays it (or learns the bodies differ). A new
    booking keeps the bookable rules (hours, notice, advance) unless staff ask
    for ``Rules.OVERRIDE``; ``actor`` is recorded in its history (with
    ``override`` when one was needed) and scopes its idempotency key.
    """
    rules = _rules(actor, rules)
    offer = await cached_offer(site_slug, request.service, resource=request.resource)
    customer, answers, locale, zone, address = _validated(offer, request)
    attempt = _BookingAttempt(offer, request, customer, answers, locale, zone, actor=actor, now=now,
                              config=config, key=idempotency_key, notify=notify, rules=rules,
                              address=address)
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
    actor: Actor
    now: datetime
    config: ServiceConfig
    key: str | None
    notify: bool
    rules: Rules
    address: str | None = None

    async def run(self) -> BookingResult:
        offer, request, now = self.offer, self.request, self.now
        write = IdempotentWrite(scope(f"site:{offer.site.id}", "booking", self.actor), self.key,
                                request.fingerprint())
        salt = tokens.new_salt()
        uid = uuid.uuid4()
        async with write_transaction(current_engine()):
            offer = self.offer = await fresh_offer(offer, resource=request.resource)
            # The lock comes first: a concurrent request with the same key then
            # finds this one's record instead of racing it for the slot.
            await store.lock_resources(offer.resource_ids())
            previous = await write.replay(now)
            if previous is not None:
                booking = await store.load_booking(previous["booking"])
                token = tokens.manage_token(self.config.secret_key, booking.uid,
                                            booking.manage_token_salt)
                return BookingResult(booking=booking, manage_token=token, replayed=True)
            hold = None
            if request.hold:
                # A hold that expired or is unknown is no error: the slot may still
                # be free, and then the booking simply goes ahead without it.
                hold = await store.find_live_hold(offer.site.id, tokens.hash_token(request.hold), now)
                if hold is not None and (hold["service"] != offer.service.id
                                         or hold["start_at"] != request.start):
                    hold = None
            slot, overridden = await _recheck(offer, request.start, now=now, resource=request.resource,
                                              except_hold=hold["id"] if hold else None, rules=self.rules)
            if slot is not None:
                token = tokens.manage_token(self.config.secret_key, str(uid), salt)
                booking_id = await store.insert_booking(
                    NewBooking(
                        site_id=offer.site.id, service_id=offer.service.id, rules=offer.service.rules,
                        resource_ids=offer.resource_ids(slot.resources), start=slot.start,
                        customer_name=self.customer.name, customer_email=self.customer.email,
                        customer_phone=self.customer.phone, answers=self.answers,
                        price_minor=offer.service.price_minor, currency=offer.service.currency,
                        locale=self.locale, timezone=self.zone.key, manage_token_salt=salt,
                        address=self.address, metadata=dict(request.metadata or {}),
                    ),
                    manage_token_hash=tokens.hash_token(token), uid=uid, now=now,
                )
                if hold is not None:
                    await store.delete_hold(hold["id"])
                await write.remember({"booking": booking_id}, now)
                booking = await store.load_booking(booking_id)
                await after_change(
                    BookingChange(ChangeKind.BOOKED, booking, self.actor, notify=self.notify,
                                  override=overridden),
                    site=offer.site, service=offer.service, config=self.config, now=now,
                )
        if slot is None:
            raise SlotUnavailable(await alternatives(offer, request.start, now=now,
                                                     resource=request.resource))
        return BookingResult(booking=booking, manage_token=token)


# --- an existing booking --------------------------------------------------------------


async def get_booking(booking_id: int) -> Booking:
    try:
        return await store.load_booking(booking_id)
    except LookupError:
        raise NotFound("booking", str(booking_id)) from None


@dataclass(frozen=True, slots=True)
class Options:
    """What may be done with a booking now, under some rules, and the service as configured now."""

    service: Service
    cancel: Verdict
    reschedule: Verdict


async def _catalog_of(booking: Booking) -> tuple[Site, Service]:
    """The booking's site and service as configured now, disabled or not.

    Services are never deleted, only disabled (bookings point at them), so
    both are always there; read fresh, since the policy may have changed.
    """
    site = await queries.find_site(booking.site.slug)
    service = await queries.find_service(site.id, booking.service.slug) if site else None
    if site is None or service is None:
        raise NotFound("booking", booking.uid)
    return site, service


def _options(booking: Booking, site: Site, service: Service, now: datetime, rules: Rules) -> Options:
    policy = ChangePolicy.of(site, service)
    return Options(
        service=service,
        cancel=policy.cancel(status=booking.status, start=booking.start, now=now, rules=rules),
        reschedule=policy.reschedule(status=booking.status, start=booking.start, now=now,
                                     reschedules_done=booking.reschedule_count, rules=rules),
    )


async def options_for(booking: Booking, *, actor: Actor, now: datetime,
                      rules: Rules | None = None) -> Options:
    """What ``actor`` may do with ``booking`` now (one read of the site and service)."""
    site, service = await _catalog_of(booking)
    return _options(booking, site, service, now, _rules(actor, rules))


async def cancel_booking(
    booking_id: int, *, reason: str | None, actor: Actor, now: datetime, config: ServiceConfig,
    rules: Rules | None = None, idempotency_key: str | None = None, notify: bool = True,
) -> Booking:
    """Cancel within the rules; its time is free at once. Cancelling a cancelled booking changes nothing."""
    rules = _rules(actor, rules)
    booking = await get_booking(booking_id)
    site, service = await _catalog_of(booking)
    write = IdempotentWrite(scope(f"booking:{booking.id}", "cancel", actor), idempotency_key,
                            fingerprint(reason=reason))
    async with write_transaction(current_engine()):
        await store.lock_resources(await store.resource_ids_of(booking.id))
        booking = await store.load_booking(booking.id)  # as it is now, under the lock
        if await write.replay(now) is not None or booking.cancelled:
            return booking
        verdict = _options(booking, site, service, now, rules).cancel
        if not verdict:
            raise ActionRefused("cancel", verdict, site.contact)
        await store.cancel(booking.id, reason=reason, now=now)
        await write.remember({"booking": booking.id}, now)
        booking = await store.load_booking(booking.id)
        await after_change(
            BookingChange(ChangeKind.CANCELLED, booking, actor, reason=reason, notify=notify),
            site=site, service=service, config=config, now=now,
        )
    return booking


async def move_booking(
    booking_id: int, *, start: datetime, resource: str | None = None, actor: Actor, now: datetime,
    config: ServiceConfig, rules: Rules | None = None, idempotency_key: str | None = None,
    notify: bool = True,
) -> Booking:
    """Move to a free ``start``: the new time is taken and the old released in one transaction.

    Without ``resource`` the booking keeps its person (the first group's
    resource), as a customer moving "my appointment with Anna" expects. The
    booking's own time counts as free (a 60-minute appointment may shift by
    15 minutes); moving to the time it already has is refused as input.
    """
    rules = _rules(actor, rules)
    booking = await get_booking(booking_id)
    site, _ = await _catalog_of(booking)
    offer = await load_offer(booking.site.slug, booking.service.slug, resource=resource)
    keep = resource or (booking.resources[0].key if booking.resources else None)
    write = IdempotentWrite(scope(f"booking:{booking.id}", "move", actor), idempotency_key,
                            fingerprint(start=start.isoformat(), resource=resource))
    async with write_transaction(current_engine()):
        offer = await fresh_offer(offer, resource=resource)
        await store.lock_resources(offer.resource_ids())
        booking = await store.load_booking(booking.id)
        if await write.replay(now) is not None:
            return booking
        verdict = _options(booking, offer.site, offer.service, now, rules).reschedule
        if not verdict:
            raise ActionRefused("reschedule", verdict, site.contact)
        if start == booking.start and keep in {r.key for r in booking.resources}:
            # Checked after the replay: repeating a move that succeeded replays it.
            raise InvalidInput([FieldProblem("start", "current-time")])
        busy = await busy_for(offer, start, start + timedelta(microseconds=1), now=now,
                              except_booking=booking.id)
        slot, overridden = check_slot_under(rules, offer.service.rules, offer.calendars, busy, start=start,
                                            now=now, site_closed=offer.site.closed, only_resource=keep)
        if slot is not None:
            previous = booking
            await store.move(booking.id, rules=offer.service.rules, service_id=offer.service.id,
                             resource_ids=offer.resource_ids(slot.resources), new_start=slot.start,
                             now=now)
            await write.remember({"booking": booking.id}, now)
            booking = await store.load_booking(booking.id)
            await after_change(
                BookingChange(ChangeKind.RESCHEDULED, booking, actor, previous_start=previous.start,
                              previous_resources=tuple(r.key for r in previous.resources), notify=notify, override=overridden,
                              previous=previous),
                site=offer.site, service=offer.service, config=config, now=now,
            )
    if slot is None:
        raise SlotUnavailable(await alternatives(offer, start, now=now, resource=keep, moving=booking))
    return booking


# --- shared ---------------------------------------------------------------------------


async def _recheck(
    offer: Offer, start: datetime, *, now: datetime, resource: str | None,
    except_hold: int | None = None, rules: Rules = Rules.CUSTOMER,
):
    """The engine's verdict on ``start`` under ``rules``, from busy time read inside the write
    transaction: the slot (or None), and whether it took an override.

    On SQLite the busy read may go through the kept read-only connection: that
    is exact here, because this transaction holds the database's write lock (no
    one else can commit) and has written nothing yet itself.
    """
    busy = await busy_for(offer, start, start + timedelta(microseconds=1), now=now, except_hold=except_hold)
    return check_slot_under(rules, offer.service.rules, offer.calendars, busy, start=start, now=now,
                            site_closed=offer.site.closed, only_resource=resource)


async def alternatives(
    offer: Offer, after: datetime, *, now: datetime, resource: str | None,
    moving: Booking | None = None, count: int = ALTERNATIVES_COUNT,
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
    address = None
    if offer.service.ask_address:
        address, address_problems = validate_address(raw.get("address"))
        problems += address_problems
    if request.metadata is not None:
        problems += metadata_field_problems(request.metadata)
    locale = request.locale or offer.site.locale
    if locale not in SUPPORTED_LOCALES:
        problems.append(FieldProblem("locale", "locale-unsupported", {"choices": ", ".join(SUPPORTED_LOCALES)}))
    zone = parse_zone(request.timezone) if request.timezone else ZoneInfo(offer.site.timezone)
    if zone is None:
        problems.append(FieldProblem("timezone", "zone-unknown", {"value": repr(request.timezone)}))
    if problems:
        raise InvalidInput(problems)
    return customer, answers, locale, zone, address


async def history(booking: Booking) -> list[HistoryEntry]:
    """What happened to the booking, oldest first (booked, rescheduled, cancelled)."""
    return await booking_history(booking.id)


# --- the owner's custom fields --------------------------------------------------------


def booking_etag(booking: Booking) -> str:
    """A quoted ETag of the booking as the admin API answers it: any change changes it."""
    state = [booking.uid, booking.status, booking.start.isoformat(), booking.end.isoformat(),
             booking.sequence, booking.updated_at.isoformat() if booking.updated_at else None,
             dict(booking.metadata)]
    return '"' + hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:32] + '"'


async def change_metadata(booking_id: int, metadata: Any, *, if_match: str | None, actor: Actor,
                          now: datetime) -> Booking:
    """Replace a booking's metadata (the owner's own keys; customers never see them).

    ``if_match`` (the ``If-Match`` header, optional) must name the booking's
    current ETag or ``*``. Nothing is sent to the customer and no history entry
    is written: metadata is the owner's bookkeeping, not a change to the booking.
    ``actor`` is who asks (kept for the audit that will record it).
    """
    problems = metadata_field_problems(metadata)
    if problems:
        raise InvalidInput(problems)
    async with write_transaction(current_engine()):
        booking = await store.load_booking(booking_id)
        if if_match is not None and if_match.strip() not in ("*", booking_etag(booking)):
            raise PreconditionFailed("booking", booking.public_id)
        if dict(booking.metadata) != dict(metadata):
            await store.set_metadata(booking_id, dict(metadata), now=now)
            booking = await store.load_booking(booking_id)
    return booking
