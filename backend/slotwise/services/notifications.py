"""Which messages a booking change causes, queued in that change's own transaction.

Confirmed, rescheduled and cancelled go to the customer by email, and by SMS
when they gave a phone number and the site enables SMS. Reminders (per
service, by default 24 h and 2 h before) are queued with their send time, and
skipped when the booking was made inside that window. A customer's change is
also noted, in an email of its own, to the site's notification address and the
staff accounts of the booked resources; a change on the site's side, to those
staff accounts but the one who made it (``queue_team_notes``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from slotwise.domain.actors import Actor, ActorKind
from slotwise.domain.model import Booking, Service, Site
from slotwise.domain.policy import ChangePolicy
from slotwise.persistence import outbox
from slotwise.persistence.outbox import QueuedMessage
from slotwise.services import links
from slotwise.services.delivery import email_to_json, sms_to_json
from slotwise.i18n import Formatter
from slotwise.persistence import accounts as accounts_store
from slotwise.services.email_content import STAFF_EVENTS, build_booking_email, build_staff_email
from slotwise.services.sms_content import build_booking_sms
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER
from slotwise.settings import Settings

# Sender shown when SLOTWISE_MAIL_FROM / _TWILIO_FROM are not set (the demo).
DEV_MAIL_FROM = "bookings@slotwise.localhost"
DEV_SMS_FROM = "Slotwise"


@dataclass(frozen=True, slots=True)
class Messaging:
    """What composing messages needs from the settings."""

    base_url: str
    mail_from: str
    sms_from: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Messaging:
        return cls(
            base_url=settings.base_url,
            mail_from=settings.mail_from or DEV_MAIL_FROM,
            sms_from=settings.twilio_from or DEV_SMS_FROM,
        )

    def manage_url(self, token: str) -> str:
        return links.manage_url(self.base_url, token)

    def message_id(self, uid: uuid.UUID) -> str:
        domain = self.mail_from.rpartition("@")[2] or urlsplit(self.base_url).hostname or "slotwise"
        return f"<{uid}@{domain}>"


@dataclass(frozen=True, slots=True)
class SiteMessaging:
    """The site's own message settings."""

    site_id: int
    sms_enabled: bool
    reminders: tuple[int, ...]  # minutes before the start
    email_templates: Mapping[str, str] = field(default_factory=dict)  # owner overrides
    sms_templates: Mapping[str, str] = field(default_factory=dict)
    policy: ChangePolicy = ChangePolicy()  # what emails may promise about changes
    accent: str | None = None  # "rrggbb": the emails' button colour

    @classmethod
    def of(cls, site: Site, service: Service) -> SiteMessaging:
        return cls(site_id=site.id, sms_enabled=site.sms_enabled,
                   reminders=service.reminders, email_templates=site.email_templates,
                   sms_templates=site.sms_templates, policy=ChangePolicy.of(site, service),
                   accent=site.accent)

    def sms_template(self, event: str, locale: str) -> str | None:
        """The owner's SMS text for this event: in this language, else for any language."""
        return self.sms_templates.get(f"{event}.{locale}") or self.sms_templates.get(event)


