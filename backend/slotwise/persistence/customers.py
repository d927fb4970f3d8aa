"""Queries about a site's customers. A customer is not a table: it is the bookings that share an email.

The email is compared lower-cased (``Erika@Example.com`` and
``erika@example.com`` are one customer); that lower-cased email is the
customer's key. Lower-casing happens in SQL on both sides of every comparison,
so a key the list gave out always finds its customer (SQLite's ``lower`` knows
ASCII only). Callers run these inside a read or write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.string import Lower

from slotwise.persistence.engine import current_engine
from slotwise.persistence.tables import Booking, BookingEvent, DeliveryAttempt, OutboxMessage

_KEY = 'lower("booking"."customer_email")'


@dataclass(frozen=True, slots=True)
class CustomerRow:
    email: str  # the key: lower-cased
    name: str  # from their most recently made booking
    phone: str | None  # likewise
    bookings: int
    first_start: datetime
    last_start: datetime


def _instant(value: Any) -> datetime:
    """An aggregate's timestamp: PostgreSQL gives a datetime, SQLite the stored text (UTC)."""
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _like() -> str:
    # Case-insensitive: ILIKE on PostgreSQL; SQLite's LIKE already ignores ASCII case.
    return "ILIKE" if isinstance(current_engine(), PostgresEngine) else "LIKE"


async def list_customers(site_id: int, *, text: str | None, after: str | None, limit: int) -> list[CustomerRow]:
    """Customers in email order, from just after the key ``after``; ``text`` in any booking's name or email."""
    sql = ("SELECT lower(customer_email) AS email, count(*) AS bookings, min(start_at) AS first_start, "
           "max(start_at) AS last_start FROM booking WHERE site = {}")
    args: list[Any] = [site_id]
    if after is not None:
        sql += " AND lower(customer_email) > {}"
        args.append(after)
    if text:
        like = _like()
        sql += (f" AND lower(customer_email) IN (SELECT lower(customer_email) FROM booking WHERE site = {{}}"
                f" AND (customer_name {like} {{}} OR customer_email {like} {{}}))")
        args += [site_id, f"%{text}%", f"%{text}%"]
    sql += " GROUP BY lower(customer_email) ORDER BY lower(customer_email) LIMIT {}"
    args.append(limit)
    rows = await Booking.raw(sql, *args)
    latest = await _latest_contact(site_id, [row["email"] for row in rows])
    return [
        CustomerRow(email=row["email"], name=latest[row["email"]][0], phone=latest[row["email"]][1],
                    bookings=row["bookings"], first_start=_instant(row["first_start"]),
                    last_start=_instant(row["last_start"]))
        for row in rows
    ]


async def _latest_contact(site_id: int, emails: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """Per customer, the name and phone of the booking they made last."""
    if not emails:
        return {}
    rows = await (
        Booking.select(Lower(Booking.customer_email, alias="key"), Booking.customer_name, Booking.customer_phone)
        .where((Booking.site == site_id) & WhereRaw(f"{_KEY} IN ({', '.join('{}' for _ in emails)})", *emails))
        .order_by(Booking.created_at).order_by(Booking.id)
    )
    return {row["key"]: (row["customer_name"], row["customer_phone"]) for row in rows}


async def booking_ids_of(site_id: int, email: str) -> list[int]:
    """The ids of the site's bookings made with this email (any case), in (start, id) order."""
    rows = await (
        Booking.select(Booking.id)
        .where((Booking.site == site_id) & WhereRaw(f"{_KEY} = lower({{}})", email))
        .order_by(Booking.start_at).order_by(Booking.id)
    )
    return [row["id"] for row in rows]


async def phones_of(booking_ids: Sequence[int]) -> set[str]:
    rows = await Booking.select(Booking.customer_phone).where(
        Booking.id.is_in(list(booking_ids)) & Booking.customer_phone.is_not_null())
    return {row["customer_phone"] for row in rows}


async def messages_of(site_id: int, booking_ids: Sequence[int], email: str) -> list[dict[str, Any]]:
    """The site's outbox rows about these bookings (to the customer, and the owner's copies) or to this email."""
    return await (
        OutboxMessage.select(
            OutboxMessage.id, OutboxMessage.uid, OutboxMessage.booking, OutboxMessage.event,
            OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.attempts,
            OutboxMessage.send_at, OutboxMessage.sent_at, OutboxMessage.last_error,
        )
        .where((OutboxMessage.site == site_id) & (
            OutboxMessage.booking.is_in(list(booking_ids) or [-1])
            | WhereRaw('lower("outbox_message"."recipient") = lower({})', email)))
        .order_by(OutboxMessage.send_at).order_by(OutboxMessage.id)
    )


async def anonymise_bookings(booking_ids: Sequence[int], *, name: str, email: str, now: datetime) -> None:
    """Replace the customer's details on these bookings; times, service, resources and status stay.

    The manage link stops working (its hash is removed): nobody holding the
    old link is tied to the booking any more. The calendar sequence is raised
    so a calendar that shows the booking takes the new summary.
    """
    ids = list(booking_ids)
    await Booking.update({
        Booking.customer_name: name, Booking.customer_email: email, Booking.customer_phone: None,
        Booking.answers: {}, Booking.cancel_reason: None, Booking.manage_token_hash: None,
        Booking.customer_address: None,
        Booking.sequence: Booking.sequence + 1, Booking.updated_at: now,
    }).where(Booking.id.is_in(ids))
    # History data holds times, and the reason given for a cancel: that text goes.
    await BookingEvent.update({BookingEvent.data: {"reason": ""}}).where(
        BookingEvent.booking.is_in(ids) & (BookingEvent.kind == "cancelled"))


async def scrub_message(message_id: int, *, recipient: str, content: dict[str, Any], drop: bool) -> None:
    """Replace a message's recipient and content; forget its errors, provider id and delivery log details.

    Providers quote the address in errors, and the dev sender's id holds the number.
    """
    values: dict[Any, Any] = {OutboxMessage.recipient: recipient, OutboxMessage.content: content,
                              OutboxMessage.last_error: None, OutboxMessage.provider_id: None}
    if drop:
        values[OutboxMessage.status] = "dropped"
        values[OutboxMessage.claimed_until] = None
    await OutboxMessage.update(values).where(OutboxMessage.id == message_id)
    await DeliveryAttempt.update({DeliveryAttempt.detail: ""}).where(DeliveryAttempt.message == message_id)
