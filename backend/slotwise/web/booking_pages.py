"""The hosted booking page ``/book/{site}``: server-rendered steps, swapped by htmx.

Every step is a plain GET or POST that renders the whole page, so the page
works without JavaScript and a reload shows the same step; with htmx (the
``HX-Request`` header) the same handler returns only the step's partial, the
very template the page includes. All state travels in the URL and in hidden
form fields; there are no cookies and no server-side sessions.

Steps and their URL state (``/book/{site}?…``):

=============  ==============================================================
services       (no ``service``)
resources      ``service`` — when the service's first resource group offers
               a choice and ``resource`` is absent
calendar       ``service`` [``resource``=key|any] [``month``=YYYY-MM]
               [``date``=YYYY-MM-DD: also that day's free times]
               [``held``: the customer's own hold, kept on the way back]
details        … ``start`` (ISO with offset) ``hold`` (hold token) ``until``
               (its expiry) ``with`` (the held resources' keys)
confirmation   … ``booked`` (signed summary, set after a booking)
=============  ==============================================================

View parameters carried on every link: ``tz`` (the customer's zone), ``times``
(``site``: show times in the business's zone), ``locale``, ``embed``,
``accent``, ``wid``, ``host``.

htmx requests get the step's partial; with ``HX-Target: sw-slots`` (a click
on a day) only that day's times. POSTs: ``/hold`` (take a hold → details),
``/confirm`` (book → confirmation), ``/expired`` (the countdown ran out →
fresh times). ``/theme.css?accent=rrggbb&v=…`` is the page's stylesheet in
the accent colour (immutable; one request for all CSS).
"""

from __future__ import annotations

import calendar as calendar_module
import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader, MutableScopeHeaders
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

import slotwise
from slotwise.clock import Clock
from slotwise.i18n import Formatter, configure_jinja, negotiate, template_gettext, translate_problem
from slotwise.persistence.bookings import BookingRecord
from slotwise.persistence.queries import ResourceInfo, ServiceInfo, SiteInfo
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services.availability import AvailabilityQuery, AvailableSlot, parse_zone
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound
from slotwise.settings import Settings
from slotwise.web.security import origin_of, page_csp

REPO_ROOT = Path(slotwise.__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_ROOT / "templates"
STATIC_DIR = REPO_ROOT / "static"

# The details form's one-time token: signed, never stored; its nonce becomes
# the booking's idempotency key, so a double click books once. Two hours is
# far longer than a hold and short enough that a stale tab cannot replay.
FORM_SALT = "slotwise-booking-form"
FORM_MAX_AGE = 2 * 3600
IDEMPOTENCY_SCOPE = "widget-booking"
# The confirmation's URL carries a signed summary (no customer data), so a
# reload shows it again without a session.
BOOKED_SALT = "slotwise-booking-done"
BOOKED_MAX_AGE = 30 * 24 * 3600

DEFAULT_ACCENT = "1f5fbf"
THEME_VERSION = "1"  # bump when the generated theme CSS changes
# Values typed into the form and carried through a taken or expired hold.
CARRIED_PREFIXES = ("customer.", "answers.")
MAX_CARRIED = 40
MAX_CARRIED_LENGTH = 4000
# How far ahead the service list looks for a group session's next date.
GROUP_LOOKAHEAD_DAYS = 28

_WID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ACCENT = re.compile(r"^#?([0-9A-Fa-f]{6})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
_FIELD_ID = re.compile(r"[^A-Za-z0-9_-]+")
_HELD = re.compile(
    r"^([A-Za-z0-9_-]{16,64})\.(\d{9,11})\.(\d{9,11})(?:\.([A-Za-z0-9_,-]{1,200}))?$"
)

HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        # Back/forward re-fetch the page from the server (it is all in the URL)
        # instead of keeping copies, with typed-in details, in sessionStorage.
        "historyCacheSize": 0,
        # Scrolling a framed page into view would scroll the host page too.
        "scrollIntoViewOnBoost": False,
        # Inline errors (422), a taken slot (409) are pages to show, not failures.
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "40[49]", "swap": True},
            {"code": "422", "swap": True},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    },
    separators=(",", ":"),
)


# --- static files and templates ----------------------------------------------


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """A file's bytes and content hash; the key changes when the file does."""
    body = Path(path).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def _static(relative: str) -> tuple[bytes, str] | None:
    file = STATIC_DIR / relative
    try:
        stat = file.stat()
    except OSError:
        return None
    return _read(str(file), stat.st_mtime_ns, stat.st_size)


def asset_url(relative: str) -> str:
    """``/static/<relative>?v=<content hash>``: a changed file gets a new URL, so it can be cached for good."""
    found = _static(relative)
    return f"/static/{relative}?v={found[1]}" if found else f"/static/{relative}"


IMMUTABLE = "public, max-age=31536000, immutable"


def _versioned_cache(app: ASGIApp) -> ASGIApp:
    """Cache ``/static/…?v=…`` (fingerprinted, see asset_url) for a year; others revalidate."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        versioned = any(
            part.startswith(b"v=") for part in scope.get("query_string", b"").split(b"&")
        )

        async def send_with_cache(message: Message) -> None:
            if versioned and message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["Cache-Control"] = IMMUTABLE
            await send(message)

        await app(scope, receive, send_with_cache if versioned else send)

    return middleware


def static_files_router() -> Router:
    """``/static`` → the repository's ``static/`` (our CSS/JS and ``vendor/`` htmx)."""
    return create_static_files_router(
        "/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(no_cache=True),
        middleware=[_versioned_cache],
    )


def template_config() -> TemplateConfig:
    """Jinja templates from the repository's ``templates/``, autoescaped, with gettext and ``asset()``."""

    def configure(engine: JinjaTemplateEngine) -> None:
        configure_jinja(engine.engine)
        engine.engine.globals["asset"] = asset_url
        # Block tags leave no blank lines behind: smaller pages, same markup.
        engine.engine.trim_blocks = True
        engine.engine.lstrip_blocks = True

    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure
    )


# --- accent colour -------------------------------------------------------------


