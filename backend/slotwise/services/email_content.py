"""The customer's emails about a booking: subject, text and HTML parts, and the ``.ics``.

Templates live in ``templates/email/`` (see :mod:`slotwise.assets`), one file per
event, locale and part (``confirmed.de.subject.txt``, ``confirmed.de.txt``,
``confirmed.de.html``). They render in Jinja2's sandbox
(:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`), with autoescaping on
for HTML and off for text; a site owner's own templates (``overrides``) render
in exactly the same environments with the same variables, so an owner's
template can do nothing a default cannot. An override that fails — it touches
something the sandbox forbids, names a variable that does not exist, or is not
valid Jinja — is logged and the default template is used instead: a bad
template never stops a booking's email. See ``docs/messages.md``.

Header safety: the subject, the sender's display name and the addresses have
every line break and control character removed, so nothing a customer or an
owner typed can add a header.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from slotwise.adapters.delivery import Attachment, OutgoingEmail
from slotwise.assets import TEMPLATES_DIR
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Booking
from slotwise.domain.colours import email_button
from slotwise.domain.policy import Deadlines
from slotwise.i18n import DEFAULT_LOCALE, Formatter, supported
from slotwise.services.calendar_files import booking_calendar

log = logging.getLogger("slotwise.messages")

EMAIL_TEMPLATES_DIR = TEMPLATES_DIR / "email"

EVENTS = MESSAGE_EVENTS
# The calendar METHOD of the attached .ics per event; reminders carry none (the
# event did not change, and a repeated REQUEST makes some clients ask again).
ICS_METHODS: dict[str, str | None] = {
    "confirmed": "REQUEST",
    "rescheduled": "REQUEST",
    "cancelled": "CANCEL",
    "reminder": None,
}
PARTS = ("subject.txt", "txt", "html")
SUBJECT_LIMIT = 200

# --- environments --------------------------------------------------------------


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(EMAIL_TEMPLATES_DIR),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_HTML_ENV = _environment(autoescape=True)
_TEXT_ENV = _environment(autoescape=False)


def environment_for(name: str) -> ImmutableSandboxedEnvironment:
    """The sandbox a template of this name renders in: escaping for ``.html``, none for text."""
    return _HTML_ENV if name.endswith(".html") else _TEXT_ENV


@lru_cache(maxsize=256)
def _compiled_override(name: str, source: str) -> Template:
    return environment_for(name).from_string(source)


# --- text safety ---------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\v\f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def single_line(value: str | None) -> str:
    """``value`` on one line: line breaks become spaces, other control characters go."""
    if value is None:
        return ""
    return " ".join(_CONTROL.sub("", _LINE_BREAKS.sub(" ", value)).split())


def header_value(value: str, limit: int | None = None) -> str:
    """Safe for a mail header: one line, no control characters, optionally shortened."""
    text = single_line(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _plain(value: str | None) -> str | None:
    """A customer- or owner-typed value for the template variables (one line, no controls)."""
    return None if value is None else single_line(value)


# --- variables -----------------------------------------------------------------


def _zone(name: str | None, fallback: str = "UTC") -> tzinfo:
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _span(formatter: Formatter, start: datetime, end: datetime, zone_name: str) -> str:
    """"Tuesday 24 November 2026, 09:00–09:45 (Europe/Berlin)", in the datetimes' own zone."""
    if start.date() == end.date():
        text = f"{formatter.full_day(start)}, {formatter.time(start)}–{formatter.time(end)}"
    else:
        text = (f"{formatter.full_day(start)}, {formatter.time(start)} – "
                f"{formatter.full_day(end)}, {formatter.time(end)}")
    return f"{text} ({zone_name})"


