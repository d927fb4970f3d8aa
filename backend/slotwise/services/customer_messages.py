"""An owner's or integrator's own message to a booking's customer, queued in the outbox.

Either one of the site's templates (``{"template": {"event", "channel"},
"variables": {...}}``: the site's override or the default, in the booking's
language, with the request's ``variables`` as ``{{ custom.<name> }}``) or the
caller's own words (``{"text", "subject"?, "channel"}``: plain text, framed
by ``templates/email/message.<lang>.*``; an SMS is the text alone).

The message goes through the outbox like every other (event ``message``): the
worker fills in the manage link, retries, and a sandbox site keeps it. It is
recorded in the booking's history (kind ``message``) with the actor, in the
same transaction. A cancelled booking may still be messaged: telling a
customer about a cancellation is what this is often for.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from slotwise.domain.actors import Actor
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Booking, Site
from slotwise.domain.policy import ChangePolicy
from slotwise.persistence import history, outbox, queries
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.outbox import QueuedMessage
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import email_to_json, sms_to_json
from slotwise.services.email_content import (
    CUSTOM_TEXT_LIMIT,
    SUBJECT_LIMIT,
    build_booking_email,
    build_custom_email,
)
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.services.message_templates import CHANNELS, check_custom_variables
from slotwise.services.sms_content import build_booking_sms, plain
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER
from slotwise.adapters.delivery import OutgoingSms

log = logging.getLogger("slotwise.messages")

EVENT = "message"  # the outbox event of every message sent this way
# Twilio refuses a body over 1600 characters; that is ten or more segments already.
SMS_TEXT_LIMIT = 1600
FIELDS = {"template", "variables", "text", "subject", "channel"}


def _check(body: Any) -> dict[str, Any]:
    """The request, checked: ``template`` (event, channel) and ``variables``, or ``text``, ``subject``, ``channel``."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldProblem("body", "object-expected")])
    problems = [FieldProblem(name, "field-unknown") for name in sorted(set(body) - FIELDS)]
    template = body.get("template")
    if template is not None:
        for name in ("text", "subject", "channel"):
            if name in body:
                problems.append(FieldProblem(name, "field-unknown"))
        if not isinstance(template, dict):
            raise InvalidInput([*problems, FieldProblem("template", "object-expected")])
        problems += [FieldProblem(f"template.{name}", "field-unknown")
                     for name in sorted(set(template) - {"event", "channel"})]
        event, channel = template.get("event"), template.get("channel", "email")
        if event not in MESSAGE_EVENTS:
            problems.append(FieldProblem("template.event", "choice-unknown", {"choices": ", ".join(MESSAGE_EVENTS)}))
        if channel not in CHANNELS:
            problems.append(FieldProblem("template.channel", "choice-unknown", {"choices": ", ".join(CHANNELS)}))
        custom = check_custom_variables(body.get("variables"), problems)
        if problems:
            raise InvalidInput(problems)
        return {"event": event, "channel": channel, "custom": custom}
    if "variables" in body:  # the caller's own text is sent as written
        problems.append(FieldProblem("variables", "field-unknown"))
    channel = body.get("channel", "email")
    if channel not in CHANNELS:
        problems.append(FieldProblem("channel", "choice-unknown", {"choices": ", ".join(CHANNELS)}))
    text, subject = body.get("text"), body.get("subject")
    limit = SMS_TEXT_LIMIT if channel == "sms" else CUSTOM_TEXT_LIMIT
    if not isinstance(text, str) or not text.strip():
        problems.append(FieldProblem("text", "required"))
    elif len(text) > limit:
        problems.append(FieldProblem("text", "text-too-long", {"limit": limit}))
    if subject is not None:
        if channel == "sms":
            problems.append(FieldProblem("subject", "field-unknown"))
        elif not isinstance(subject, str) or len(subject) > SUBJECT_LIMIT:
            problems.append(FieldProblem("subject", "text-too-long", {"limit": SUBJECT_LIMIT}))
    if problems:
        raise InvalidInput(problems)
    return {"event": None, "channel": channel, "text": text, "subject": subject or None}


