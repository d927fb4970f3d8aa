"""A site's customers, derived from its bookings: the list, one customer's export, and erasure.

A customer is every booking of a site made with one email, compared
lower-cased; there is no customer table. The list is in email order and pages
with a cursor naming the last email shown, so a page never repeats or skips a
customer while others book meanwhile.

Erasing anonymises in one transaction: the bookings keep their times,
service, resources, status and history (so the calendar, capacity and counts
stay true), and lose everything that names the person. See
docs/decisions.md, "Customers".
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotwise.adapters.delivery import OutgoingEmail, OutgoingSms
from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import customers as store
from slotwise.persistence import webhooks as webhook_store
from slotwise.persistence import notes
from slotwise.persistence.customers import CustomerRow
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.persistence.history import add_entry, booking_history
from slotwise.services.booking_lists import DEFAULT_LIMIT, MAX_LIMIT, Detail
from slotwise.services.delivery import email_to_json, sms_to_json
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound

ERASED_NAME = "Erased customer"
ERASED_DOMAIN = "invalid"  # RFC 2606: never resolves, so nothing is ever delivered there
Q_MAX = 200


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: list[CustomerRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CustomerExport:
    email: str  # the key, lower-cased
    name: str  # from the booking made last
    phone: str | None
    bookings: list[Detail]  # each with its history and the messages sent to the customer


@dataclass(frozen=True, slots=True)
class Erased:
    bookings: int
    messages: int


def customer_key(email: str) -> str:
    return email.strip().lower()


def _encode(email: str) -> str:
    return base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")


def _decode(cursor: str | None, problems: list[FieldProblem]) -> str | None:
    if not cursor:
        return None
    try:
        email = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        email = ""
    if not email:
        problems.append(FieldProblem("cursor", "cursor-invalid"))
        return None
    return email


async def list_customers(site: Site, params: Mapping[str, str | None]) -> CustomerPage:
    """One page of the site's customers; ``q`` looks in their bookings' names and emails."""
    problems: list[FieldProblem] = []
    raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", "number-between", {"low": 1, "high": MAX_LIMIT}))
    after = _decode(params.get("cursor"), problems)
    text = (params.get("q") or "").strip() or None
    if text is not None and len(text) > Q_MAX:
        problems.append(FieldProblem("q", "text-too-long", {"limit": Q_MAX}))
    if problems:
        raise InvalidInput(problems)
    async with read_transaction(current_engine()):
        rows = await store.list_customers(site.id, text=text, after=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return CustomerPage(page, _encode(page[-1].email) if more else None)


async def export_customer(site: Site, email: str) -> CustomerExport:
    """Everything the site holds about one customer; NotFound when they have no booking here."""
    key = customer_key(email)
    async with read_transaction(current_engine()):
        ids = await store.booking_ids_of(site.id, email.strip())
        if not ids:
            raise NotFound("customer", email)
        bookings = [await booking_store.load_booking(booking_id) for booking_id in ids]
        addresses = {key} | await store.phones_of(ids)
        messages = [m for m in await store.messages_of(site.id, ids, email.strip())
                    if m["recipient"].lower() in addresses]
        details = [
            Detail(booking, await booking_history(booking.id),
                   [m for m in messages if m["booking"] == booking.id])
            for booking in bookings
        ]
    latest = max(bookings, key=lambda b: (b.created_at, b.id))
    return CustomerExport(email=key, name=latest.customer.name, phone=latest.customer.phone, bookings=details)


def _empty_content(channel: str, recipient: str) -> dict[str, Any]:
    """What an erased message holds instead of its rendered text: a well-formed, empty message."""
    if channel == "sms":
        return sms_to_json(OutgoingSms(to=recipient, from_number="", body=""))
    return email_to_json(OutgoingEmail(to=recipient, from_address="", from_name="", reply_to=None,
                                       subject="", text="", html="", message_id=""))


async def erase_customer(site: Site, email: str, *, actor: Actor, now: datetime) -> Erased:
    """Anonymise one customer's bookings and messages on this site, in one transaction.

    Their bookings get the name "Erased customer", an address under
    ``.invalid`` unique to this erasure, no phone, no answers, no cancel
    reason; the messages to them get that address and empty content, and
    those not yet sent are dropped; webhook deliveries about the bookings,
    queued or logged, are removed. The owner's copies keep their recipient
    and lose their content (it named the customer). Each booking's history
    records the erasure and who did it. NotFound when the email has no booking here.
    """
    key = customer_key(email)
    placeholder = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    async with write_transaction(current_engine()):
        ids = await store.booking_ids_of(site.id, email.strip())
        if not ids:
            raise NotFound("customer", email)
        theirs = {key} | await store.phones_of(ids)
        messages = await store.messages_of(site.id, ids, email.strip())
        await store.anonymise_bookings(ids, name=ERASED_NAME, email=placeholder, now=now)
        await notes.delete_notes(list(ids))  # the team's notes were about this person
        for message in messages:
            recipient = placeholder if message["recipient"].lower() in theirs else message["recipient"]
            await store.scrub_message(message["id"], recipient=recipient,
                                      content=_empty_content(message["channel"], recipient),
                                      drop=message["status"] in ("queued", "sending"))
        for booking_id in ids:
            await add_entry(booking_id, "erased", {}, actor=actor, at=now)
        # Webhook bodies name them too: queued ones are dropped, logged ones forgotten.
        await webhook_store.forget_bookings(site.id, ids)
    return Erased(bookings=len(ids), messages=len(messages))