def _luminance(rgb: str) -> float:
    """WCAG 2 relative luminance of "rrggbb"."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(rgb[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_colours(accent: str) -> dict[str, str]:
    """The accent, the text colour on it, and a shade of it readable as text on white.

    Black or white on the accent, whichever contrasts more: one of them always
    reaches at least 4.58:1. For text and focus rings on the white page the
    accent is darkened in 5 % steps until it reaches 4.5:1 (a pale "#ffdd00"
    becomes "#7a6a00"; "#0a7f6f" already passes and stays).
    """
    on_accent = "000000" if contrast(accent, "000000") >= contrast(accent, "ffffff") else "ffffff"
    ink = accent
    factor = 1.0
    while contrast(ink, "ffffff") < 4.5 and factor > 0:
        factor = round(factor - 0.05, 2)
        ink = "".join(f"{int(int(accent[i : i + 2], 16) * factor):02x}" for i in (0, 2, 4))
    return {"accent": accent, "on_accent": on_accent, "ink": ink}


STYLESHEET = "css/booking.css"
SCRIPTS = ("vendor/htmx.min.js", "js/booking.js")


def strip_comments(source: str) -> str:
    """Drop indentation, blank lines and whole-line ``//`` comments; keep everything else.

    Naive on purpose, so it cannot change what the code does: a line that
    holds code is never touched beyond its leading and trailing spaces.
    """
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def script_bundle() -> str:
    """htmx and booking.js as one file: one request fewer on the way to the first times."""
    return _bundle(tuple(_static(relative) for relative in SCRIPTS))


@lru_cache(maxsize=4)
def _bundle(files: tuple[tuple[bytes, str] | None, ...]) -> str:
    parts = []
    for relative, found in zip(SCRIPTS, files, strict=True):
        if found is not None:
            text = found[0].decode()
            parts.append(text if relative.startswith("vendor/") else strip_comments(text))
    return "\n;".join(parts)


def script_url(site_slug: str) -> str:
    hashes = "".join((_static(r) or (b"", "0"))[1] for r in SCRIPTS)
    version = hashlib.sha256(hashes.encode()).hexdigest()[:12]
    return f"/book/{site_slug}/app.js?v={version}"


def theme_css(accent: str) -> str:
    """The page's stylesheet with the accent's colours (after it, so they win).

    One stylesheet request instead of two: the page needs htmx, booking.js and
    this, which keeps "script tag to first slots" within five requests.
    """
    c = theme_colours(accent)
    found = _static(STYLESHEET)
    base = found[0].decode() if found else ""
    return (
        f"{base}:root{{--sw-accent:#{c['accent']};--sw-on-accent:#{c['on_accent']};"
        f"--sw-ink:#{c['ink']}}}\n"
    )


def theme_url(site_slug: str, accent: str) -> str:
    """Immutable URL of the stylesheet: the accent and the stylesheet's hash are in it."""
    found = _static(STYLESHEET)
    version = f"{THEME_VERSION}.{found[1] if found else '0'}"
    return f"/book/{site_slug}/theme.css?{urlencode({'accent': accent, 'v': version})}"


def parse_accent(raw: str | None) -> str | None:
    match = _ACCENT.match(raw or "")
    return match.group(1).lower() if match else None


# --- page state ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageState:
    """Everything a step needs to know, as it travels in URLs and hidden fields."""

    site: str
    locale: str
    tz: str  # the customer's IANA zone
    service: str | None = None
    resource: str | None = None  # a key, "any", or None: not chosen yet
    month: date | None = None  # first day of the month shown
    day: date | None = None
    times: str | None = None  # "site": times in the business's zone
    embed: bool = False
    accent: str | None = None  # "rrggbb", only when given in the URL
    wid: str | None = None
    host: str | None = None  # an accepted origin of the embedding page
    # The hold the customer already has ("token.start.until.keys", epoch seconds),
    # kept on the way back from the form: picking the same time again reuses it
    # instead of running into one's own hold.
    held: str | None = None

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """Query parameters of this state with ``changes`` applied (None drops one).

        Extra names (``start``, ``hold``, ``until``, ``booked``) are appended
        after the step's own; the view parameters always come last.
        """
        values: dict[str, Any] = {
            "service": self.service,
            "resource": self.resource,
            "month": self.month.strftime("%Y-%m") if self.month else None,
            "date": self.day.isoformat() if self.day else None,
            "held": self.held,
        }
        for key, value in changes.items():
            key = "date" if key == "day" else key
            if key == "month" and isinstance(value, date):
                value = value.strftime("%Y-%m")
            elif key == "date" and isinstance(value, date):
                value = value.isoformat()
            values[key] = value
        values.update(
            times=self.times,
            tz=self.tz,
            locale=self.locale,
            embed="1" if self.embed else None,
            accent=self.accent,
            wid=self.wid,
            host=self.host,
        )
        return [(k, str(v)) for k, v in values.items() if v not in (None, "")]

    def url(self, **changes: Any) -> str:
        return f"/book/{self.site}?{urlencode(self.params(**changes))}"

    def view_only(self) -> PageState:
        """This state without any step: the service list, seen the same way."""
        return replace(self, service=None, resource=None, month=None, day=None, held=None)

    @property
    def resource_key(self) -> str | None:
        """The chosen resource, None for "any"."""
        return None if self.resource in (None, "", "any") else self.resource


def _month(raw: str | None) -> date | None:
    match = _MONTH.match(raw or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1) if 1 <= month <= 12 and 2000 <= year <= 2200 else None


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None


def accepted_host(raw: str | None, site: SiteInfo, settings: Settings) -> str | None:
    """The embedding page's origin if postMessage may go there: an allowed origin or our own."""
    if not raw:
        return None
    host = raw.strip().rstrip("/").lower()
    if not _ORIGIN.match(host):
        return None
    allowed = {o.rstrip("/").lower() for o in site.allowed_origins} | {
        origin_of(settings.base_url).lower()
    }
    return host if host in allowed else None


def read_state(
    site: SiteInfo,
    values: Mapping[str, str],
    *,
    accept_language: str | None,
    settings: Settings,
) -> PageState:
    """The page state from query parameters or form fields; anything invalid falls back to a default."""
    tz = values.get("tz") or ""
    zone = parse_zone(tz) if tz else None
    wid = values.get("wid") or ""
    day = _day(values.get("date"))
    return PageState(
        site=site.slug,
        locale=negotiate(values.get("locale"), accept_language, site.locale),
        tz=zone.key if zone else site.timezone,
        service=values.get("service") or None,
        resource=values.get("resource") or None,
        month=day.replace(day=1) if day else _month(values.get("month")),
        day=day,
        times="site" if values.get("times") == "site" else None,
        embed=values.get("embed") in ("1", "true"),
        accent=parse_accent(values.get("accent")),
        wid=wid if _WID.match(wid) else None,
        host=accepted_host(values.get("host"), site, settings),
        held=values.get("held") if _HELD.match(values.get("held") or "") else None,
    )


def held_hold(state: PageState, start: datetime, now: datetime) -> tuple[str, datetime, str] | None:
    """The customer's own live hold on ``start`` (token, expiry, resource keys), if the page carries one."""
    match = _HELD.match(state.held or "")
    if not match:
        return None
    token, held_start, until = match.group(1), int(match.group(2)), int(match.group(3))
    expires = datetime.fromtimestamp(until, UTC)
    if held_start != int(start.timestamp()) or expires <= now:
        return None
    return token, expires, match.group(4) or ""


