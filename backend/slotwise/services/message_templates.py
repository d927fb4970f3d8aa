"""A site's message templates through the admin API: list, override, return to the default, preview.

The overrides are the very ones a site file holds under ``[templates.email]``
and ``[templates.sms]`` (``Site.message_templates``), so what the API sets the
site document shows, and applying a site file replaces them (docs/messages.md).
The API names one set of templates by event, channel and language:

- email ``confirmed/email/de`` is the parts ``subject``, ``text`` and ``html``,
  stored as ``confirmed.de.subject.txt``, ``confirmed.de.txt``, ``confirmed.de.html``;
- SMS ``confirmed/sms/de`` is the one part ``body``, stored as ``confirmed.de``;
- the language ``any`` stands for the names without a language
  (``confirmed.txt``, ``confirmed``), used for every language without its own.

A part is checked exactly as in a site file (the sandbox's parser, the same
length limit); a bad one is a 422 naming the part and the line. Previews
render in the same sandbox as real messages, against a booking of the site or
a made-up sample, and never contain a working manage link.
"""

from __future__ import annotations

import hashlib
import json
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import TemplateSyntaxError

from slotwise.domain.actors import Actor
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Booking, BookingStatus, Customer, ResourceRef, ServiceRef, Site, SiteRef
from slotwise.domain.policy import ChangePolicy
from slotwise.i18n import DEFAULT_LOCALE, supported
from slotwise.persistence import catalog as store
from slotwise.persistence import queries
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.services import audit, booking_lists
from slotwise.services.availability import forget_offers
from slotwise.services.config import ServiceConfig
from slotwise.services.email_content import (
    EMAIL_TEMPLATES_DIR,
    SUBJECT_LIMIT,
    environment_for,
    header_value,
    render_part,
    template_variables,
)
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound, PreconditionFailed
from slotwise.services.sms_content import SMS_TEMPLATES_DIR, plain, render_sms, sms_context, sms_segments
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER
from slotwise.sitefile.templates import TEMPLATE_MAX_LENGTH, template_syntax_error

CHANNELS = ("email", "sms")
ANY_LOCALE = "any"
LOCALES = (*SUPPORTED_LOCALES, ANY_LOCALE)
# The API's part names and the file part each is stored as.
EMAIL_PARTS: Mapping[str, str] = {"subject": "subject.txt", "text": "txt", "html": "html"}
SMS_PARTS: Mapping[str, str] = {"body": ""}


def parts_of(channel: str) -> Mapping[str, str]:
    return EMAIL_PARTS if channel == "email" else SMS_PARTS


def stored_name(event: str, channel: str, locale: str, part: str) -> str:
    """The name a site file uses: ``confirmed.de.txt``, ``confirmed.subject.txt``, ``confirmed.de``."""
    stem = event if locale == ANY_LOCALE else f"{event}.{locale}"
    return f"{stem}.{EMAIL_PARTS[part]}" if channel == "email" else stem


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplatePart:
    source: str
    origin: str  # "site" (this language's override), "site-any-language", "default"
    name: str  # the override's site-file name, or the default's file name


@dataclass(frozen=True, slots=True)
class TemplateSet:
    event: str
    channel: str
    locale: str
    parts: Mapping[str, TemplatePart]
    variables: tuple[str, ...]


def templates_etag(templates: Mapping[str, Mapping[str, str]]) -> str:
    digest = hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


@lru_cache(maxsize=128)
def _default(channel: str, event: str, locale: str, part: str) -> TemplatePart:
    """The shipped template for one part (files do not change while the process runs)."""
    if channel == "email":
        name = f"{event}.{locale}.{EMAIL_PARTS[part]}"
        if not (EMAIL_TEMPLATES_DIR / name).is_file():
            name = f"{event}.{DEFAULT_LOCALE}.{EMAIL_PARTS[part]}"
        path = EMAIL_TEMPLATES_DIR / name
    else:
        name = f"{event}.{locale}.txt"
        if not (SMS_TEMPLATES_DIR / name).is_file():
            name = f"{event}.{DEFAULT_LOCALE}.txt"
        path = SMS_TEMPLATES_DIR / name
    return TemplatePart(path.read_text(encoding="utf-8"), "default", name)


def effective_part(templates: Mapping[str, Mapping[str, str]], event: str, channel: str, locale: str,
                   part: str) -> TemplatePart:
    """The source in effect for one part in one language: its override, the any-language one, the default."""
    own = templates.get(channel, {})
    for candidate, origin in ((locale, "site"), (ANY_LOCALE, "site-any-language")):
        name = stored_name(event, channel, candidate, part)
        if name in own:
            return TemplatePart(own[name], origin, name)
    return _default(channel, event, locale, part)


