"""A booking as owners and integrators read it: one shape for the admin API and for webhooks.

``GET …/admin/sites/{site}/bookings/{id}`` answers :func:`booking_document`,
and a webhook's ``data`` is the same document (``services/webhooks.py``), so
the two cannot drift apart. The dataclasses are plain values: the web layer
serialises them and names them in the OpenAPI document. Never the manage
token: an owner's view of a booking has none to give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision

from slotwise.domain.model import Booking, HistoryEntry, Site


@dataclass(frozen=True, slots=True)
class Price:
    amount: str  # decimal string in major units, e.g. "60.00"
    currency: str  # ISO 4217
    minor: int  # the same amount in minor units (cents)


@dataclass(frozen=True, slots=True)
class ResourceOut:
    key: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class CustomerOut:
    name: str
    email: str
    phone: str | None


@dataclass(frozen=True)
class ActorOut:
    kind: str  # customer | account | api_key | system
    id: str | None  # how a customer came (widget, api, manage-link); the key's or account's id
    label: str | None


@dataclass(frozen=True)
class HistoryOut:
    kind: str  # booked | rescheduled | cancelled | message
    at: str
    actor: ActorOut
    data: dict[str, Any]  # rescheduled: from, to; cancelled: reason; message: message (msg_…), channel, template?


@dataclass(frozen=True)
class MessageOut:
    id: str
    event: str
    channel: str  # email | sms
    recipient: str
    status: str  # queued | sending | sent | failed | dropped | sandboxed (a sandbox site's: never sent)
    attempts: int
    send_at: str
    sent_at: str | None
    last_error: str | None
    sandbox: bool = False  # a sandbox site's: kept for /dev/messages, never handed to a provider


# slots: a page builds 50 of these; a slotted dataclass is about a third
# quicker to make (bench/admin.py).
@dataclass(frozen=True, slots=True)
class AdminBookingOut:
    id: str  # bkg_…
    status: str
    service: str
    service_name: str
    start: str  # ISO, in the site's zone
    end: str
    resources: list[ResourceOut]
    customer: CustomerOut
    address: str | None  # the customer's postal address, when the service asks for it
    answers: dict[str, Any]
    metadata: dict[str, Any]  # the owner's own keys: string, number or boolean values
    price: Price | None
    locale: str
    timezone: str  # the customer's
    reschedule_count: int
    created_at: str
    updated_at: str | None
    history: list[HistoryOut] | None = None  # in a booking's detail
    messages: list[MessageOut] | None = None


def price(minor: int | None, currency: str | None) -> Price | None:
    if minor is None or currency is None:
        return None
    digits = get_currency_precision(currency)
    amount = Decimal(minor).scaleb(-digits)
    return Price(amount=f"{amount:.{digits}f}", currency=currency, minor=minor)


def price_of_booking(booking: Booking) -> Price | None:
    """What the customer was quoted when booking (a snapshot; the service's price may have changed)."""
    return price(booking.price_minor, booking.currency)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def actor_out(entry_actor: Any) -> ActorOut:
    return ActorOut(kind=str(entry_actor.kind), id=entry_actor.ref, label=entry_actor.label)


def history_out(entry: HistoryEntry) -> HistoryOut:
    return HistoryOut(kind=entry.kind, at=entry.at.isoformat(), actor=actor_out(entry.actor), data=dict(entry.data))


def message_out(row: dict[str, Any]) -> MessageOut:
    return MessageOut(id=f"msg_{row['uid'].hex}", event=row["event"], channel=row["channel"],
                      recipient=row["recipient"], status=row["status"], attempts=row["attempts"],
                      send_at=row["send_at"].isoformat(), sent_at=_iso(row["sent_at"]),
                      last_error=row["last_error"], sandbox=bool(row.get("sandbox")))


def booking_document(booking: Booking, site: Site, history: list[HistoryEntry] | None = None,
                     messages: list[dict[str, Any]] | None = None) -> AdminBookingOut:
    """The booking in the site's zone; with its history and messages when both are given (a detail)."""
    zone = ZoneInfo(site.timezone)
    detailed = history is not None and messages is not None
    return AdminBookingOut(
        id=booking.public_id, status=str(booking.status), service=booking.service.slug,
        service_name=booking.service.name, start=booking.start.astimezone(zone).isoformat(),
        end=booking.end.astimezone(zone).isoformat(),
        resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in booking.resources],
        customer=CustomerOut(name=booking.customer.name, email=booking.customer.email,
                             phone=booking.customer.phone),
        address=booking.address, answers=dict(booking.answers), metadata=dict(booking.metadata),
        price=price_of_booking(booking), locale=booking.locale,
        timezone=booking.timezone, reschedule_count=booking.reschedule_count,
        created_at=booking.created_at.isoformat(), updated_at=_iso(booking.updated_at),
        history=[history_out(entry) for entry in history] if detailed and history is not None else None,
        messages=[message_out(row) for row in messages] if detailed and messages is not None else None,
    )


def booking_documents(bookings: list[Booking], site: Site) -> list[AdminBookingOut]:
    """A page of bookings, exactly as :func:`booking_document` answers each, built as a page.

    The site's zone is looked up once, and the bookings of a page share their
    resources (the store builds one tuple per distinct combination), so each
    combination's list of :class:`ResourceOut` is built once too; answers
    share nothing mutable with the domain objects, which the page discards.
    """
    zone = ZoneInfo(site.timezone)
    resources_out: dict[int, list[ResourceOut]] = {}
    documents = []
    for booking in bookings:
        key = id(booking.resources)
        resources = resources_out.get(key)
        if resources is None:
            resources = resources_out[key] = [ResourceOut(key=r.key, name=r.name, kind=str(r.kind))
                                              for r in booking.resources]
        customer = booking.customer
        updated_at = booking.updated_at
        documents.append(AdminBookingOut(
            id=booking.public_id, status=str(booking.status), service=booking.service.slug,
            service_name=booking.service.name, start=booking.start.astimezone(zone).isoformat(),
            end=booking.end.astimezone(zone).isoformat(), resources=resources,
            customer=CustomerOut(name=customer.name, email=customer.email, phone=customer.phone),
            address=booking.address, answers=dict(booking.answers), metadata=dict(booking.metadata),
            price=None if booking.price_minor is None or booking.currency is None else price_of_booking(booking),
            locale=booking.locale, timezone=booking.timezone, reschedule_count=booking.reschedule_count,
            created_at=booking.created_at.isoformat(),
            updated_at=updated_at.isoformat() if updated_at else None,
        ))
    return documents