def template_variables(
    record: Booking, *, event: str, manage_url: str, locale: str, deadlines: Deadlines | None = None,
    accent: str | None = None,
) -> dict[str, Any]:
    """The documented variables (docs/messages.md) every email template receives.

    ``deadlines``: until when the customer may still cancel or move the booking
    online, as the site's policy says for the moment the email is sent.
    ``accent``: the site's colour ("rrggbb" or "#rrggbb"), for the button (``colours``).
    """
    formatter = Formatter(locale)
    customer_zone = _zone(record.timezone, record.site.timezone)
    site_zone = _zone(record.site.timezone)
    customer_zone_name = str(customer_zone)
    start, end = record.start.astimezone(customer_zone), record.end.astimezone(customer_zone)
    site_start, site_end = record.start.astimezone(site_zone), record.end.astimezone(site_zone)
    customer_when = _span(formatter, start, end, customer_zone_name)
    differs = start.utcoffset() != site_start.utcoffset() or end.utcoffset() != site_end.utcoffset()
    site_when = _span(formatter, site_start, site_end, str(site_zone)) if differs else None
    site_name = _plain(record.site.name) or ""
    when = customer_when
    if differs:
        # Only the times when the business's day is the customer's day, else the full span.
        same_days = site_start.date() == start.date() and site_end.date() == site_start.date()
        short = (f"{formatter.time(site_start)}–{formatter.time(site_end)} ({site_zone})"
                 if same_days else site_when)
        # The business's time, added when its wall clock differs from the customer's.
        when += "; " + formatter.gettext("local time at %(site)s: %(when)s", site=site_name, when=short)
    return {
        "event": event,
        "manage_url": manage_url,
        "colours": email_button((accent or "").lstrip("#").lower() or None),
        "locale": locale,
        # Values an API caller sends with one message (docs/messages.md); none otherwise,
        # so an owner template writes {{ custom.room | default("") }}.
        "custom": {},
        "site": {"name": site_name, "contact_email": _plain(record.site.contact_email),
                 "address": _plain(record.site.address)},
        "service": {"name": _plain(record.service.name) or ""},
        "resources": [_plain(r.name) or "" for r in record.resources],
        "customer": {
            "name": _plain(record.customer.name) or "",
            "email": _plain(record.customer.email) or "",
            "phone": _plain(record.customer.phone),
        },
        "booking": {
            "id": str(record.uid),
            "status": record.status,
            "start": start,
            "end": end,
            "timezone": customer_zone_name,
            "when": when,
            "customer_when": customer_when,
            "site_when": site_when,
            "price": formatter.price(record.price_minor, record.currency),
            "cancel_until": _moment(formatter, deadlines and deadlines.cancel, customer_zone),
            "reschedule_until": _moment(formatter, deadlines and deadlines.reschedule, customer_zone),
        },
    }


def _moment(formatter: Formatter, instant: datetime | None, zone: tzinfo) -> str | None:
    """"Monday 23 November 2026, 09:00" in the customer's zone, or None."""
    return formatter.moment(instant.astimezone(zone)) if instant else None


# --- rendering -----------------------------------------------------------------


def render_part(
    event: str, locale: str, part: str, variables: Mapping[str, Any],
    overrides: Mapping[str, str] | None = None,
) -> str:
    """One part (``subject.txt``, ``txt`` or ``html``) of an event's email in ``locale``.

    Lookup: the owner's ``{event}.{locale}.{part}``, then the owner's
    ``{event}.{part}`` (any language), then the default in ``locale``, then
    the English default. A failing override is logged and skipped.
    """
    overrides = overrides or {}
    for name in (f"{event}.{locale}.{part}", f"{event}.{part}"):
        source = overrides.get(name)
        if source is None:
            continue
        try:
            return _compiled_override(name, source).render(variables)
        except Exception as error:  # SecurityError, UndefinedError, TemplateSyntaxError, ...
            log.warning(
                "Owner template %s failed (%s: %s); using the default template instead",
                name, type(error).__name__, error,
            )
    default = f"{event}.{locale}.{part}"
    if not (EMAIL_TEMPLATES_DIR / default).is_file():
        default = f"{event}.{DEFAULT_LOCALE}.{part}"
    return environment_for(default).get_template(default).render(variables)