def list_templates(site: Site, templates: Mapping[str, Mapping[str, str]]) -> list[TemplateSet]:
    """Every event × channel × language (en, de) with the source in effect for each part."""
    variables = {channel: _variable_names(site, channel) for channel in CHANNELS}
    return [
        TemplateSet(event, channel, locale,
                    {part: effective_part(templates, event, channel, locale, part) for part in parts_of(channel)},
                    variables[channel])
        for event in MESSAGE_EVENTS for channel in CHANNELS for locale in SUPPORTED_LOCALES
    ]


async def site_templates(site: Site) -> tuple[list[TemplateSet], str]:
    """The listing and the ETag a PUT or DELETE must name in ``If-Match``."""
    templates = await store.message_templates(site.id)
    return list_templates(site, templates), templates_etag(templates)


def _flatten(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [name for key, item in value.items() for name in _flatten(item, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def _variable_names(site: Site, channel: str) -> tuple[str, ...]:
    """What a template of this channel may use, read off the real variables of a sample booking."""
    sample = sample_booking(site, now=datetime(2026, 1, 1, tzinfo=UTC))
    if channel == "email":
        names = _flatten(template_variables(sample, event="confirmed", manage_url="", locale=DEFAULT_LOCALE))
    else:
        names = _flatten(sms_context(sample, event="confirmed", manage_url=""))
    return (*sorted(names), "custom.<name>")


# --- writing ---------------------------------------------------------------------------


def _check_path(event: str, channel: str, locale: str) -> None:
    if event not in MESSAGE_EVENTS or channel not in CHANNELS or locale not in LOCALES:
        raise NotFound("template", f"{event}/{channel}/{locale}")


def check_source(field: str, value: Any, problems: list[FieldProblem]) -> str | None:
    """One template part as a site file checks it: text, not too long, valid in the sandbox."""
    if not isinstance(value, str):
        problems.append(FieldProblem(field, "string-expected"))
        return None
    if not value.strip():
        problems.append(FieldProblem(field, "required"))
        return None
    if len(value) > TEMPLATE_MAX_LENGTH:
        problems.append(FieldProblem(field, "text-too-long", {"limit": TEMPLATE_MAX_LENGTH}))
        return None
    error = template_syntax_error(value)
    if error is not None:
        problems.append(FieldProblem(field, "template-invalid", {"line": error[0], "message": error[1]}))
        return None
    return value


def check_parts(channel: str, body: Any, *, prefix: str = "") -> dict[str, str]:
    """The parts of a PUT (or a preview's ``source``): known names, at least one, each valid."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldProblem(prefix.rstrip(".") or "body", "object-expected")])
    known = parts_of(channel)
    problems = [FieldProblem(f"{prefix}{name}", "field-unknown") for name in sorted(set(body) - set(known))]
    parts: dict[str, str] = {}
    for part in known:
        if part in body:
            source = check_source(f"{prefix}{part}", body[part], problems)
            if source is not None:
                parts[part] = source
    if not body.keys() & known.keys() and not problems:
        problems.append(FieldProblem(f"{prefix}{next(iter(known))}", "required"))
    if problems:
        raise InvalidInput(problems)
    return parts


async def _replace(site: Site, event: str, channel: str, locale: str, parts: Mapping[str, str], *,
                   if_match: str | None, actor: Actor, now: datetime) -> tuple[list[TemplateSet], str]:
    async with write_transaction(current_engine()):
        templates = await store.message_templates(site.id)
        if if_match is not None and if_match.strip() not in ("*", templates_etag(templates)):
            raise PreconditionFailed("templates", site.slug)
        own = templates[channel]
        names = [stored_name(event, channel, locale, part) for part in parts_of(channel)]
        before = {name: own[name] for name in names if name in own}
        for part in parts_of(channel):
            own.pop(stored_name(event, channel, locale, part), None)
        for part, source in parts.items():
            own[stored_name(event, channel, locale, part)] = source
        await store.set_message_templates(site.id, templates, now=now)
        # The audit log shows the set as it was and is (no set: the defaults).
        after = {name: own[name] for name in names if name in own}
        if before != after:
            await audit.record(site.id, actor=actor, now=now, via="admin-api", kind="template",
                               ref=f"{event}/{channel}/{locale}", before=before or None, after=after or None)
    forget_offers()
    return list_templates(site, templates), templates_etag(templates)


async def set_override(site: Site, event: str, channel: str, locale: str, body: Any, *, if_match: str | None,
                       actor: Actor, now: datetime) -> tuple[TemplateSet, str]:
    """Make ``body``'s parts the site's templates for this event, channel and language.

    Parts left out return to the default (PUT replaces the whole set). ``actor``
    is who changed it (for the audit log of configuration changes).
    """
    _check_path(event, channel, locale)
    parts = check_parts(channel, body)
    listing, etag = await _replace(site, event, channel, locale, parts, if_match=if_match, actor=actor,
                                   now=now)
    return _one(site, listing, event, channel, locale), etag


async def remove_override(site: Site, event: str, channel: str, locale: str, *, if_match: str | None,
                          actor: Actor, now: datetime) -> str:
    """Back to the default for this event, channel and language; the new ETag."""
    _check_path(event, channel, locale)
    _, etag = await _replace(site, event, channel, locale, {}, if_match=if_match, actor=actor, now=now)
    return etag


def _one(site: Site, listing: list[TemplateSet], event: str, channel: str, locale: str) -> TemplateSet:
    if locale == ANY_LOCALE:  # shown as the site's own language sees it
        locale = site.locale if site.locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    return next(t for t in listing if (t.event, t.channel, t.locale) == (event, channel, locale))


# --- custom variables --------------------------------------------------------------------

# Values an API caller adds for one message ({{ custom.room }}): a handful of
# short texts, not a second database. Names as Jinja attribute names.
CUSTOM_MAX_COUNT = 20
CUSTOM_NAME_MAX = 40
CUSTOM_VALUE_MAX = 500


def check_custom_variables(raw: Any, problems: list[FieldProblem], field: str = "variables") -> dict[str, str]:
    """``{name: text}`` from the request: strings, numbers or booleans, shown as text."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(FieldProblem(field, "object-expected"))
        return {}
    if len(raw) > CUSTOM_MAX_COUNT:
        problems.append(FieldProblem(field, "too-many", {"limit": CUSTOM_MAX_COUNT}))
        return {}
    found: dict[str, str] = {}
    for name, value in raw.items():
        path = f"{field}.{name}"
        if not (isinstance(name, str) and name.isidentifier() and name.isascii() and not name.startswith("_")
                and len(name) <= CUSTOM_NAME_MAX):
            problems.append(FieldProblem(path, "variable-name", {"limit": CUSTOM_NAME_MAX}))
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float | str):
            text = str(value)
        else:
            problems.append(FieldProblem(path, "string-expected"))
            continue
        if len(text) > CUSTOM_VALUE_MAX:
            problems.append(FieldProblem(path, "text-too-long", {"limit": CUSTOM_VALUE_MAX}))
            continue
        found[name] = text
    return found


# --- rendering -----------------------------------------------------------------------------

def sample_booking(site: Site, *, now: datetime, service: ServiceRef | None = None,
                   resources: tuple[ResourceRef, ...] = (), price_minor: int | None = None,
                   currency: str | None = None) -> Booking:
    """A made-up booking for previews: tomorrow at ten in the site's zone, a sample customer
    (with the price of the service it is made for, so ``{{ booking.price }}`` previews as sent)."""
    zone = ZoneInfo(site.timezone)
    local = (now.astimezone(zone) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    start = local.astimezone(UTC)
    return Booking(
        id=0, uid=str(uuid.UUID(int=0)), status=BookingStatus.CONFIRMED,
        site=SiteRef(site.id, site.slug, site.name, site.timezone, site.contact_email, site.address),
        service=service or ServiceRef("sample", "Sample service"), start=start, end=start + timedelta(minutes=45),
        resources=resources, customer=Customer("Alex Sample", "alex@example.com", "+4915100000000"),
        answers={}, price_minor=price_minor, currency=currency, locale=site.locale, timezone=site.timezone,
        created_at=now,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    channel: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    body: str | None = None
    segments: int | None = None


def _line_of(error: Exception) -> int | None:
    """The template line a rendering error happened on (Jinja's rewritten traceback names it)."""
    if isinstance(error, TemplateSyntaxError):
        return error.lineno
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == "<template>":
            line = lineno
    return line


def _render_strictly(field: str, render: Any, problems: list[FieldProblem]) -> str | None:
    try:
        return render()
    except Exception as error:  # UndefinedError, SecurityError, TemplateSyntaxError, ...
        line = _line_of(error)
        message = f"{type(error).__name__}: {error}"
        if line is None:
            problems.append(FieldProblem(field, "template-failed", {"message": message}))
        else:
            problems.append(FieldProblem(field, "template-invalid", {"line": line, "message": message}))
        return None


async def _booking_for_preview(site: Site, booking_id: Any, now: datetime,
                               problems: list[FieldProblem]) -> tuple[Booking, ChangePolicy | None]:
    services = await queries.list_services(site.id, include_disabled=True)
    if booking_id is None:
        first = services[0] if services else None
        ref = ServiceRef(first.slug, first.name) if first else None
        return (sample_booking(site, now=now, service=ref, price_minor=first.price_minor if first else None,
                               currency=first.currency if first else None),
                ChangePolicy.of(site, first) if first else None)
    if not isinstance(booking_id, str):
        problems.append(FieldProblem("booking_id", "string-expected"))
        return sample_booking(site, now=now), None
    booking = await booking_lists.find_booking(site, booking_id)
    service = next((s for s in services if s.slug == booking.service.slug), None)
    return booking, (ChangePolicy.of(site, service) if service else None)


def email_variables(booking: Booking, *, event: str, locale: str, policy: ChangePolicy | None, now: datetime,
                    manage_url: str, custom: Mapping[str, str]) -> dict[str, Any]:
    deadlines = policy.deadlines(status=booking.status, start=booking.start, now=now,
                                 reschedules_done=booking.reschedule_count) if policy else None
    variables = template_variables(booking, event=event, manage_url=manage_url, locale=locale, deadlines=deadlines)
    variables["custom"] = {name: header_value(value) for name, value in custom.items()}
    return variables


async def preview(site: Site, body: Any, *, now: datetime, config: ServiceConfig) -> Rendered:
    """Render templates as a message would, without sending anything.

    ``body``: ``event`` and ``channel`` (required), ``locale`` (default: the
    booking's), ``source`` (parts to try instead of the site's, checked as a
    PUT checks them), ``booking_id`` (a booking of this site; default a sample)
    and ``variables`` (custom ones). Parts given in ``source`` render strictly:
    an error is a 422 naming the part and line. The rest render as a real
    message would (a failing site override falls back to the default).
    """
    if not isinstance(body, dict):
        raise InvalidInput([FieldProblem("body", "object-expected")])
    problems = [FieldProblem(name, "field-unknown")
                for name in sorted(set(body) - {"event", "channel", "locale", "source", "booking_id", "variables"})]
    event, channel = body.get("event"), body.get("channel")
    if event not in MESSAGE_EVENTS:
        problems.append(FieldProblem("event", "choice-unknown", {"choices": ", ".join(MESSAGE_EVENTS)}))
    if channel not in CHANNELS:
        problems.append(FieldProblem("channel", "choice-unknown", {"choices": ", ".join(CHANNELS)}))
    locale = body.get("locale")
    if locale is not None and locale not in SUPPORTED_LOCALES:
        problems.append(FieldProblem("locale", "locale-unsupported", {"choices": ", ".join(SUPPORTED_LOCALES)}))
    custom = check_custom_variables(body.get("variables"), problems)
    if problems:
        raise InvalidInput(problems)
    source = check_parts(channel, body["source"], prefix="source.") if body.get("source") is not None else {}
    booking, policy = await _booking_for_preview(site, body.get("booking_id"), now, problems)
    if problems:
        raise InvalidInput(problems)
    locale = locale or supported(booking.locale) or DEFAULT_LOCALE
    manage_url = config.messaging.manage_url(MANAGE_TOKEN_PLACEHOLDER)
    overrides = dict(site.email_templates)
    if channel == "email":
        variables = email_variables(booking, event=event, locale=locale, policy=policy, now=now,
                                    manage_url=manage_url, custom=custom)
        rendered: dict[str, str | None] = {}
        for part, file_part in EMAIL_PARTS.items():
            if part in source:
                name = f"{event}.{locale}.{file_part}"
                rendered[part] = _render_strictly(
                    f"source.{part}",
                    lambda name=name, text=source[part]: environment_for(name).from_string(text).render(variables),
                    problems)
            else:
                rendered[part] = render_part(event, locale, file_part, variables, overrides)
        if problems:
            raise InvalidInput(problems)
        subject = header_value(rendered["subject"] or "", SUBJECT_LIMIT) or header_value(
            render_part(event, locale, "subject.txt", variables), SUBJECT_LIMIT)
        return Rendered("email", subject=subject, text=rendered["text"], html=rendered["html"])
    context = {**sms_context(_with_locale(booking, locale), event=event, manage_url=manage_url),
               "custom": {name: plain(value) for name, value in custom.items()}}
    if "body" in source:
        text = _render_strictly("source.body", lambda: render_sms(source["body"], context), problems)
    else:
        own = site.sms_templates.get(f"{event}.{locale}") or site.sms_templates.get(event)
        text = _render_strictly("templates.sms", lambda: render_sms(own, context, name=f"{event}.{locale}.txt"),
                                problems)
    if text is None:
        raise InvalidInput(problems)
    return Rendered("sms", body=text, segments=sms_segments(text))


def _with_locale(booking: Booking, locale: str) -> Booking:
    return replace(booking, locale=locale)
