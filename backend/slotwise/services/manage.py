"""What the holder of a manage link may see and do with one booking."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.domain.availability import check_slot
from slotwise.domain.policy import Verdict
from slotwise.persistence import bookings as store
from slotwise.persistence import outbox, queries
from slotwise.persistence.bookings import BookingRecord
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.history import booking_history
from slotwise.persistence.queries import ServiceInfo, SiteInfo
from slotwise.services import tokens
from slotwise.services.availability import busy_for, load_offer
from slotwise.services.bookings import (
    IDEMPOTENCY_TTL,
    IdempotencyConflict,
    SlotUnavailable,
    alternatives,
)
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound, ServiceError
from slotwise.services.notifications import Messaging, SiteMessaging, queue_booking_messages
from slotwise.services.policies import change_policy

# PRODUCT §8: a manage link stops working 30 days after the booking ends.
LINK_LIFETIME_AFTER_END = timedelta(days=30)


async def booking_for_token(token: str, *, secret_key: str, now: datetime) -> BookingRecord:
    """The booking behind a manage token, or NotFound that says nothing more.

    The lookup goes by the token's SHA-256 (an index, not a comparison of
    secrets); the derived token is then compared in constant time, so a
    stored hash alone never unlocks a booking. An unknown token runs the same
    derivation and comparison against a dummy, so the answer takes as long as
    for a known one (no timing oracle for guessing).
    """
    booking_id = await store.find_booking_id_by_token_hash(tokens.hash_token(token))
    record = await store.load_booking(booking_id) if booking_id is not None else None
    expected = tokens.manage_token(
        secret_key, record.uid if record else _DUMMY_UID, record.manage_token_salt if record else _DUMMY_SALT
    )
    # As bytes: compare_digest refuses str with non-ASCII characters, and a link may hold anything.
    matches = hmac.compare_digest(expected.encode(), token.encode("utf-8", "surrogatepass"))
    if record is None or not matches or now > record.end + LINK_LIFETIME_AFTER_END:
        raise NotFound("booking", "for this link")
    return record


_DUMMY_UID = "00000000-0000-0000-0000-000000000000"
_DUMMY_SALT = "0" * 32

class ActionRefused(ServiceError):
    """The site's policy does not allow this change (any more)."""

    def __init__(self, action: str, verdict: Verdict, contact: str | None) -> None:
        super().__init__(f"{action} is not possible: {verdict.reason}")
        self.action = action
        self.verdict = verdict
        self.contact = contact


@dataclass(frozen=True, slots=True)
class _Context:
    site: SiteInfo
    service: ServiceInfo


async def _context(record: BookingRecord) -> _Context:
    # Read fresh and including disabled services: a booking outlives its service's listing.
    site = await queries.find_site(record.site_slug)
    service = await queries.find_service(site.id, record.service_slug)
    return _Context(site=site, service=service)


def cancel_verdict(record: BookingRecord, context: _Context, now: datetime) -> Verdict:
    return change_policy(context.site, context.service).cancel(
        status=record.status, start=record.start, now=now)


def reschedule_verdict(record: BookingRecord, context: _Context, now: datetime) -> Verdict:
    return change_policy(context.site, context.service).reschedule(
        status=record.status, start=record.start, now=now, reschedules_done=record.reschedule_count)


async def _replayed(context: _Context, record: BookingRecord, scope: str, key: str | None,
                   fingerprint: str, now: datetime) -> bool:
    """True when ``key`` already did this request (replay); a different request raises."""
    if key is None:
        return False
    previous = await store.find_idempotency(context.site.id, f"{scope}:{record.id}", key, now)
    if previous is None:
        return False
    if previous["request_hash"] != fingerprint:
        raise IdempotencyConflict()
    return True


async def _remember(context: _Context, record: BookingRecord, scope: str, key: str | None,
                    fingerprint: str, now: datetime) -> None:
    if key is not None:
        await store.record_idempotency(site_id=context.site.id, scope=f"{scope}:{record.id}", key=key,
                                       request_hash=fingerprint, booking_id=record.id, now=now,
                                       keep=IDEMPOTENCY_TTL)