async def queue_booking_messages(
    record: Booking, *, event: str, site: SiteMessaging, messaging: Messaging, now: datetime,
) -> list[QueuedMessage]:
    """Queue the messages ``event`` causes, and return them; their manage links hold a placeholder.

    The worker derives the booking's manage token and fills it in when it
    sends (services.delivery), so no working link is ever stored.
    """
    manage_url = messaging.manage_url(MANAGE_TOKEN_PLACEHOLDER)
    messages = []

    def email_to(recipient: str, kind: str, send_at: datetime) -> QueuedMessage:
        uid = uuid.uuid4()
        # Rendered now, read at send_at: promise only the cut-offs still ahead then.
        deadlines = site.policy.deadlines(status=record.status, start=record.start, now=send_at,
                                          reschedules_done=record.reschedule_count)
        email = build_booking_email(record, event=kind, manage_url=manage_url,
                                    mail_from=messaging.mail_from,
                                    message_id=messaging.message_id(uid), now=now,
                                    deadlines=deadlines, overrides=site.email_templates,
                                    accent=site.accent)
        return QueuedMessage(uid=uid, site_id=site.site_id, booking_id=record.id, event=kind,
                             channel="email", recipient=recipient, content=email_to_json(email),
                             send_at=send_at)

    def sms_to(kind: str, send_at: datetime) -> QueuedMessage:
        sms = build_booking_sms(record, event=kind, manage_url=manage_url, from_number=messaging.sms_from,
                                template=site.sms_template(kind, record.locale))
        return QueuedMessage(uid=uuid.uuid4(), site_id=site.site_id, booking_id=record.id, event=kind,
                             channel="sms", recipient=sms.to, content=sms_to_json(sms), send_at=send_at)

    texts = site.sms_enabled and bool(record.customer.phone)
    messages.append(email_to(record.customer.email, event, now))
    if texts:
        messages.append(sms_to(event, now))
    if event in ("confirmed", "rescheduled"):
        for minutes in site.reminders:
            send_at = record.start - timedelta(minutes=minutes)
            if send_at <= now:
                continue  # booked inside this reminder's window
            messages.append(email_to(record.customer.email, "reminder", send_at))
            if texts:
                messages.append(sms_to("reminder", send_at))
    await outbox.queue(messages, now=now)
    return messages



async def queue_team_notes(
    record: Booking, *, event: str, site: Site, service: Service, messaging: Messaging, now: datetime,
    by: Actor, previous_start: datetime | None = None, previous_resources: Sequence[str] = (),
    reason: str | None = None,
) -> list[QueuedMessage]:
    """Tell the people running the site about a change ``by`` someone, each in an email of their own.

    A customer's change goes to the site's notification address and to the
    staff accounts of the booked resources. A change made on the site's side
    (an account, an API key) goes only to those staff accounts, so a therapist
    hears that the front desk or a connected system booked, moved or
    cancelled one of theirs; never to the one who made it, and not to the
    team's address (the team made it). The system's own changes note nobody.
    A move from one person to another notes both (``previous_resources``).

    Their note links to the booking in the back office, never to the customer's
    manage link, and is in the site's language and zone. Returns the notes queued.
    """
    if event not in STAFF_EVENTS or by.kind is ActorKind.SYSTEM:
        return []
    recipients = [site.notify_email] if site.notify_email and by.is_customer else []
    recipients += await accounts_store.staff_emails(
        site.id, list(dict.fromkeys([*(r.key for r in record.resources), *previous_resources])),
        except_account=by.ref if by.kind is ActorKind.ACCOUNT else None)
    answers = [(q.label or q.key, _answer_text(record.answers[q.key], site.locale))
               for q in service.questions if q.key in record.answers]
    if record.address:  # the customer's postal address, on one line
        answers.insert(0, (Formatter(site.locale).gettext("Address"), ", ".join(record.address.splitlines())))
    booking_url = links.back_office_booking_url(messaging.base_url, record.site.slug, record.public_id)
    notes = []
    for recipient in dict.fromkeys(recipients):  # each address once
        uid = uuid.uuid4()
        email = build_staff_email(record, event=event, to=recipient, locale=site.locale, answers=answers,
                                  booking_url=booking_url, mail_from=messaging.mail_from,
                                  message_id=messaging.message_id(uid), previous_start=previous_start,
                                  reason=reason)
        notes.append(QueuedMessage(uid=uid, site_id=site.id, booking_id=record.id, event=f"staff-{event}",
                                   channel="email", recipient=recipient, content=email_to_json(email),
                                   send_at=now))
    await outbox.queue(notes, now=now)
    return notes


def _answer_text(value: object, locale: str) -> str:
    if isinstance(value, bool):
        formatter = Formatter(locale)
        return formatter.gettext("Yes") if value else formatter.gettext("No")
    return str(value)
