"""A site's outbox as the back office shows it: the delivery log, a retry of a failed message, and a
test of a template sent to the signed-in person.

Each function is one transaction. A retry puts a ``failed`` message back in the
queue, due now, keeping its uid (so the email's Message-ID does not change)
and its attempts; the worker sends it as any other. A test message goes
through the outbox too (event ``test``, no booking), to the account's own
address and never to a customer: it is a preview (a sample booking, a
placeholder instead of a working manage link) delivered for real.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slotwise.adapters.delivery import OutgoingEmail
from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.persistence import outbox
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.persistence.outbox import QueuedMessage
from slotwise.persistence.tables import DeliveryAttempt, OutboxMessage
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import email_to_json
from slotwise.services.email_content import SUBJECT_LIMIT, header_value
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound
from slotwise.services.message_templates import preview
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER

STATUSES = ("queued", "sending", "sent", "failed", "dropped", "sandboxed")
CHANNELS = ("email", "sms")
EVENTS = ("confirmed", "rescheduled", "cancelled", "reminder", "message", "test")
LOG_LIMIT = 100
TEST_EVENT = "test"


@dataclass(frozen=True, slots=True)
class LogFilters:
    status: str | None = None
    channel: str | None = None
    event: str | None = None
    day_from: date | None = None  # in the site's zone, inclusive
    day_to: date | None = None
    before: int | None = None  # the page after the one that ended at this message (the cursor)


def read_filters(raw: dict[str, str]) -> LogFilters:
    """Filters from a query string; an unknown choice or a bad date is a problem on its field."""
    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}
    for name, choices in (("status", STATUSES), ("channel", CHANNELS), ("event", EVENTS)):
        value = (raw.get(name) or "").strip()
        if value and value not in choices:
            problems.append(FieldProblem(name, "choice-unknown", {"choices": ", ".join(choices)}))
        values[name] = value or None
    for name, key in (("from", "day_from"), ("to", "day_to")):
        value = (raw.get(name) or "").strip()
        try:
            values[key] = date.fromisoformat(value) if value else None
        except ValueError:
            problems.append(FieldProblem(name, "date-expected", {"value": value[:40]}))
    cursor = (raw.get("cursor") or "").strip()
    if cursor and (not cursor.isdigit() or len(cursor) > 18):
        problems.append(FieldProblem("cursor", "cursor-invalid"))
    values["before"] = int(cursor) if cursor and not problems else None
    if problems:
        raise InvalidInput(problems)
    return LogFilters(**values)


@dataclass(frozen=True, slots=True)
class LogPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None  # the older messages' page, when there are more


async def site_messages(site: Site, filters: LogFilters, *, limit: int | None = None) -> LogPage:
    """One page of the site's messages, newest first, with their last delivery attempt's detail.

    Pages are cut by id (keyset: the cursor is the last row's id), so a message
    queued while someone reads never shifts a row onto the next page twice.
    """
    limit = limit or LOG_LIMIT
    zone = ZoneInfo(site.timezone)
    where = OutboxMessage.site == site.id
    if filters.before is not None:
        where &= OutboxMessage.id < filters.before
    if filters.status:
        where &= OutboxMessage.status == filters.status
    if filters.channel:
        where &= OutboxMessage.channel == filters.channel
    if filters.event:
        where &= OutboxMessage.event == filters.event
    if filters.day_from:
        where &= OutboxMessage.created_at >= datetime.combine(filters.day_from, time(), zone)
    if filters.day_to:
        where &= OutboxMessage.created_at < datetime.combine(filters.day_to + timedelta(days=1), time(), zone)
    async with read_transaction(current_engine()):
        rows = await (OutboxMessage.select(
            OutboxMessage.id, OutboxMessage.uid, OutboxMessage.event, OutboxMessage.channel,
            OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.created_at,
            OutboxMessage.sent_at, OutboxMessage.last_error, OutboxMessage.booking.uid.as_alias("booking_uid"))
            .where(where).order_by(OutboxMessage.id, ascending=False).limit(limit + 1))
    rows, more = rows[:limit], len(rows) > limit
    for row in rows:
        row["booking_id"] = f"bkg_{uuid.UUID(str(row['booking_uid'])).hex}" if row["booking_uid"] else None
    return LogPage(rows, str(rows[-1]["id"]) if more else None)


async def retry_message(site: Site, uid: str, *, actor: Actor, now: datetime) -> bool:
    """Put one failed message of ``site`` back in the queue, due now (recorded in its delivery log).

    False when it is not failed (any more): a second click on the button changes nothing.
    """
    try:
        parsed = uuid.UUID(uid)
    except ValueError:
        raise NotFound("message", uid) from None
    async with write_transaction(current_engine()):
        row = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.status).where(
            (OutboxMessage.uid == parsed) & (OutboxMessage.site == site.id)).first()
        if row is None:
            raise NotFound("message", uid)
        if row["status"] != "failed":
            return False
        await OutboxMessage.update({OutboxMessage.status: "queued", OutboxMessage.next_attempt_at: now,
                                    OutboxMessage.claimed_until: None}).where(OutboxMessage.id == row["id"])
        await DeliveryAttempt.insert(DeliveryAttempt(
            message=row["id"], outcome="retry", detail=f"queued again by {actor.kind}:{actor.ref}"[:2000],
            created_at=now))
    return True


async def send_test(site: Site, *, event: str, locale: str, source: dict[str, str] | None, to: str,
                    now: datetime, config: ServiceConfig) -> str:
    """Queue the email template (``source``, or the one in effect) rendered for a sample booking to ``to``.

    ``to`` is the signed-in account's address, never a customer's. Answers the message's uid.
    """
    body: dict[str, Any] = {"event": event, "channel": "email", "locale": locale}
    if source:
        body["source"] = source
    rendered = await preview(site, body, now=now, config=config)
    uid = uuid.uuid4()
    messaging = config.messaging
    # A test has no booking, so no manage link can work: the link reads as an example.
    text = (rendered.text or "").replace(MANAGE_TOKEN_PLACEHOLDER, "example")
    html = (rendered.html or "").replace(MANAGE_TOKEN_PLACEHOLDER, "example")
    email = OutgoingEmail(
        to=header_value(to), from_address=header_value(messaging.mail_from), from_name=header_value(site.name),
        reply_to=header_value(site.contact_email or "") or None,
        subject=header_value(f"[Test] {rendered.subject or ''}", SUBJECT_LIMIT), text=text, html=html,
        message_id=header_value(messaging.message_id(uid)))
    async with write_transaction(current_engine()):
        await outbox.queue([QueuedMessage(uid=uid, site_id=site.id, booking_id=None, event=TEST_EVENT,
                                          channel="email", recipient=email.to, content=email_to_json(email),
                                          send_at=now)], now=now)
    return str(uid)


__all__ = ["LogFilters", "LogPage", "read_filters", "retry_message", "send_test", "site_messages"]