def held_param(
    token: str, start: datetime, until: datetime, resources: Iterable[ResourceInfo]
) -> str:
    keys = ",".join(r.key for r in resources)
    return f"{token}.{int(start.timestamp())}.{int(until.timestamp())}" + (
        f".{keys}" if keys else ""
    )


def instant(value: datetime) -> str:
    """An instant for URLs and hidden fields: UTC, whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def zone_label(zone: ZoneInfo) -> str:
    """An IANA name as people read it: "America/New_York" → "America/New York"."""
    return zone.key.replace("_", " ")


def frame_ancestors(site: SiteInfo | None, settings: Settings) -> list[str]:
    if site is None:
        return []
    return [*site.allowed_origins, origin_of(settings.base_url)]


# --- view models -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class View:
    """One step: its partial and what the partial needs."""

    template: str
    context: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FieldView:
    name: str
    id: str
    label: str
    kind: str  # text, email, tel, textarea, select, checkbox, number
    required: bool
    value: str = ""
    checked: bool = False
    options: Sequence[str] = ()
    error: str | None = None
    autocomplete: str | None = None
    maxlength: int | None = None
    min: float | None = None
    max: float | None = None


class Page:
    """Builds the views of one request: the site, the state, formatting and URLs."""

    def __init__(self, site: SiteInfo, state: PageState, settings: Settings, now: datetime) -> None:
        self.site = site
        self.state = state
        self.settings = settings
        self.now = now
        self.fmt = Formatter(state.locale)
        self.site_zone = ZoneInfo(site.timezone)
        self.customer_zone = ZoneInfo(state.tz)
        self.zone = self.site_zone if state.times == "site" else self.customer_zone
        self._ = self.fmt.gettext

    # -- shared pieces

    @property
    def base(self) -> str:
        return f"/book/{self.site.slug}"

    def common(self) -> dict[str, Any]:
        accent = self.state.accent or parse_accent(self.site.accent) or DEFAULT_ACCENT
        theme = theme_url(self.site.slug, accent)
        return {
            "lang": self.state.locale,
            "site": self.site,
            "state": self.state,
            "host": self.state.host,
            "theme_url": theme,
            "script_url": script_url(self.site.slug),
            "htmx_config": HTMX_CONFIG,
            "hold_action": f"{self.base}/hold",
            **template_gettext(self.state.locale),
        }

    def zone_note(self) -> dict[str, str] | None:
        """Which zone times are in, and a link to the other one when the customer's differs."""
        if self.customer_zone.key == self.site_zone.key:
            return None
        if self.state.times == "site":
            return {
                "text": self._(
                    "Times are shown in %(site)s's time zone (%(zone)s).",
                    site=self.site.name,
                    zone=zone_label(self.site_zone),
                ),
                "switch_url": self._here(times=None),
                "switch_text": self._(
                    "Show my time zone (%(zone)s)", zone=zone_label(self.customer_zone)
                ),
            }
        return {
            "text": self._(
                "Times are shown in your time zone (%(zone)s).", zone=zone_label(self.customer_zone)
            ),
            "switch_url": self._here(times="site"),
            "switch_text": self._(
                "Show %(site)s's time zone (%(zone)s)",
                site=self.site.name,
                zone=zone_label(self.site_zone),
            ),
        }

    def _here(self, **changes: Any) -> str:
        return replace(self.state, **changes).url()

    def place(self, zone: ZoneInfo) -> str:
        """The zone's city: "Europe/Berlin" → "Berlin"."""
        return zone.key.rsplit("/", 1)[-1].replace("_", " ")

    def business_time(self, instant: datetime, zone: ZoneInfo | None = None) -> str | None:
        """The business's time, "09:30 in Berlin", when its clock differs from the one shown."""
        shown_at = instant.astimezone(zone or self.zone)
        there = instant.astimezone(self.site_zone)
        if shown_at.utcoffset() == there.utcoffset():
            return None
        return self._(
            "%(time)s in %(place)s", time=self.fmt.time(there), place=self.place(self.site_zone)
        )

    def when(self, start: datetime, zone: ZoneInfo | None = None) -> str:
        """Day and time in the displayed zone, or ``zone``, plus the business's time where it differs."""
        shown_at = start.astimezone(zone or self.zone)
        text = self.fmt.moment(shown_at)
        other = self.business_time(start, zone)
        return f"{text} ({other})" if other else text

    def who(self, resources: Sequence[ResourceInfo] | Sequence[tuple[str, str, str]]) -> str | None:
        """Whom the first group gives: "with Anna Berg" for a person, the bare name otherwise."""
        if not resources:
            return None
        first = resources[0]
        name, kind = (
            (first.name, first.kind) if isinstance(first, ResourceInfo) else (first[1], first[2])
        )
        return self._("with %(name)s", name=name) if kind == "person" else name

    def service_rows(
        self, service: ServiceInfo, *, who: str | None = None, start: datetime | None = None
    ) -> list[tuple[str, str]]:
        """Summary rows; ``who`` is the name(s) of whom or what the customer gets."""
        rows = [
            (self._("Service"), f"{service.name} · {self.fmt.duration(service.duration_minutes)}")
        ]
        if who:
            rows.append((self._("With"), who))
        if start is not None:
            rows.append((self._("When"), self.when(start)))
        price = self.fmt.price(service.price_minor, service.currency)
        if price:
            rows.append((self._("Price"), price))
        return rows

    def slot_view(self, slot: AvailableSlot, service: ServiceInfo) -> dict[str, Any]:
        """A free time as a button: "Tuesday 24 November, 10:30, with Anna Berg".

        Whom is named when the customer could have chosen, or when it is a person.
        """
        start = slot.start.astimezone(self.zone)
        named = self.has_choice(service) or bool(
            slot.resources and slot.resources[0].kind == "person"
        )
        who = self.who(slot.resources) if named else None
        business = self.business_time(slot.start)
        seats = (
            self.fmt.ngettext("%(num)s place left", "%(num)s places left", slot.seats_left)
            if service.seats > 1
            else None
        )
        label = ", ".join(
            p for p in (self.fmt.day(start), self.fmt.time(start), who, business, seats) if p
        )
        return {
            "value": start.isoformat(),
            "time": self.fmt.time(start),
            # Shown on the button unless the customer picked that person; always in the label.
            "who": who if self.state.resource_key is None else None,
            "business_time": business,
            "seats": seats,
            "label": label,
        }

    @staticmethod
    def has_choice(service: ServiceInfo) -> bool:
        groups = service.rules.resource_groups
        return bool(groups) and len(groups[0]) > 1

    # -- steps

    async def services_view(
        self, message: str | None = None, services: Sequence[ServiceInfo] | None = None
    ) -> View:
        if services is None:
            _, services = await availability_service.list_services(self.site.slug)
        items = []
        group_lookups = 0
        for service in services:
            meta = [self.fmt.duration(service.duration_minutes)]
            price = self.fmt.price(service.price_minor, service.currency)
            if price:
                meta.append(price)
            next_session = None
            if service.seats > 1:
                meta.append(self._("group of up to %(num)s", num=service.seats))
                # One look-up per group service, for the first few only: cheap to show.
                if group_lookups < 3:
                    group_lookups += 1
                    next_session = await self._next_session(service)
            items.append(
                {
                    "name": service.name,
                    "description": service.description,
                    "meta": " · ".join(meta),
                    "next": next_session,
                    "url": self.state.view_only().url(service=service.slug),
                }
            )
        return View(
            "widget/_services.html",
            {
                "services": items,
                "message": message,
                "announce": self._("Choose a service"),
            },
        )

    async def _next_session(self, service: ServiceInfo) -> str | None:
        today = self.now.astimezone(self.zone).date()
        try:
            result = await availability_service.get_availability(
                self.site.slug,
                AvailabilityQuery(
                    service=service.slug,
                    start=today,
                    end=today + timedelta(days=GROUP_LOOKAHEAD_DAYS),
                    zone=self.zone,
                ),
                now=self.now,
            )
        except (NotFound, InvalidInput):
            return None
        if not result.slots:
            return None
        slot = result.slots[0]
        return self._(
            "Next: %(when)s, %(left)s",
            when=f"{self.fmt.day(slot.start)}, {self.fmt.time(slot.start)}",
            left=self.fmt.ngettext("%(num)s place left", "%(num)s places left", slot.seats_left),
        )

    def resources_view(self, offer: availability_service.Offer, message: str | None = None) -> View:
        service = offer.service
        options = [
            {
                "name": self._("Anyone available"),
                "url": self._here(resource="any", month=None, day=None),
            }
        ]
        for key in service.rules.resource_groups[0]:
            resource = offer.resources.get(key)
            if resource is not None:
                options.append(
                    {"name": resource.name, "url": self._here(resource=key, month=None, day=None)}
                )
        return View(
            "widget/_resources.html",
            {
                "resources": options,
                "message": message,
                "rows": self.service_rows(service),
                "back_url": self.state.view_only().url(),
                "announce": self._("Choose who you would like to see"),
            },
        )

    def _who_chosen(self, offer: availability_service.Offer) -> str | None:
        """The chosen resource's name, "Anyone available", or None when there is no choice."""
        key = self.state.resource_key
        if key and key in offer.resources:
            return offer.resources[key].name
        if self.has_choice(offer.service):
            return self._("Anyone available")
        return None

    async def calendar_view(
        self, offer: availability_service.Offer, message: str | None = None
    ) -> View:
        service = offer.service
        today = self.now.astimezone(self.zone).date()
        last_bookable = (self.now + service.rules.max_advance).astimezone(self.zone).date()
        first_month, last_month = today.replace(day=1), last_bookable.replace(day=1)
        month = self.state.month or today.replace(day=1)
        month = min(max(month, first_month), max(last_month, first_month))
        days_in_month = calendar_module.monthrange(month.year, month.month)[1]
        month_end = month.replace(day=days_in_month)
        selected = (
            self.state.day if self.state.day and self.state.day.replace(day=1) == month else None
        )

        # One availability read for the whole visible month; the day's times are a subset.
        start, end = max(month, today), min(month_end, last_bookable)
        slots: list[AvailableSlot] = []
        if start <= end:
            result = await availability_service.get_availability(
                self.site.slug,
                AvailabilityQuery(
                    service=service.slug,
                    start=start,
                    end=end,
                    zone=self.zone,
                    resource=self.state.resource_key,
                ),
                now=self.now,
            )
            slots = result.slots
        counts = Counter(slot.start.date() for slot in slots)

        free_days = sorted(counts)
        # No day chosen yet: the first one with free times is shown straight
        # away (its times are in the month's answer already), so the customer
        # sees times without another round trip.
        selected = selected or (free_days[0] if free_days else None)
        focus = selected or (today if month <= today <= month_end else month)
        weeks = []
        for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(
            month.year, month.month
        ):
            cells = []
            for d in week:
                if d.month != month.month:
                    cells.append(None)
                    continue
                n = counts.get(d, 0)
                free = (
                    self.fmt.ngettext("%(num)s free time", "%(num)s free times", n)
                    if n
                    else self._("no free times")
                )
                cells.append(
                    {
                        "iso": d.isoformat(),
                        "number": d.day,
                        "free": n > 0,
                        "selected": d == selected,
                        "today": d == today,
                        "focus": d == focus,
                        "label": f"{self.fmt.full_day(d)}, {free}",
                    }
                )
            weeks.append(cells)
        prev_month = (month - timedelta(days=1)).replace(day=1)
        next_month = month_end + timedelta(days=1)
        wide, short = self.fmt.weekday_names("wide"), self.fmt.weekday_names("abbreviated")
        calendar = {
            "title": self.fmt.month(month),
            "prev_url": self._here(month=prev_month, day=None) if month > first_month else None,
            "prev_label": self.fmt.month(prev_month),
            "next_url": self._here(month=next_month, day=None) if month < last_month else None,
            "next_label": self.fmt.month(next_month),
            "action": self.base,
            "hidden": self.state.params(month=month, day=None),
            "weekdays": [{"wide": w, "short": s} for w, s in zip(wide, short, strict=True)],
            "weeks": weeks,
            "any_free": bool(free_days),
            "empty_text": self._(
                "There are no free times in %(month)s.", month=self.fmt.month(month)
            ),
        }
        if self.has_choice(service):
            back_url, back_text = (
                self._here(resource=None, month=None, day=None),
                self._("Choose someone else"),
            )
        else:
            back_url, back_text = (
                self.state.view_only().url(),
                self._("Back to services"),
            )
        day_slots = [s for s in slots if s.start.date() == selected] if selected else []
        return View(
            "widget/_calendar.html",
            {
                "calendar": calendar,
                "message": message,
                "zone": self.zone_note(),
                "rows": self.service_rows(service, who=self._who_chosen(offer)),
                "back_url": back_url,
                "back_text": back_text,
                "day": self.day_view(selected, day_slots, service) if selected else None,
                "announce": self._("Choose a day. Showing %(month)s.", month=self.fmt.month(month)),
            },
        )

    def day_view(
        self, day: date, slots: Sequence[AvailableSlot], service: ServiceInfo
    ) -> dict[str, Any]:
        label = self.fmt.day(day)
        return {
            "iso": day.isoformat(),
            "label": label,
            "slots": [self.slot_view(s, service) for s in slots],
            "announce": (
                self._("Showing free times for %(day)s", day=label)
                if slots
                else self._("No free times on %(day)s", day=label)
            ),
        }

    def details_view(
        self,
        offer: availability_service.Offer,
        start: datetime,
        *,
        hold: str | None,
        until: datetime | None,
        resources: Sequence[ResourceInfo] = (),
        values: Mapping[str, str] | None = None,
        problems: Sequence[FieldProblem] = (),
        form_token: str | None = None,
        status: int = 200,
        notice: str | None = None,
    ) -> View:
        service = offer.service
        values = values or {}
        errors_by_field = {}
        for problem in problems:
            errors_by_field.setdefault(
                problem.field, translate_problem(problem.message, self.state.locale)
            )
        contact = [
            FieldView(
                "customer.name",
                "f-customer-name",
                self._("Name"),
                "text",
                True,
                autocomplete="name",
                maxlength=100,
            ),
            FieldView(
                "customer.email",
                "f-customer-email",
                self._("Email"),
                "email",
                True,
                autocomplete="email",
                maxlength=254,
            ),
        ]
        if service.phone != "hidden":
            contact.append(
                FieldView(
                    "customer.phone",
                    "f-customer-phone",
                    self._("Phone"),
                    "tel",
                    service.phone == "required",
                    autocomplete="tel",
                    maxlength=40,
                )
            )
        questions = []
        for q in service.questions:
            kind = q.get("type", "text")
            questions.append(
                FieldView(
                    f"answers.{q['key']}",
                    "f-answers-" + _FIELD_ID.sub("-", str(q["key"])),
                    q.get("label") or q["key"],
                    kind
                    if kind in ("text", "textarea", "select", "checkbox", "number")
                    else "text",
                    bool(q.get("required")),
                    options=tuple(q.get("options") or ()),
                    maxlength=q.get("max_length"),
                    min=q.get("min"),
                    max=q.get("max"),
                )
            )
        for f in (*contact, *questions):
            f.value = values.get(f.name, "")
            f.checked = f.kind == "checkbox" and f.value not in ("", None)
            f.error = errors_by_field.pop(f.name, None)
        errors = [
            {"id": f.id, "label": f.label, "message": f.error}
            for f in (*contact, *questions)
            if f.error
        ]
        # Problems without a field of their own (start, locale, …) are listed without a link.
        errors += [
            {"id": None, "label": "", "message": message} for message in errors_by_field.values()
        ]
        if notice:
            errors.insert(0, {"id": None, "label": "", "message": notice})

        hold_view = hold_note = None
        seconds = int((until - self.now).total_seconds()) if hold and until is not None else 0
        if hold and until is not None and seconds <= 0:
            hold_note = self._(
                "Your reservation has expired, but you can still book this time "
                "if nobody else has taken it."
            )
        elif hold and until is not None:
            hold_view = {
                "until_iso": until.astimezone(UTC).isoformat(),
                "until_label": self.fmt.time(until.astimezone(self.zone)),
                "seconds": seconds,
                "left_label": f"{seconds // 60}:{seconds % 60:02d}",
            }
        token = form_token or new_form_token(self.settings, self.site.slug)
        extra = {
            "start": start.isoformat(),
            "hold": hold,
            "until": instant(until) if until else None,
        }
        hidden = [("form", token), *self.state.params(month=None, day=None, held=None, **extra)]
        who = ", ".join(r.name for r in resources) if resources else self._who_chosen(offer)
        when = self.when(start)
        if errors:
            announce = self.fmt.ngettext(
                "Please check %(num)s field.", "Please check %(num)s fields.", len(errors)
            )
        elif hold_view:
            announce = self._(
                "Enter your details. %(when)s is reserved for you for %(minutes)s minutes.",
                when=when,
                minutes=max(1, round(hold_view["seconds"] / 60)),
            )
        else:
            announce = self._("Enter your details.")
        day = start.astimezone(self.zone).date()
        return View(
            "widget/_details.html",
            {
                "rows": self.service_rows(service, who=who, start=start),
                "hold": hold_view,
                "hold_note": hold_note,
                "errors": errors,
                "contact_fields": contact,
                "question_fields": questions,
                "form_hidden": hidden,
                "confirm_action": f"{self.base}/confirm",
                "expired_action": f"{self.base}/expired",
                "back_url": self._here(
                    day=day,
                    month=None,
                    held=held_param(hold, start, until, resources)
                    if hold and until and seconds > 0
                    else None,
                ),
                "announce": announce,
            },
            status=status,
        )

    def taken_view(
        self,
        service: ServiceInfo,
        start: datetime,
        alternatives: Sequence[AvailableSlot],
        carried: Sequence[tuple[str, str]],
    ) -> View:
        slots = []
        for slot in alternatives:
            view = self.slot_view(slot, service)
            # Alternatives may fall on other days: the day belongs in the visible label too.
            view["time"] = f"{self.fmt.day(slot.start.astimezone(self.zone))}, {view['time']}"
            slots.append(view)
        return View(
            "widget/_taken.html",
            {
                "when": self.when(start),
                "alternatives": slots,
                "carried": list(carried),
                "zone": self.zone_note(),
                "calendar_url": self._here(day=start.astimezone(self.zone).date(), month=None),
                "announce": self._(
                    "This time is no longer available. Showing the next free times."
                ),
            },
            status=409,
        )

    async def expired_view(
        self, service: ServiceInfo, start: datetime, carried: Sequence[tuple[str, str]]
    ) -> View:
        day = start.astimezone(self.zone).date()
        result = await availability_service.get_availability(
            self.site.slug,
            AvailabilityQuery(
                service=service.slug,
                start=day,
                end=day,
                zone=self.zone,
                resource=self.state.resource_key,
            ),
            now=self.now,
        )
        return View(
            "widget/_expired.html",
            {
                "when": self.when(start),
                "day": self.day_view(day, result.slots, service),
                "carried": list(carried),
                "zone": self.zone_note(),
                "calendar_url": self._here(day=day, month=None),
                "announce": self._("Your reservation has expired. Showing the free times again."),
            },
        )

    def confirmation_view(
        self,
        summary: BookedSummary,
        *,
        customer: dict[str, str] | None = None,
        answers: Sequence[tuple[str, str]] = (),
    ) -> View:
        service_rows = [
            (self._("Service"), summary.service_name),
            # Always in the customer's own zone: what goes into their calendar.
            (self._("When"), self.when(summary.start, self.customer_zone)),
        ]
        if summary.resources:
            service_rows.append((self._("With"), ", ".join(r[1] for r in summary.resources)))
        price = self.fmt.price(summary.price_minor, summary.currency)
        if price:
            service_rows.append((self._("Price"), price))
        if customer:
            service_rows.append((self._("Name"), customer["name"]))
            service_rows.append((self._("Email"), customer["email"]))
            if customer.get("phone"):
                service_rows.append((self._("Phone"), customer["phone"]))
        service_rows += list(answers)
        base = self.settings.base_url
        return View(
            "widget/_confirmation.html",
            {
                "rows": service_rows,
                "customer": customer,
                "manage_url": f"{base}/manage/{summary.manage_token}",
                "ics_url": f"{base}/api/v1/manage/{summary.manage_token}/booking.ics",
                "again_url": self.state.view_only().url(),
                "announce": self._("Your booking is confirmed."),
            },
        )