async def message_customer(site: Site, booking: Booking, body: Any, *, actor: Actor, now: datetime,
                           config: ServiceConfig, idempotency_key: str | None = None) -> dict[str, Any]:
    """Queue one message to ``booking``'s customer; answers its outbox state (``uid``, ``status``, …).

    The same ``idempotency_key`` with the same body answers the first message again.
    """
    request = _check(body)
    channel = request["channel"]
    if channel == "sms":
        problems = []
        if not site.sms_enabled:
            problems.append(FieldProblem("channel", "sms-disabled"))
        elif not booking.customer.phone:
            problems.append(FieldProblem("channel", "no-phone"))
        if problems:
            raise InvalidInput(problems)
    write = IdempotentWrite(scope(f"booking:{booking.id}", "message", actor), idempotency_key,
                            fingerprint(body=body))
    async with write_transaction(current_engine()):
        previous = await write.replay(now)
        if previous is not None:
            found = await outbox.message_state(previous["message"])
            assert found is not None
            return found
        uid = uuid.uuid4()
        message = await _compose(site, booking, request, uid=uid, now=now, config=config)
        await outbox.queue([message], now=now)
        data = {"message": f"msg_{uid.hex}", "channel": channel}
        if request["event"]:
            data["template"] = request["event"]
        await history.add_entry(booking.id, "message", data, actor=actor, at=now)
        await write.remember({"message": str(uid)}, now)
        found = await outbox.message_state(str(uid))
    assert found is not None
    return found


async def _compose(site: Site, booking: Booking, request: dict[str, Any], *, uid: uuid.UUID, now: datetime,
                   config: ServiceConfig) -> QueuedMessage:
    messaging = config.messaging
    manage_url = messaging.manage_url(MANAGE_TOKEN_PLACEHOLDER)
    event, channel = request["event"], request["channel"]
    if channel == "email":
        if event:
            service = next((s for s in await queries.list_services(site.id, include_disabled=True)
                            if s.slug == booking.service.slug), None)
            deadlines = ChangePolicy.of(site, service).deadlines(
                status=booking.status, start=booking.start, now=now,
                reschedules_done=booking.reschedule_count) if service else None
            email = build_booking_email(booking, event=event, manage_url=manage_url, mail_from=messaging.mail_from,
                                        message_id=messaging.message_id(uid), now=now, deadlines=deadlines,
                                        overrides=site.email_templates, custom=request["custom"])
        else:
            email = build_custom_email(booking, text=request["text"], subject=request["subject"],
                                       manage_url=manage_url, mail_from=messaging.mail_from,
                                       message_id=messaging.message_id(uid))
        return QueuedMessage(uid=uid, site_id=site.id, booking_id=booking.id, event=EVENT, channel="email",
                             recipient=booking.customer.email, content=email_to_json(email), send_at=now)
    assert booking.customer.phone
    if event:
        locale = booking.locale
        own = site.sms_templates.get(f"{event}.{locale}") or site.sms_templates.get(event)
        try:
            sms = build_booking_sms(booking, event=event, manage_url=manage_url, from_number=messaging.sms_from,
                                    template=own, custom=request["custom"])
        except Exception as error:  # a broken owner template: the default, as for emails
            if own is None:
                raise
            log.warning("Owner SMS template for %s failed (%s: %s); using the default template instead",
                        event, type(error).__name__, error)
            sms = build_booking_sms(booking, event=event, manage_url=manage_url, from_number=messaging.sms_from,
                                    custom=request["custom"])
    else:
        sms = OutgoingSms(to=booking.customer.phone, from_number=messaging.sms_from, body=plain(request["text"]))
    return QueuedMessage(uid=uid, site_id=site.id, booking_id=booking.id, event=EVENT, channel="sms",
                         recipient=sms.to, content=sms_to_json(sms), send_at=now)