def build_booking_email(
    record: Booking,
    *,
    event: str,
    manage_url: str,
    mail_from: str,
    message_id: str,
    now: datetime,
    deadlines: Deadlines | None = None,
    overrides: Mapping[str, str] | None = None,
    custom: Mapping[str, str] | None = None,
    accent: str | None = None,
) -> OutgoingEmail:
    """The customer's email about ``event``: confirmed, rescheduled, cancelled or reminder.

    ``custom``: values an API caller sent with this one message, ``{{ custom.<name> }}``.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown email event {event!r}; expected one of {', '.join(EVENTS)}")
    locale = supported(record.locale) or DEFAULT_LOCALE
    # Names in the customer's language (the site's where the owner gave none), the listed duration.
    record = record.for_customer(locale)
    variables = template_variables(record, event=event, manage_url=manage_url, locale=locale,
                                   deadlines=deadlines, accent=accent)
    variables["custom"] = {name: single_line(value) for name, value in (custom or {}).items()}

    subject = header_value(
        render_part(event, locale, "subject.txt", variables, overrides), SUBJECT_LIMIT)
    if not subject:  # an override that renders nothing still needs a subject
        subject = header_value(render_part(event, locale, "subject.txt", variables), SUBJECT_LIMIT)
    text = render_part(event, locale, "txt", variables, overrides)
    html = render_part(event, locale, "html", variables, overrides)

    attachments: tuple[Attachment, ...] = ()
    method = ICS_METHODS[event]
    if method is not None:
        ics = booking_calendar(record, manage_url=manage_url, now=now, method=method)
        params = {"method": method, "charset": "utf-8"}
        attachments = (Attachment("booking.ics", ics, "text/calendar", params),)

    return _to_customer(record, mail_from=mail_from, message_id=message_id, subject=subject, text=text, html=html,
                        attachments=attachments)


def _to_customer(record: Booking, *, mail_from: str, message_id: str, subject: str, text: str, html: str,
                 attachments: tuple[Attachment, ...] = ()) -> OutgoingEmail:
    """An email to the booking's customer from the site (replies go to its contact address)."""
    contact = header_value(record.site.contact_email or "")
    return OutgoingEmail(
        to=header_value(record.customer.email),
        from_address=header_value(mail_from),
        from_name=header_value(record.site.name),
        reply_to=contact or None,
        subject=subject,
        text=text,
        html=html,
        message_id=header_value(message_id),
        attachments=attachments,
    )


# A message an owner or integrator writes themselves: at most this long.
CUSTOM_TEXT_LIMIT = 10_000


def build_custom_email(
    record: Booking, *, text: str, subject: str | None, manage_url: str, mail_from: str, message_id: str,
) -> OutgoingEmail:
    """An email with the owner's own words about a booking (``templates/email/message.<lang>.*``).

    ``text`` keeps its paragraphs and lines (control characters removed) and is
    escaped in the HTML part like every other value; ``subject`` (one line)
    replaces the default "A message from {site} about your booking".
    """
    locale = supported(record.locale) or DEFAULT_LOCALE
    variables = template_variables(record, event="message", manage_url=manage_url, locale=locale)
    body = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    paragraphs = [[line.strip() for line in block.split("\n") if line.strip()]
                  for block in re.split(r"\n\s*\n", body)]
    variables["message"] = {"text": body, "subject": header_value(subject or "") or None,
                            "paragraphs": [p for p in paragraphs if p]}

    def render(part: str) -> str:
        name = f"message.{locale}.{part}"
        return environment_for(name).get_template(name).render(variables)

    return _to_customer(record, mail_from=mail_from, message_id=message_id,
                        subject=header_value(render("subject.txt"), SUBJECT_LIMIT), text=render("txt"),
                        html=render("html"))


# Changes the people running the site hear about (reminders are the customer's alone).
STAFF_EVENTS = ("confirmed", "rescheduled", "cancelled")


def build_staff_email(
    record: Booking, *, event: str, to: str, locale: str, answers: Sequence[tuple[str, str]],
    booking_url: str, mail_from: str, message_id: str, previous_start: datetime | None = None,
    reason: str | None = None,
) -> OutgoingEmail:
    """The note to the site's team about a booking change: who, what, when, and where to see it.

    In the site's language and zone. It carries a link to the booking in the
    back office, never the customer's manage link, and answers reach the
    customer (Reply-To). Owner templates do not apply: this is an internal note.
    """
    if event not in STAFF_EVENTS:
        raise ValueError(f"unknown staff email event {event!r}; expected one of {', '.join(STAFF_EVENTS)}")
    locale = supported(locale) or DEFAULT_LOCALE
    formatter = Formatter(locale)
    zone = _zone(record.site.timezone)
    variables = template_variables(record, event=event, manage_url="", locale=locale)
    start, end = record.start.astimezone(zone), record.end.astimezone(zone)
    variables.update(
        when_here=_span(formatter, start, end, str(zone)),
        previous_when=formatter.moment(previous_start.astimezone(zone)) if previous_start else None,
        answers=[(_plain(label) or "", _plain(value) or "") for label, value in answers],
        reason=_plain(reason),
        booking_url=booking_url,
    )
    name = f"staff.{locale}"
    return OutgoingEmail(
        to=header_value(to),
        from_address=header_value(mail_from),
        from_name=header_value(record.site.name),
        reply_to=header_value(record.customer.email) or None,
        subject=header_value(environment_for(f"{name}.subject.txt").get_template(f"{name}.subject.txt")
                             .render(variables), SUBJECT_LIMIT),
        text=environment_for(f"{name}.txt").get_template(f"{name}.txt").render(variables),
        html=environment_for(f"{name}.html").get_template(f"{name}.html").render(variables),
        message_id=header_value(message_id),
    )
