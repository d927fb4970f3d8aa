"""The text of booking SMS: one short message per event and language, and its segment count.

Templates
---------
The default texts are small Jinja templates, ``templates/sms/<event>.<locale>.txt``
(events ``confirmed``, ``rescheduled``, ``cancelled``, ``reminder``; locales
``en``, ``de``), rendered in Jinja2's *immutable sandbox* with autoescaping off
(SMS is plain text). A site's own template (``template=`` of
:func:`build_booking_sms`) renders in the same sandbox with the same variables:

``when``
    day and time in the customer's zone, compact: "Tue 24 Nov, 09:00" /
    "Di. 24. Nov., 09:00"
``day``, ``time``
    the two halves of ``when``: "Tue 24 Nov" and "09:00"
``place``
    the site's name
``service``
    the service's name
``manage_url``
    the customer's manage link
``event``
    "confirmed", "rescheduled", "cancelled" or "reminder"

The result is stripped and its runs of whitespace (newlines included) are
collapsed to single spaces, so a template may be wrapped freely.

What goes in
------------
The customer's name is left out: it adds nothing to the message and is the
one value a stranger typed. Names the owner typed (site, service) are made
single-line, typographic punctuation that GSM-7 lacks (curly quotes, dashes,
the ellipsis, non-breaking spaces) is replaced by its plain equivalent so it
does not switch the whole message to UCS-2, and they are shortened to
:data:`MAX_PLACE` / :data:`MAX_SERVICE` characters, at a word where one ends
near the limit ("..." marks the cut). Jinja syntax in them is shown, never run. The
manage link is never shortened. A typical booking needs one or two segments.

Segments
--------
:func:`sms_segments` counts segments as a handset/carrier would: GSM 03.38
7-bit text (basic set 1 septet, extension table 2 septets) fits 160 septets
in one segment or 153 per segment when concatenated, an escape pair never
split across two; anything outside GSM-7 sends the whole message as UCS-2,
70 UTF-16 code units in one segment or 67 per part, a surrogate pair never
split. German is GSM-7: ä ö ü Ä Ö Ü and ß are all in the basic set; € is in
the extension table (2 septets).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from slotwise.adapters.delivery import OutgoingSms
from slotwise.assets import TEMPLATES_DIR
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Booking
from slotwise.i18n import DEFAULT_LOCALE, FORMAT_LOCALES, supported

SMS_TEMPLATES_DIR = TEMPLATES_DIR / "sms"

EVENTS = MESSAGE_EVENTS

# Compact day patterns (CLDR): "Tue 24 Nov" / "Di. 24. Nov."
SHORT_DAY_PATTERNS = {"en": "EEE d MMM", "de": "EEE d. MMM"}

MAX_PLACE = 40
MAX_SERVICE = 30

# --- GSM 03.38 ------------------------------------------------------------------

# The default alphabet, in code order 0x00-0x7F (0x1B is the escape to the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ" "ÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape plus the character (2 septets).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM 7-bit default alphabet (with its extension)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(units: list[int], single: int, part: int) -> int:
    """Segments for a sequence of indivisible units (their sizes), greedily packed."""
    total = sum(units)
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments += 1
            used = 0
        used += size
    return segments


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes (an empty text still sends one)."""
    if is_gsm7(text):
        return _pack([2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_PART)
    return _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2_SINGLE, UCS2_PART)


# --- owner-typed values ------------------------------------------------------------

_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"', "\u2039": "'", "\u203a": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
})
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def plain(value: str, limit: int | None = None) -> str:
    """One line, GSM-friendly punctuation, at most ``limit`` characters ("..." marks a cut)."""
    text = _CONTROL_OR_SPACE.sub(" ", value.translate(_TYPOGRAPHIC)).strip()
    if limit is not None and len(text) > limit:
        cut = text[: limit - 3]
        space = cut.rfind(" ")
        if space >= len(cut) - 12:  # end at a word when one ends near the limit
            cut = cut[:space]
        text = cut.rstrip(" -,;:.") + "..."
    return text


# --- rendering -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(SMS_TEMPLATES_DIR),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def sms_context(record: Booking, *, event: str, manage_url: str) -> dict[str, Any]:
    """The documented template variables for one booking (see the module docstring)."""
    record = record.for_customer()  # names in the customer's language, the listed duration
    locale = supported(record.locale) or DEFAULT_LOCALE
    babel_locale = FORMAT_LOCALES[locale]
    local: datetime = record.start.astimezone(_zone(record.timezone, record.site.timezone))
    day = format_date(local.date(), SHORT_DAY_PATTERNS[locale], locale=babel_locale)
    time = format_time(local.time(), "HH:mm", locale=babel_locale)
    return {
        "event": event,
        "locale": locale,
        "day": day,
        "time": time,
        "when": f"{day}, {time}",
        "place": plain(record.site.name, MAX_PLACE),
        "service": plain(record.service.name, MAX_SERVICE),
        "manage_url": manage_url,
        "custom": {},  # an API caller's values for one message
    }


def render_sms(source: str | None, context: dict[str, Any], *, name: str | None = None) -> str:
    """Render a template (an owner's ``source``, or the default file ``name``) in the sandbox."""
    env = _environment()
    template = env.from_string(source) if source is not None else env.get_template(name or "")
    return " ".join(template.render(context).split())


def build_booking_sms(
    record: Booking, *, event: str, manage_url: str, from_number: str,
    template: str | None = None, custom: dict[str, str] | None = None,
) -> OutgoingSms:
    """The SMS for ``event`` about ``record``, in the booking's language.

    ``template`` is a site's own Jinja source for this event and language, if it
    has one; ``custom`` values an API caller sent with this one message. Raises
    ``ValueError`` for an unknown event or a booking without a phone.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown SMS event {event!r}; expected one of {', '.join(EVENTS)}")
    if not record.customer.phone:
        raise ValueError(f"booking {record.uid} has no phone number")
    context = sms_context(record, event=event, manage_url=manage_url)
    context["custom"] = {name: plain(value) for name, value in (custom or {}).items()}
    body = render_sms(template, context, name=f"{event}.{context['locale']}.txt")
    return OutgoingSms(to=record.customer.phone, from_number=from_number, body=body)