def _fingerprint(**request: object) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def cancel_booking(
    token: str, *, reason: str | None, now: datetime, secret_key: str, messaging: Messaging | None,
    idempotency_key: str | None = None,
) -> BookingRecord:
    """Cancel within the policy; cancelling a cancelled booking again changes nothing."""
    record = await booking_for_token(token, secret_key=secret_key, now=now)
    context = await _context(record)
    fingerprint = _fingerprint(reason=reason)
    async with write_transaction(current_engine()):
        await store.lock_resources(await store.resource_ids_of(record.id))
        record = await store.load_booking(record.id)  # as it is now, under the lock
        if await _replayed(context, record, "manage-cancel", idempotency_key, fingerprint, now):
            return record
        if record.status == "cancelled":
            return record
        verdict = cancel_verdict(record, context, now)
        if not verdict:
            raise ActionRefused("cancel", verdict, context.site.contact_phone or context.site.contact_email)
        await store.cancel(record.id, reason=reason, now=now)
        await _remember(context, record, "manage-cancel", idempotency_key, fingerprint, now)
        await outbox.drop_queued(record.id, events=("reminder",))
        record = await store.load_booking(record.id)
        if messaging is not None:
            await queue_booking_messages(record, event="cancelled", messaging=messaging, now=now,
                                         site=SiteMessaging.of(context.site, context.service))
    return record


async def reschedule_booking(
    token: str, *, start: datetime, resource: str | None, now: datetime, secret_key: str,
    messaging: Messaging | None, idempotency_key: str | None = None,
) -> BookingRecord:
    """Move to a free ``start``: the new time is taken and the old released in one transaction.

    Without ``resource`` the booking keeps its person (the first group's
    resource), as a customer moving "my appointment with Anna" expects.
    """
    record = await booking_for_token(token, secret_key=secret_key, now=now)
    context = await _context(record)
    offer = await load_offer(record.site_slug, record.service_slug, resource=resource)
    keep = resource or (record.resources[0][0] if record.resources else None)
    fingerprint = _fingerprint(start=start.isoformat(), resource=resource)
    async with write_transaction(current_engine()):
        await store.lock_resources(offer.resource_ids())
        record = await store.load_booking(record.id)
        if await _replayed(context, record, "manage-reschedule", idempotency_key, fingerprint, now):
            return record
        verdict = reschedule_verdict(record, context, now)
        if not verdict:
            raise ActionRefused("reschedule", verdict, context.site.contact_phone or context.site.contact_email)
        if start == record.start and keep in {key for key, *_ in record.resources}:
            # Checked after the replay: repeating a move that succeeded replays it.
            raise InvalidInput([FieldProblem("start", "is the booking's current time; choose another")])
        busy = await busy_for(offer, start, start + timedelta(microseconds=1), now=now,
                              except_booking=record.id)
        slot = check_slot(offer.service.rules, offer.calendars, busy, start=start, now=now,
                          site_closed=offer.site.closed, only_resource=keep)
        if slot is not None:
            await store.move(record.id, rules=offer.service.rules, service_id=offer.service.id,
                             resource_ids=offer.resource_ids(slot.resources), old_start=record.start,
                             new_start=slot.start, now=now)
            await _remember(context, record, "manage-reschedule", idempotency_key, fingerprint, now)
            await outbox.drop_queued(record.id, events=("reminder",))
            record = await store.load_booking(record.id)
            if messaging is not None:
                await queue_booking_messages(record, event="rescheduled", messaging=messaging, now=now,
                                             site=SiteMessaging.of(context.site, context.service))
    if slot is None:
        raise SlotUnavailable(await alternatives(offer, start, now=now, resource=keep, moving=record))
    return record


@dataclass(frozen=True, slots=True)
class Overview:
    """What the manage page shows besides the booking itself."""

    service: ServiceInfo | None  # as configured now; None if it was removed
    cancel: Verdict
    reschedule: Verdict


async def overview(record: BookingRecord, now: datetime) -> Overview:
    """The booking's service and what the link's holder may do now, from one read of the site."""
    context = await _context(record)
    return Overview(context.service, cancel_verdict(record, context, now),
                    reschedule_verdict(record, context, now))


async def verdicts(record: BookingRecord, now: datetime) -> tuple[Verdict, Verdict]:
    """What the link's holder may do now: (cancel, reschedule)."""
    seen = await overview(record, now)
    return seen.cancel, seen.reschedule


async def service_of(record: BookingRecord) -> ServiceInfo | None:
    """The booking's service as configured now (also when it has since been disabled)."""
    return (await _context(record)).service


async def history(record: BookingRecord) -> list[dict]:
    """What happened to the booking, oldest first (booked, rescheduled, cancelled)."""
    return await booking_history(record.id)