# --- tokens ----------------------------------------------------------------------


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def new_form_token(settings: Settings, site_slug: str) -> str:
    return _serializer(settings, FORM_SALT).dumps({"n": secrets.token_urlsafe(18), "s": site_slug})


def read_form_token(settings: Settings, token: str | None, site_slug: str) -> str | None:
    """The nonce of a valid, fresh form token for this site; None otherwise."""
    if not token:
        return None
    try:
        data = _serializer(settings, FORM_SALT).loads(token, max_age=FORM_MAX_AGE)
    except BadSignature:  # also covers SignatureExpired
        return None
    if (
        not isinstance(data, dict)
        or data.get("s") != site_slug
        or not isinstance(data.get("n"), str)
    ):
        return None
    return data["n"]


@dataclass(frozen=True, slots=True)
class BookedSummary:
    """What the confirmation shows, minus the customer's details (kept out of URLs)."""

    uid: str
    service: str
    service_name: str
    start: datetime
    end: datetime
    resources: tuple[tuple[str, str, str], ...]
    manage_token: str
    price_minor: int | None
    currency: str | None

    @classmethod
    def of(cls, record: BookingRecord, manage_token: str) -> BookedSummary:
        return cls(
            uid=record.uid,
            service=record.service_slug,
            service_name=record.service_name,
            start=record.start,
            end=record.end,
            resources=tuple(record.resources),
            manage_token=manage_token,
            price_minor=record.price_minor,
            currency=record.currency,
        )

    def sign(self, settings: Settings) -> str:
        return _serializer(settings, BOOKED_SALT).dumps(
            {
                "u": self.uid,
                "s": self.service,
                "n": self.service_name,
                "a": self.start.isoformat(),
                "b": self.end.isoformat(),
                "r": [list(r) for r in self.resources],
                "m": self.manage_token,
                "p": self.price_minor,
                "c": self.currency,
            }
        )

    @classmethod
    def read(cls, settings: Settings, token: str | None) -> BookedSummary | None:
        if not token:
            return None
        try:
            d = _serializer(settings, BOOKED_SALT).loads(token, max_age=BOOKED_MAX_AGE)
            return cls(
                uid=d["u"],
                service=d["s"],
                service_name=d["n"],
                start=datetime.fromisoformat(d["a"]),
                end=datetime.fromisoformat(d["b"]),
                resources=tuple(tuple(r) for r in d["r"]),
                manage_token=d["m"],
                price_minor=d["p"],
                currency=d["c"],
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None


# --- request helpers -------------------------------------------------------------


def is_htmx(request: Request) -> bool:
    """An htmx swap wants the partial; a history restore (Back after a miss) wants the page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def parse_start(raw: str | None) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def carried_values(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """What the customer typed, to send along through a taken or expired hold."""
    pairs = []
    for key, value in form.items():
        if key.startswith(CARRIED_PREFIXES) and isinstance(value, str) and value:
            pairs.append((key[:100], value[:MAX_CARRIED_LENGTH]))
    return pairs[:MAX_CARRIED]


def _trigger(event: str, detail: Mapping[str, Any]) -> dict[str, str]:
    """An ``HX-Trigger`` header: htmx fires ``slotwise:<event>`` and booking.js relays it to the host page."""
    return {"HX-Trigger": json.dumps({f"slotwise:{event}": detail}, separators=(",", ":"))}


def _resources_out(
    resources: Iterable[ResourceInfo] | Iterable[tuple[str, str, str]],
) -> list[dict[str, str]]:
    out = []
    for r in resources:
        key, name, kind = (r.key, r.name, r.kind) if isinstance(r, ResourceInfo) else r
        out.append({"key": key, "name": name, "kind": kind})
    return out


def _held_resources(
    offer: availability_service.Offer, keys: str | None
) -> tuple[ResourceInfo, ...]:
    """The resources a hold took, from the ``with`` parameter ("anna,room-1")."""
    return tuple(offer.resources[k] for k in (keys or "").split(",") if k in offer.resources)


def _form_dict(form: Any) -> dict[str, str]:
    """The first value of each field, as text."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- the controller --------------------------------------------------------------


class BookingPages(Controller):
    path = "/book/{site:str}"
    include_in_schema = False

    async def _site(self, slug: str) -> SiteInfo | None:
        try:
            return await availability_service.get_site(slug)
        except NotFound:
            return None

    def _render(
        self,
        request: Request,
        page: Page | None,
        view: View,
        settings: Settings,
        headers: Mapping[str, str] | None = None,
    ) -> Template:
        context = {
            **(page.common() if page else _bare_context(request)),
            **view.context,
            "step_template": view.template,
        }
        partial = is_htmx(request)
        all_headers = {
            "Content-Security-Policy": page_csp(
                frame_ancestors(page.site if page else None, settings)
            ),
            "Cache-Control": "no-store",
            "Vary": "HX-Request, HX-Target, HX-History-Restore-Request, Accept-Language",
            **view.headers,
            **(headers or {}),
        }
        if request.method == "POST" and not {"HX-Push-Url", "HX-Replace-Url"} & all_headers.keys():
            # htmx would otherwise put the POST's own URL into the history,
            # and a reload of it is a GET that has no page.
            all_headers["HX-Push-Url"] = "false"
        return Template(
            template_name=view.template if partial else "widget/page.html",
            context=context,
            status_code=view.status,
            headers=all_headers,
            media_type="text/html",
        )

    def _not_found(self, request: Request, settings: Settings) -> Template:
        return self._render(request, None, View("widget/_notfound.html", {}, status=404), settings)

    @get("/", name="booking-page")
    async def page(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template:
        query = {k: v for k, v in request.query_params.items()}
        accept_language = request.headers.get("accept-language")
        now = clock()
        if is_htmx(request) and request.headers.get("hx-target") == "sw-slots":
            fragment = await self._day_fragment(request, site, query, now, settings)
            if fragment is not None:
                return fragment

        # The site comes with what the step reads anyway: the service list, or
        # the service's offer (reused for a moment across requests, as for slots).
        offer = services = None
        message = None
        try:
            if query.get("service") and "booked" not in query:
                resource = query.get("resource")
                resource = None if resource in (None, "", "any") else resource
                try:
                    # Keyed as the calendar's availability read will ask: one load, not two.
                    offer = await availability_service.cached_offer(
                        site, query["service"], resource=resource
                    )
                except InvalidInput:  # a resource that does not give the service: asked again below
                    offer = await availability_service.cached_offer(site, query["service"])
                except NotFound as exc:
                    if exc.what == "site":
                        raise
                    message = "unbookable"
            if offer is None:
                site_info, services = await availability_service.list_services(site)
            else:
                site_info = offer.site
        except NotFound:
            return self._not_found(request, settings)
        state = read_state(site_info, query, accept_language=accept_language, settings=settings)
        page = Page(site_info, state, settings, now)

        booked = BookedSummary.read(settings, query.get("booked"))
        if booked is not None:
            return self._render(request, page, page.confirmation_view(booked), settings)
        if offer is None:
            if message:
                message = page._("This service cannot be booked online. Please choose another one.")
            return self._render(
                request, page, await page.services_view(message, services), settings
            )

        chooses = Page.has_choice(offer.service)
        key = state.resource_key
        if key is not None and key not in offer.service.rules.resource_groups[0]:
            page = Page(site_info, replace(state, resource=None), settings, now)
            if chooses:
                return self._render(
                    request,
                    page,
                    page.resources_view(offer, page._("Please choose again.")),
                    settings,
                )
        elif chooses and state.resource is None and state.month is None and "start" not in query:
            return self._render(request, page, page.resources_view(offer), settings)

        start = parse_start(query.get("start"))
        if start is not None:
            until = parse_start(query.get("until"))
            hold = query.get("hold") or None
            if hold and until is not None and until <= now:
                return self._render(
                    request, page, await page.expired_view(offer.service, start, []), settings
                )
            return self._render(
                request,
                page,
                page.details_view(
                    offer,
                    start,
                    hold=hold,
                    until=until,
                    resources=_held_resources(offer, query.get("with")),
                ),
                settings,
            )

        return self._render(request, page, await page.calendar_view(offer), settings)

    async def _day_fragment(
        self,
        request: Request,
        site: str,
        query: Mapping[str, str],
        now: datetime,
        settings: Settings,
    ) -> Template | None:
        """Only the day's free times, behind a click on a day: the hot path, one availability read.

        The site comes with the availability answer (no read of its own); the
        zone is the one the full page would use. None when anything is off:
        the caller then renders the whole step, which explains what is wrong.
        """
        day, service = _day(query.get("date")), query.get("service")
        if day is None or not service:
            return None
        zone = None if query.get("times") == "site" else parse_zone(query.get("tz") or "")
        resource = query.get("resource")
        try:
            result = await availability_service.get_availability(
                site,
                AvailabilityQuery(
                    service=service,
                    start=day,
                    end=day,
                    zone=zone,
                    resource=None if resource in (None, "", "any") else resource,
                ),
                now=now,
            )
        except (NotFound, InvalidInput):
            return None
        state = read_state(
            result.site,
            query,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(result.site, state, settings, now)
        view = View("widget/_slots.html", {"day": page.day_view(day, result.slots, result.service)})
        return self._render(request, page, view, settings)

    @post("/hold", name="booking-hold")
    async def hold(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        form = _form_dict(await request.form())
        site_info = await self._site(site)
        if site_info is None:
            return self._not_found(request, settings)
        now = clock()
        state = read_state(
            site_info,
            form,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(site_info, state, settings, now)
        carried = carried_values(form)
        start = parse_start(form.get("start"))
        unbookable = page._("This service cannot be booked online. Please choose another one.")
        if not state.service:
            return self._render(request, page, await page.services_view(), settings)
        try:
            offer = await availability_service.load_offer(site, state.service)
        except NotFound:
            return self._render(request, page, await page.services_view(unbookable), settings)
        if start is None:
            return self._render(
                request,
                page,
                await page.calendar_view(offer, page._("Please choose a time.")),
                settings,
            )
        own = held_hold(state, start, now)
        try:
            if own is not None:
                # The customer went back and picked the time they already hold.
                result = booking_service.HoldResult(
                    token=own[0],
                    expires_at=own[1],
                    slot=AvailableSlot(
                        start=start,
                        end=start + offer.service.rules.duration,
                        resources=_held_resources(offer, own[2]),
                        seats_left=0,
                    ),
                )
            else:
                result = await booking_service.take_hold(
                    site, state.service, start, resource=state.resource_key, now=now
                )
        except booking_service.SlotUnavailable as exc:
            view = page.taken_view(offer.service, start, exc.alternatives, carried)
            return self._render(
                request,
                page,
                view,
                settings,
                headers={
                    "HX-Push-Url": "false",
                    **_trigger(
                        "error",
                        {
                            "code": "slot-unavailable",
                            "message": page._("This time is no longer available."),
                        },
                    ),
                },
            )
        except InvalidInput:
            page = Page(site_info, replace(state, resource=None), settings, now)
            return self._render(
                request, page, page.resources_view(offer, page._("Please choose again.")), settings
            )
        except NotFound:  # the service was switched off a moment ago
            return self._render(request, page, await page.services_view(unbookable), settings)

        slot = result.slot
        details_url = state.url(
            month=None,
            day=None,
            held=None,
            start=slot.start.astimezone(page.zone).isoformat(),
            hold=result.token,
            until=instant(result.expires_at),
            **{"with": ",".join(r.key for r in slot.resources)},
        )
        if not is_htmx(request) and not carried:
            # Post/Redirect/Get: a reload must not take a second hold on the same time.
            return Redirect(details_url, status_code=303, headers={"Cache-Control": "no-store"})
        view = page.details_view(
            offer,
            slot.start,
            hold=result.token,
            until=result.expires_at,
            resources=slot.resources,
            values=dict(carried),
        )
        return self._render(
            request,
            page,
            view,
            settings,
            headers={
                "HX-Push-Url": details_url,
                **_trigger(
                    "slot-selected",
                    {
                        "service": offer.service.slug,
                        "start": slot.start.astimezone(page.customer_zone).isoformat(),
                        "end": slot.end.astimezone(page.customer_zone).isoformat(),
                        "resources": _resources_out(slot.resources),
                    },
                ),
            },
        )

    @post("/confirm", name="booking-confirm")
    async def confirm(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template:
        form = _form_dict(await request.form())
        site_info = await self._site(site)
        if site_info is None:
            return self._not_found(request, settings)
        now = clock()
        state = read_state(
            site_info,
            form,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(site_info, state, settings, now)
        no_push = {"HX-Push-Url": "false"}
        start = parse_start(form.get("start"))
        if not state.service or start is None:
            return self._render(
                request,
                page,
                await page.services_view(
                    page._("Something went wrong. Please choose your appointment again.")
                ),
                settings,
                no_push,
            )
        unbookable = page._("This service cannot be booked online. Please choose another one.")
        try:
            offer = await availability_service.load_offer(site, state.service)
        except NotFound:
            return self._render(request, page, await page.services_view(unbookable), settings)

        hold = form.get("hold") or None
        until = parse_start(form.get("until"))
        typed = {k: v for k, v in form.items() if k.startswith(CARRIED_PREFIXES)}

        def form_again(
            problems: Sequence[FieldProblem] = (),
            notice: str | None = None,
            token: str | None = None,
        ) -> Template:
            view = page.details_view(
                offer,
                start,
                hold=hold,
                until=until,
                values=typed,
                problems=problems,
                form_token=token,
                status=422,
                notice=notice,
            )
            return self._render(request, page, view, settings, no_push)

        token = form.get("form")
        nonce = read_form_token(settings, token, site)
        if nonce is None:
            return form_again(
                notice=page._("This form has expired. Please check your details and send it again.")
            )

        answers: dict[str, Any] = {}
        for q in offer.service.questions:
            value = form.get(f"answers.{q['key']}")
            if value not in (None, ""):
                answers[q["key"]] = value
        request_data = booking_service.BookingRequest(
            service=offer.service.slug,
            start=start,
            customer={
                "name": form.get("customer.name", ""),
                "email": form.get("customer.email", ""),
                "phone": form.get("customer.phone", ""),
            },
            answers=answers,
            resource=state.resource_key,
            hold=hold,
            locale=state.locale,
            timezone=state.tz,
        )

        async def book() -> booking_service.BookingResult:
            return await booking_service.confirm_booking(
                site,
                request_data,
                now=now,
                secret_key=settings.secret_key,
                idempotency_key=nonce,
                idempotency_scope=IDEMPOTENCY_SCOPE,
            )

        try:
            try:
                result = await book()
            except booking_service.SlotUnavailable:
                # A double click can race its twin: the twin booked the slot and
                # recorded the token just now, so a second try replays its booking.
                result = await book()
        except InvalidInput as exc:
            return form_again(exc.problems, token=token)
        except NotFound:  # the service was switched off a moment ago
            return self._render(request, page, await page.services_view(unbookable), settings)
        except booking_service.IdempotencyConflict:
            return form_again(
                notice=page._(
                    "This form was already used for a booking. "
                    "Please start again to make another one."
                )
            )
        except booking_service.SlotUnavailable as exc:
            view = page.taken_view(offer.service, start, exc.alternatives, carried_values(form))
            return self._render(
                request,
                page,
                view,
                settings,
                headers={
                    **no_push,
                    **_trigger(
                        "error",
                        {
                            "code": "slot-unavailable",
                            "message": page._("This time is no longer available."),
                        },
                    ),
                },
            )

        record = result.booking
        summary = BookedSummary.of(record, result.manage_token)
        answer_rows = []
        for q in offer.service.questions:
            if q["key"] in record.answers:
                value = record.answers[q["key"]]
                if isinstance(value, bool):
                    value = page._("Yes") if value else page._("No")
                answer_rows.append((q.get("label") or q["key"], str(value)))
        view = page.confirmation_view(
            summary,
            customer={
                "name": record.customer_name,
                "email": record.customer_email,
                "phone": record.customer_phone or "",
            },
            answers=answer_rows,
        )
        return self._render(
            request,
            page,
            view,
            settings,
            headers={
                # Replace, not push: Back should not return to a form already sent.
                "HX-Replace-Url": state.url(
                    service=record.service_slug, month=None, day=None, booked=summary.sign(settings)
                ),
                **_trigger(
                    "booked",
                    {
                        "id": record.uid,
                        "service": record.service_slug,
                        "start": record.start.astimezone(page.customer_zone).isoformat(),
                        "end": record.end.astimezone(page.customer_zone).isoformat(),
                    },
                ),
            },
        )

    @post("/expired", name="booking-expired")
    async def expired(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The countdown ran out: fresh times of the same day, with what was typed carried along."""
        form = _form_dict(await request.form())
        site_info = await self._site(site)
        if site_info is None:
            return self._not_found(request, settings)
        now = clock()
        state = read_state(
            site_info,
            form,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(site_info, state, settings, now)
        start = parse_start(form.get("start"))
        try:
            offer = await availability_service.load_offer(site, state.service or "")
        except NotFound:
            return self._render(
                request, page, await page.services_view(), settings, {"HX-Push-Url": "false"}
            )
        if start is None:
            return self._render(
                request, page, await page.calendar_view(offer), settings, {"HX-Push-Url": "false"}
            )
        view = await page.expired_view(offer.service, start, carried_values(form))
        return self._render(
            request,
            page,
            view,
            settings,
            headers={
                "HX-Push-Url": "false",
                **_trigger(
                    "error",
                    {"code": "hold-expired", "message": page._("Your reservation has expired.")},
                ),
            },
        )

    @get("/app.js", name="booking-script", sync_to_thread=False)
    def script(self) -> Response[str]:
        """htmx followed by booking.js; immutable, its URL carries both files' hashes."""
        return Response(
            script_bundle(), media_type="text/javascript", headers={"Cache-Control": IMMUTABLE}
        )

    @get("/theme.css", name="booking-theme", sync_to_thread=False)
    def theme(self, request: Request) -> Response[str]:
        """The page's stylesheet in the accent colour (no inline styles under our CSP)."""
        accent = parse_accent(request.query_params.get("accent")) or DEFAULT_ACCENT
        return Response(
            theme_css(accent), media_type="text/css", headers={"Cache-Control": IMMUTABLE}
        )


def _bare_context(request: Request) -> dict[str, Any]:
    """Context of a page without a site (unknown slug): English or the browser's language."""
    locale = negotiate(
        request.query_params.get("locale"), request.headers.get("accept-language"), None
    )
    return {
        "lang": locale,
        "site": None,
        "state": None,
        "host": None,
        "theme_url": theme_url(request.path_params.get("site", "x"), DEFAULT_ACCENT),
        "script_url": script_url(request.path_params.get("site", "x")),
        "htmx_config": HTMX_CONFIG,
        **template_gettext(locale),
    }
