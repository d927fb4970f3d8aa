"""Reading a site file: TOML in, a :class:`~slotwise.sitefile.schema.SiteSpec` out,
or a :class:`~slotwise.sitefile.errors.SiteFileError` listing every problem.

Pass 1 checks each table with a strict pydantic model whose fields use the
value parsers below; pass 2 checks across tables. See the package docstring.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Annotated, Any, NoReturn, TypeVar, get_args

from babel.numbers import get_currency_precision, is_currency
from email_validator import EmailNotValidError, validate_email
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from slotwise.domain.limits import (
    DEFAULT_HOLD_MINUTES,
    DEFAULT_MAX_ADVANCE_MINUTES,
    DEFAULT_MAX_RESCHEDULES,
    DEFAULT_REMINDERS,
    GRID_MINUTES,
    HOLD_MINUTES_RANGE,
    MAX_ANY_MINUTES,
    MAX_REMINDERS,
    MAX_RESCHEDULES_LIMIT,
    MAX_SEATS,
    MAX_SERVICE_MINUTES,
    NAME_MAX_LENGTH,
)
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Question, QuestionType, ResourceKind, TimeRange
from slotwise.domain.origins import OriginError, normalize_origin
from slotwise.sitefile.errors import Problem, SiteFileError
from slotwise.sitefile.schema import (
    NO_HOURS,
    PHONE_MODES,
    QUESTION_TYPES,
    WEEKDAYS,
    Locale,
    PhoneMode,
    ReadOnlyWeeklyHours,
    ResourceSpec,
    ServiceSpec,
    SiteSpec,
)

# --------------------------------------------------------------------------
# Limits of the file's own text (the domain's limits are in domain.limits)
# --------------------------------------------------------------------------

# Slugs and keys end up in URLs (/book/{site}), HTML data attributes and
# answer names. The DNS label rule (RFC 1035: letters, digits, inner hyphens,
# at most 63 characters) is safe in all of them.
SLUG_MAX_LENGTH = 63

# Names (domain.limits) show in the widget header, email subjects and SMS;
# descriptions in the widget. Limits keep a runaway paste out of every message.
DESCRIPTION_MAX_LENGTH = 5000

# Answers are stored with each booking and echoed in emails.
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000}
MAX_LENGTH_LIMIT = 10_000

# A closed range expands into single dates; two years covers any holiday or
# leave and catches a mistyped year ("2026-08-01..2062-08-14").
MAX_DATE_RANGE_DAYS = 2 * 366

# E.164 numbers have at most 15 digits; a short local number has 5 or more.
PHONE_DIGITS_RANGE = (5, 15)


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def load_site_file(path: str | os.PathLike[str]) -> SiteSpec:
    """Read a UTF-8 TOML site file and parse it; the path is the error source."""
    source = os.fspath(path)
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except UnicodeDecodeError as error:
        raise SiteFileError(
            source, [Problem("", f"is not UTF-8 text (bad byte at offset {error.start})")]
        ) from None
    except OSError as error:
        raise SiteFileError(
            source, [Problem("", f"cannot read the file: {error.strerror or error}")]
        ) from None
    return parse_site(text, source=source)


def parse_site(text: str, *, source: str) -> SiteSpec:
    """Parse and validate a site file's text. Raises :class:`SiteFileError`.

    ``source`` names the text in messages (usually the file name).
    """
    return parse_site_data(_read_toml(text, source), source=source)


def parse_site_data(data: Any, *, source: str) -> SiteSpec:
    """Validate a site file already read into a table (TOML, or the same shape as JSON)."""
    if not isinstance(data, dict):
        raise SiteFileError(source, [Problem("", "must be a table with [site], resources and services")])
    report = _Report(data)

    report.validate(_RawFile, data, ())
    site_data = data.get("site")
    resource_items = _tables_in(data.get("resources"))
    service_items = _tables_in(data.get("services"))

    raw_site = (
        report.validate(_RawSite, site_data, ("site",)) if isinstance(site_data, dict) else None
    )
    raw_resources = [
        report.validate(_RawResource, item, ("resources", index)) for index, item in resource_items
    ]
    raw_services = [
        report.validate(_RawService, item, ("services", index)) for index, item in service_items
    ]

    _check_unique(report, resource_items, ("resources",), "key", "resource key")
    _check_unique(report, service_items, ("services",), "slug", "service slug")
    known_resources = {
        item["key"] for _, item in resource_items if isinstance(item.get("key"), str)
    }
    groups_by_service: dict[int, tuple[tuple[str, ...], ...]] = {}
    for index, item in service_items:
        loc = ("services", index)
        _check_unique(
            report, _tables_in(item.get("questions")), (*loc, "questions"), "key", "question key"
        )
        if isinstance(item.get("resources"), list):
            groups_by_service[index] = _resource_groups(
                report, item["resources"], (*loc, "resources"), known_resources
            )

    email_templates, sms_templates = _templates(report, data.get("templates"))

    if report.problems or raw_site is None:
        raise SiteFileError(source, report.problems)
    return SiteSpec(
        slug=raw_site.slug,
        name=raw_site.name,
        timezone=raw_site.timezone,
        locale=raw_site.locale,
        allowed_origins=tuple(raw_site.allowed_origins),
        accent=raw_site.accent,
        contact_email=raw_site.contact_email,
        contact_phone=raw_site.contact_phone,
        address=raw_site.address,
        hours=_weekly(raw_site.hours) or NO_HOURS,
        closed=_expand(raw_site.closed),
        hold_minutes=raw_site.hold_minutes,
        max_reschedules=raw_site.max_reschedules,
        sms_enabled=raw_site.sms_enabled,
        notify_email=raw_site.notify_email,
        resources=tuple(_resource_spec(raw) for raw in raw_resources if raw),
        services=tuple(
            _service_spec(raw, groups_by_service[index])
            for (index, _), raw in zip(service_items, raw_services, strict=True)
            if raw
        ),
        email_templates=MappingProxyType(email_templates),
        sms_templates=MappingProxyType(sms_templates),
    )


def parse_resource(table: Any, *, source: str = "request") -> ResourceSpec:
    """One ``[[resources]]`` table on its own (e.g. an API body) -> :class:`ResourceSpec`.

    The same model, value parsers and messages as in a file; problem paths
    start inside the table (``hours.mon[0]``). Raises :class:`SiteFileError`.
    """
    report = _Report(table if isinstance(table, dict) else {})
    raw = report.validate(_RawResource, table, ())
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _resource_spec(raw)


def parse_service(
    table: Any, *, resources: Iterable[str], source: str = "request"
) -> ServiceSpec:
    """One ``[[services]]`` table on its own -> :class:`ServiceSpec`.

    ``resources`` are the resource keys it may name (a file's own; through
    the API, the site's active resources). Paths start inside the table
    (``questions[1].type``, ``resources[0]``). Raises :class:`SiteFileError`.
    """
    data = table if isinstance(table, dict) else {}
    report = _Report(data)
    raw = report.validate(_RawService, table, ())
    _check_unique(report, _tables_in(data.get("questions")), ("questions",), "key", "question key")
    groups: tuple[tuple[str, ...], ...] = ()
    if isinstance(data.get("resources"), list):
        groups = _resource_groups(report, data["resources"], ("resources",), set(resources))
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _service_spec(raw, groups)


_EVENT = "|".join(MESSAGE_EVENTS)
_LOCALE = "|".join(SUPPORTED_LOCALES)
# "confirmed.txt" (any language) or "confirmed.de.txt"; parts: subject, text, HTML.
_EMAIL_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?\.(subject\.txt|txt|html)$")
_SMS_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?$")
# Templates are text for one message; longer is a pasted document, not a template.
TEMPLATE_MAX_LENGTH = 20_000


def _templates(report: _Report, raw: Any) -> tuple[dict[str, str], dict[str, str]]:
    """``[templates.email]`` and ``[templates.sms]``: names checked, sources parsed in the sandbox."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        report.add(("templates",), "must be a table with email and sms tables")
        return {}, {}
    found: dict[str, dict[str, str]] = {"email": {}, "sms": {}}
    for channel, table in raw.items():
        if channel not in found:
            report.add(("templates", channel), "unknown key; use [templates.email] or [templates.sms]")
            continue
        if not isinstance(table, dict):
            report.add(("templates", channel), "must be a table of template name = template text")
            continue
        pattern = _EMAIL_TEMPLATE_NAME if channel == "email" else _SMS_TEMPLATE_NAME
        example = '"confirmed.de.txt"' if channel == "email" else '"confirmed.de"'
        for name, source in table.items():
            loc = ("templates", channel, name)
            if not pattern.match(name):
                report.add(loc, f"unknown template name; use e.g. {example} (see docs/messages.md)")
            elif not isinstance(source, str) or not source.strip():
                report.add(loc, "must be the template's text")
            elif len(source) > TEMPLATE_MAX_LENGTH:
                report.add(loc, f"must be at most {TEMPLATE_MAX_LENGTH} characters")
            else:
                try:
                    _TEMPLATE_SYNTAX.parse(source)
                except TemplateSyntaxError as error:
                    report.add(loc, f"template error on line {error.lineno}: {error.message}")
                else:
                    found[channel][name] = source
    return found["email"], found["sms"]


_TEMPLATE_SYNTAX = ImmutableSandboxedEnvironment()


def _read_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, turning a syntax error into a Problem at its line/column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's message ends in "(at line 3, column 7)" or
        # "(at end of document)"; move that into the problem's path.
        message = str(error)
        where = re.search(r"\s*\(at (line \d+, column \d+|end of document)\)$", message)
        path = where.group(1) if where else ""
        reason = message[: where.start()] if where else message
        raise SiteFileError(source, [Problem(path, f"invalid TOML: {reason}")]) from None


def _tables_in(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The (index, table) pairs of an array of tables; other items are skipped
    (their type error is reported by the structural pass)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


# --------------------------------------------------------------------------
# Value parsers: raw TOML value in, domain value out, or a plain-English error
# --------------------------------------------------------------------------


def _fail(message: str, *, at: str | None = None) -> NoReturn:
    """Raise a validation error whose message reaches the user as written.

    ``at`` names a key below the current location (used by checks that span
    fields of one table, so the path points at the offending key).
    """
    context: dict[str, Any] = {"reason": message}
    if at is not None:
        context["at"] = at
    raise PydanticCustomError("sitefile", "{reason}", context)


def _show(value: Any) -> str:
    """A value as the user would write it in TOML, for messages."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _or_list(options: Iterable[str]) -> str:
    """'"a", "b" or "c"'"""
    shown = [_show(option) for option in options]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _did_you_mean(value: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(value, list(candidates), n=1)
    return f"; did you mean {_show(match[0])}?" if match else ""


def _text(max_length: int, *, allow_empty: bool = False) -> Callable[[str], str]:
    """Text up to ``max_length`` characters, stripped; blank only if allowed."""

    def check(value: str) -> str:
        value = value.strip()
        if not value and not allow_empty:
            _fail("must not be empty")
        if len(value) > max_length:
            _fail(f"must be at most {max_length} characters, got {len(value)}")
        return value

    return check


def _one_line(value: str) -> str:
    """"Hafenstraße 12\n20457 Hamburg" → "Hafenstraße 12, 20457 Hamburg"."""
    return ", ".join(" ".join(line.split()) for line in value.splitlines() if line.strip())


_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def _slug(value: str) -> str:
    """Lower-case letters, digits and inner hyphens, 1-63 characters."""
    if not (_SLUG_RE.fullmatch(value) and len(value) <= SLUG_MAX_LENGTH):
        _fail(
            f"must be lowercase letters, digits and hyphens, 1-{SLUG_MAX_LENGTH} characters, "
            f"starting and ending with a letter or digit, got {_show(value)}"
        )
    return value


def _choice(what: str, options: Sequence[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, str) and value in options:
            return value
        _fail(f"unknown {what} {_show(value)}; expected {_or_list(options)}")

    return check


@functools.cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(value: str) -> str:
    """An IANA zone name known to this system's tz database."""
    if value not in _known_time_zones():
        hint = _did_you_mean(value, _known_time_zones()) or (
            '; use an IANA name such as "Europe/Berlin"'
        )
        _fail(f"unknown time zone {_show(value)}{hint}")
    return value


_CLOCK_RE = re.compile(r"(\d{2}):(\d{2})")
_RANGE_RE = re.compile(r"\s*([^\s\-–]+)\s*[-–]\s*([^\s\-–]+)\s*")
_RANGE_EXAMPLE = '"09:00-12:30"'


def _minute_of_day(text: str, *, is_end: bool) -> int:
    """``"HH:MM"`` -> minutes since midnight; ``"24:00"`` only as an end (1440)."""
    match = _CLOCK_RE.fullmatch(text)
    if not match:
        _fail(f'{_show(text)} is not a time: write HH:MM with two digits each, e.g. "09:05"')
    hour, minute = int(match[1]), int(match[2])
    if minute > 59:
        _fail(f"{_show(text)} is not a time: minutes run from 00 to 59")
    if is_end and (hour, minute) == (24, 0):
        return 24 * 60
    if hour > 23:
        _fail(
            f'{_show(text)} is not a time: hours run from 00 to 23 ("24:00" may only end a range)'
        )
    return hour * 60 + minute


def _time_range(value: Any) -> TimeRange:
    """``"HH:MM-HH:MM"`` (wall clock) -> TimeRange in minutes since midnight."""
    if not isinstance(value, str):
        _fail(f"must be a time range in quotes like {_RANGE_EXAMPLE}, got {_show(value)}")
    match = _RANGE_RE.fullmatch(value)
    if not match:
        _fail(f"must be a time range like {_RANGE_EXAMPLE}, got {_show(value)}")
    start = _minute_of_day(match[1], is_end=False)
    end = _minute_of_day(match[2], is_end=True)
    if end < start:
        _fail(
            f"{_show(value)}: the end must be after the start; to run past midnight, "
            'end at "24:00" and go on from "00:00" the next day'
        )
    if end == start:
        _fail(f"{_show(value)}: the end must be after the start")
    return TimeRange(start, end)


def _day_ranges(ranges: list[TimeRange]) -> tuple[TimeRange, ...]:
    """Sort one day's ranges, reject overlaps, join ranges that touch.

    09:00-12:00 and 12:00-13:00 become 09:00-13:00, so a 60-minute slot at
    11:30 is not split by a boundary that is not a break.
    """
    ordered = sorted(ranges)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.start_minute < earlier.end_minute:
            _fail(f"{earlier} overlaps {later}")
    joined: list[TimeRange] = []
    for current in ordered:
        if joined and joined[-1].end_minute == current.start_minute:
            current = TimeRange(joined[-1].start_minute, current.end_minute)
            joined.pop()
        joined.append(current)
    return tuple(joined)


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_HINT = 'a date "YYYY-MM-DD" or a range "YYYY-MM-DD..YYYY-MM-DD"'


def _calendar_date(text: str) -> date:
    text = text.strip()
    if not _DATE_RE.fullmatch(text):
        _fail(f"must be {_DATE_HINT}, got {_show(text)}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{_show(text)} is not a real date")


def _single_date(value: Any) -> date:
    """One local date, written ``"YYYY-MM-DD"`` (or a bare TOML date)."""
    if isinstance(value, datetime):
        _fail(f"must be a date without a time, got {_show(value)}")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        _fail(f'must be a date "YYYY-MM-DD", got {_show(value)}')
    if ".." in value:
        _fail(f'must be a single date "YYYY-MM-DD", got {_show(value)}')
    return _calendar_date(value)


def _date_span(value: Any) -> tuple[date, date]:
    """A date or an inclusive range ``"first..last"`` -> (first, last)."""
    if isinstance(value, str) and ".." in value:
        first_text, _, last_text = value.partition("..")
        first, last = _calendar_date(first_text), _calendar_date(last_text)
        if last < first:
            _fail(f"{_show(value)}: the end is before the start")
        days = (last - first).days + 1
        if days > MAX_DATE_RANGE_DAYS:
            _fail(f"{_show(value)} spans {days} days; at most {MAX_DATE_RANGE_DAYS} are allowed")
        return first, last
    if isinstance(value, (str, date)):
        day = _single_date(value)
        return day, day
    _fail(f"must be {_DATE_HINT}, got {_show(value)}")


def _expand(spans: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Inclusive (first, last) spans -> the set of every date in them."""
    return frozenset(
        first + timedelta(days=offset)
        for first, last in spans
        for offset in range((last - first).days + 1)
    )


_DURATION_RE = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_UNIT_MINUTES = (7 * 24 * 60, 24 * 60, 60, 1)  # w, d, h, m
_DURATION_HINT = 'write minutes (90) or text like "90m", "2h", "1h30m", "60d", "2w"'


def _minutes(value: Any) -> int:
    """A duration in whole minutes: an integer (minutes) or text with units
    w/d/h/m in that order: ``"1h30m"`` -> 90, ``"2w"`` -> 20160."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        _fail(f'must be a whole number of minutes or text like "1h30m", got {_show(value)}')
    if isinstance(value, int):
        if value < 0:
            _fail(f"must not be negative, got {value}")
        minutes = value
    else:
        match = _DURATION_RE.fullmatch(value.replace(" ", ""))
        if not match or not any(match.groups()):
            _fail(f"{_show(value)} is not a duration: {_DURATION_HINT}")
        minutes = sum(
            int(amount) * unit
            for amount, unit in zip(match.groups(), _UNIT_MINUTES, strict=True)
            if amount
        )
    if minutes > MAX_ANY_MINUTES:
        _fail(f"must be at most {_duration_text(MAX_ANY_MINUTES)}, got {_duration_text(minutes)}")
    return minutes


def _duration_text(minutes: int) -> str:
    """90 -> "1h30m", 2880 -> "2d", 0 -> "0m" (the site-file notation)."""
    parts = []
    for unit, name in zip(_UNIT_MINUTES, "wdhm", strict=True):
        amount, minutes = divmod(minutes, unit)
        if amount:
            parts.append(f"{amount}{name}")
    return "".join(parts) or "0m"


def _on_grid(minutes: int) -> int:
    if minutes % GRID_MINUTES:
        _fail(f"must be a multiple of {GRID_MINUTES} minutes, got {minutes}")
    return minutes


def _minutes_between(low: int, high: int) -> Callable[[int], int]:
    def check(minutes: int) -> int:
        if minutes < low:
            _fail(f"must be at least {low} minutes, got {minutes}")
        if minutes > high:
            _fail(f"must be at most {high} minutes ({_duration_text(high)}), got {minutes}")
        return minutes

    return check


def _whole_number(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(f"must be a whole number, got {_show(value)}")
        if value < low:
            _fail(f"must be at least {low}, got {value}")
        if value > high:
            _fail(f"must be at most {high}, got {value}")
        return value

    return check


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        _fail(f"must be a number, got {_show(value)}")
    return value


@dataclass(frozen=True, slots=True)
class _Price:
    minor: int  # in the currency's minor unit: 6000 for "60.00 EUR"
    currency: str


_PRICE_RE = re.compile(r"(\d{1,12})(?:\.(\d+))?\s+([A-Za-z]{3})")
_FREE_RE = re.compile(r"0+(?:\.0+)?")
_PRICE_HINT = 'an amount and a currency code like "60.00 EUR" (or "0" for free)'


def _price(value: Any) -> _Price | None:
    """``"60.00 EUR"`` -> _Price(6000, "EUR"); ``"0"``/``0``/any zero -> None (free).

    Babel knows each ISO 4217 currency's minor-unit digits: EUR 2, JPY 0,
    KWD 3. "1.5 EUR" is 150; "1.505 EUR" has more digits than EUR allows.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return None
    if not isinstance(value, str):
        _fail(f"must be {_PRICE_HINT}, got {_show(value)}")
    text = value.strip()
    if _FREE_RE.fullmatch(text):
        return None
    match = _PRICE_RE.fullmatch(text)
    if not match:
        _fail(f"must be {_PRICE_HINT}, got {_show(value)}")
    whole, fraction, code = match[1], match[2] or "", match[3].upper()
    if not is_currency(code):
        _fail(f'unknown currency "{match[3]}"; use an ISO 4217 code such as "EUR"')
    digits = get_currency_precision(code)
    if len(fraction) > digits:
        allowed = "no decimal places" if digits == 0 else f"{digits} decimal places"
        _fail(f"{code} has {allowed}, {_show(value)} has {len(fraction)}")
    minor = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    return _Price(minor, code) if minor else None


def _email(value: str) -> str:
    """An email address (syntax only, no DNS lookup), normalised."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        _fail(f"{_show(value)} is not an email address: {error}")


_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()/.\-]*[0-9]")


def _phone(value: str) -> str:
    """A phone number as people write it: "+49 40 1234567". Shown, not dialled."""
    digits = sum(char.isdigit() for char in value)
    low, high = PHONE_DIGITS_RANGE
    if not _PHONE_RE.fullmatch(value.strip()) or not low <= digits <= high:
        _fail(f'must be a phone number like "+49 40 1234567", got {_show(value)}')
    return value.strip()


_ACCENT_RE = re.compile(r"#[0-9a-fA-F]{6}")


def _accent(value: str) -> str:
    if not _ACCENT_RE.fullmatch(value):
        _fail(f'must be a colour like "#0a7f6f" (# and six hex digits), got {_show(value)}')
    return value.lower()


def _origin(value: str) -> str:
    """A web origin, normalised as browsers send it (see ``domain.origins``)."""
    try:
        return normalize_origin(value)
    except OriginError as error:
        _fail(str(error))


def _distinct_origins(origins: list[str]) -> list[str]:
    for index, origin in enumerate(origins):
        if origin in origins[:index]:
            _fail(
                f"{_show(origin)} is listed twice (also allowed_origins[{origins.index(origin)}])"
            )
    return origins


def _reminder_list(reminders: list[int]) -> list[int]:
    """Minutes before the start, longest first, no duplicates."""
    if len(reminders) > MAX_REMINDERS:
        _fail(f"at most {MAX_REMINDERS} reminders, got {len(reminders)}")
    if len(set(reminders)) != len(reminders):
        _fail("lists the same reminder twice")
    return sorted(reminders, reverse=True)


# --------------------------------------------------------------------------
# Pass 1: the structure, as strict pydantic models of the raw tables
# --------------------------------------------------------------------------

Slug = Annotated[str, AfterValidator(_slug)]
Name = Annotated[str, AfterValidator(_text(NAME_MAX_LENGTH))]
# Where customers go, on one line: the lines of a multi-line TOML string are joined by ", ".
Address = Annotated[str, AfterValidator(_one_line), AfterValidator(_text(NAME_MAX_LENGTH))]
Description = Annotated[str, AfterValidator(_text(DESCRIPTION_MAX_LENGTH, allow_empty=True))]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
Email = Annotated[str, AfterValidator(_email)]
Minutes = Annotated[int, PlainValidator(_minutes)]
GridMinutes = Annotated[int, PlainValidator(_minutes), AfterValidator(_on_grid)]
# A service's length or step: on the grid, at least one grid unit, at most a week.
ServiceMinutes = Annotated[
    GridMinutes, AfterValidator(_minutes_between(GRID_MINUTES, MAX_SERVICE_MINUTES))
]
# A buffer: on the grid, at most a week like a service, so a booking's blocked
# time (duration + buffers) is bounded: the busy-time query relies on it.
BufferMinutes = Annotated[GridMinutes, AfterValidator(_minutes_between(0, MAX_SERVICE_MINUTES))]
# One day's ranges: sorted, checked for overlaps, touching ranges joined.
DayRanges = Annotated[
    list[Annotated[TimeRange, PlainValidator(_time_range)]], AfterValidator(_day_ranges)
]
DateSpan = Annotated[tuple[date, date], PlainValidator(_date_span)]


class _Table(BaseModel):
    # strict: a TOML string is never silently taken for a number or a bool.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _RawFile(_Table):
    site: dict[str, Any]
    resources: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    templates: dict[str, Any] = {}


class _RawHours(_Table):
    """Weekly hours: weekday -> ranges. A missing weekday or [] is closed."""

    mon: DayRanges = ()
    tue: DayRanges = ()
    wed: DayRanges = ()
    thu: DayRanges = ()
    fri: DayRanges = ()
    sat: DayRanges = ()
    sun: DayRanges = ()


class _RawSite(_Table):
    slug: Slug
    name: Name
    timezone: TimeZoneName
    locale: Annotated[Locale, PlainValidator(_choice("locale", SUPPORTED_LOCALES))] = "en"
    allowed_origins: Annotated[
        list[Annotated[str, AfterValidator(_origin)]], AfterValidator(_distinct_origins)
    ] = []
    accent: Annotated[str, AfterValidator(_accent)] | None = None
    contact_email: Email | None = None
    contact_phone: Annotated[str, AfterValidator(_phone)] | None = None
    address: Address | None = None
    notify_email: Email | None = None
    hours: _RawHours | None = None
    closed: list[DateSpan] = []
    hold_minutes: Annotated[int, PlainValidator(_whole_number(*HOLD_MINUTES_RANGE))] = (
        DEFAULT_HOLD_MINUTES
    )
    max_reschedules: Annotated[int, PlainValidator(_whole_number(0, MAX_RESCHEDULES_LIMIT))] = (
        DEFAULT_MAX_RESCHEDULES
    )
    sms_enabled: bool = False


class _RawResource(_Table):
    key: Slug
    name: Name
    kind: Annotated[
        ResourceKind,
        PlainValidator(lambda value: ResourceKind(_choice("kind", list(ResourceKind))(value))),
    ]
    timezone: TimeZoneName | None = None
    hours: _RawHours | None = None
    closed: list[DateSpan] = []
    extra_open: dict[Annotated[date, PlainValidator(_single_date)], DayRanges] = {}

    @model_validator(mode="after")
    def _extra_open_days_have_ranges(self) -> _RawResource:
        for day, ranges in self.extra_open.items():
            if not ranges:
                _fail(
                    f"{day.isoformat()} has no ranges; list the extra opening hours, "
                    "or use closed to close a date",
                    at="extra_open",
                )
        return self


class _RawQuestion(_Table):
    key: Slug
    label: Name
    type: Annotated[str, PlainValidator(_choice("question type", QUESTION_TYPES))]
    required: bool = False
    options: list[Annotated[str, AfterValidator(_text(NAME_MAX_LENGTH))]] | None = None
    min: Annotated[int | float, PlainValidator(_number)] | None = None
    max: Annotated[int | float, PlainValidator(_number)] | None = None
    max_length: Annotated[int, PlainValidator(_whole_number(1, MAX_LENGTH_LIMIT))] | None = None

    @model_validator(mode="after")
    def _settings_fit_the_type(self) -> _RawQuestion:
        if self.type == "select":
            if not self.options:
                _fail("a select question needs at least one option", at="options")
            for option in self.options:
                if self.options.count(option) > 1:
                    _fail(f"option {_show(option)} is listed twice", at="options")
        elif self.options is not None:
            _fail("only select questions have options", at="options")
        if self.type != "number":
            for bound in ("min", "max"):
                if getattr(self, bound) is not None:
                    _fail("only number questions have min and max", at=bound)
        elif self.min is not None and self.max is not None and self.min > self.max:
            _fail(f"must not be greater than max ({self.min} > {self.max})", at="min")
        if self.max_length is not None and self.type not in DEFAULT_MAX_LENGTH:
            _fail("only text and textarea questions have max_length", at="max_length")
        return self


class _RawService(_Table):
    slug: Slug
    name: Name
    description: Description = ""
    duration: ServiceMinutes
    step: ServiceMinutes | None = None  # None: the same as duration
    buffer_before: BufferMinutes = 0
    buffer_after: BufferMinutes = 0
    min_notice: Minutes = 0
    max_advance: Minutes = DEFAULT_MAX_ADVANCE_MINUTES
    cancel_until: Minutes = 0
    reschedule_until: Minutes = 0
    seats: Annotated[int, PlainValidator(_whole_number(1, MAX_SEATS))] = 1
    price: Annotated[_Price | None, PlainValidator(_price)] = None
    phone: Annotated[PhoneMode, PlainValidator(_choice("phone setting", PHONE_MODES))] = "optional"
    reminders: Annotated[
        list[Annotated[Minutes, AfterValidator(_minutes_between(1, MAX_ANY_MINUTES))]],
        AfterValidator(_reminder_list),
    ] = list(DEFAULT_REMINDERS)
    questions: list[_RawQuestion] = []
    # Shape and keys are checked in pass 2, against the resources.
    resources: list[Any]
    enabled: bool = True

    @model_validator(mode="after")
    def _notice_fits_in_advance(self) -> _RawService:
        if self.min_notice > self.max_advance:
            _fail(
                "must not be longer than max_advance "
                f"({_duration_text(self.min_notice)} > {_duration_text(self.max_advance)}), "
                "or nothing could ever be booked",
                at="min_notice",
            )
        return self


# --------------------------------------------------------------------------
# Problems: paths, subjects and plain-English messages
# --------------------------------------------------------------------------

Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound=BaseModel)

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")

# Tables whose items are named in a problem's subject: (array path) -> (what, key field).
_SUBJECTS: dict[tuple[str, ...], tuple[str, str]] = {
    ("resources",): ("resource", "key"),
    ("services",): ("service", "slug"),
    ("services", "questions"): ("question", "key"),
}

_TYPE_MESSAGES = {
    "string_type": "must be text in quotes",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}

# Messages for the top level, where the fix is a different TOML construct.
_TOP_LEVEL_MESSAGES = {
    ("site", "missing"): "is required: start the file with a [site] table",
    ("site", "dict_type"): "must be a table: write [site] and its keys below it",
    ("resources", "list_type"): "must be an array of tables: write [[resources]] before each one",
    ("services", "list_type"): "must be an array of tables: write [[services]] before each one",
}


def _format_path(loc: Loc) -> str:
    """("services", 2, "duration") -> "services[2].duration"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            key = part if _BARE_KEY_RE.fullmatch(part) else _show(part)
            path += f".{key}" if path else key
    return path


class _Report:
    """Collects problems while walking one parsed TOML document."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(_format_path(loc), message, self._subject(loc)))

    def validate(self, model: type[_M], value: Any, loc: Loc) -> _M | None:
        """Validate one table; report its errors under ``loc``; None if invalid."""
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                where = tuple(part for part in detail["loc"] if part != "[key]")
                context = detail.get("ctx") or {}
                if detail["type"] == "sitefile" and "at" in context:
                    where = (*where, context["at"])
                self.add((*loc, *where), _message(detail, model, where))
            return None

    def _subject(self, loc: Loc) -> str | None:
        """Name the keyed items the path runs through: 'service "x", question "y"'.

        An item is not named in a problem about its own key field (the message
        already shows the value).
        """
        names: list[str] = []
        arrays: list[str] = []
        node: Any = self.data
        for position, part in enumerate(loc):
            if isinstance(part, str):
                arrays.append(part)
                node = node.get(part) if isinstance(node, dict) else None
                continue
            if not (isinstance(node, list) and 0 <= part < len(node)):
                break
            node = node[part]
            what, key_field = _SUBJECTS.get(tuple(arrays), (None, ""))
            key = node.get(key_field) if isinstance(node, dict) else None
            if what and isinstance(key, str) and key and loc[position + 1 :] != (key_field,):
                names.append(f"{what} {_show(key)}")
        return ", ".join(names) or None


def _message(detail: Mapping[str, Any], model: type[BaseModel], where: Loc) -> str:
    """A pydantic error detail as a plain-English message."""
    kind = detail["type"]
    if kind == "sitefile":
        return detail["ctx"]["reason"]
    if len(where) == 1 and (where[0], kind) in _TOP_LEVEL_MESSAGES and model is _RawFile:
        return _TOP_LEVEL_MESSAGES[where[0], kind]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(where[-1])
        allowed = _keys_at(model, where[:-1])
        hint = _did_you_mean(key, allowed) or (
            f"; expected one of: {', '.join(allowed)}" if allowed else ""
        )
        return f"unknown key{hint}"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_show(detail.get('input'))}"
    return str(detail["msg"]).replace("Input should be", "must be")


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the table at ``loc`` inside ``model`` (for hints)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if current else None
        current = _model_in(info.annotation) if info else None
    return list(current.model_fields) if current else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[_RawQuestion] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found:
            return found
    return None


# --------------------------------------------------------------------------
# Pass 2: checks across tables
# --------------------------------------------------------------------------


def _check_unique(
    report: _Report,
    items: list[tuple[int, dict[str, Any]]],
    loc: Loc,
    key_field: str,
    what: str,
) -> None:
    """Report every item whose ``key_field`` repeats an earlier item's."""
    first_at: dict[str, int] = {}
    for index, item in items:
        key = item.get(key_field)
        if not isinstance(key, str):
            continue
        if key in first_at:
            first = _format_path((*loc, first_at[key]))
            report.add(
                (*loc, index, key_field), f"duplicate {what} {_show(key)} (already used by {first})"
            )
        else:
            first_at[key] = index


def _resource_groups(
    report: _Report, value: list[Any], loc: Loc, known: set[str]
) -> tuple[tuple[str, ...], ...]:
    """A service's ``resources`` -> groups; one resource is taken from each.

    ``["anna", "ben"]`` is one group (any of them); ``[["anna", "ben"],
    ["room-1", "room-2"]]`` is two (a therapist and a room). Reports an empty
    list or group, a mix of both forms, unknown keys and keys listed twice.
    """
    if not value:
        report.add(loc, 'a service needs at least one resource, e.g. ["anna"]')
        return ()
    if all(isinstance(item, list) for item in value):
        groups = [((*loc, index), group) for index, group in enumerate(value)]
    elif not any(isinstance(item, list) for item in value):
        groups = [(loc, value)]
    else:
        report.add(
            loc,
            "must be a list of resource keys (one group) or a list of such lists "
            "(one resource from each group), not a mix",
        )
        return ()
    first_at: dict[str, Loc] = {}
    result = []
    for group_loc, group in groups:
        if not group:
            report.add(group_loc, "this group is empty; list at least one resource key")
        for index, key in enumerate(group):
            item_loc = (*group_loc, index)
            if not isinstance(key, str):
                report.add(item_loc, f"must be a resource key in quotes, got {_show(key)}")
            elif key in first_at:
                report.add(
                    item_loc,
                    f"resource {_show(key)} is listed twice in this service "
                    f"(also {_format_path(first_at[key])})",
                )
            elif key not in known:
                hint = _did_you_mean(key, known) or (
                    f"; known keys: {', '.join(sorted(known))}" if known else ""
                )
                report.add(item_loc, f"no resource with key {_show(key)}{hint}")
            if isinstance(key, str):
                first_at.setdefault(key, item_loc)
        result.append(tuple(key for key in group if isinstance(key, str)))
    return tuple(result)


# --------------------------------------------------------------------------
# Raw tables -> spec objects (only reached when nothing is wrong)
# --------------------------------------------------------------------------


def _weekly(hours: _RawHours | None) -> ReadOnlyWeeklyHours | None:
    """Weekday name -> ranges becomes weekday number -> ranges, open days only."""
    if hours is None:
        return None
    by_weekday = {
        weekday: tuple(getattr(hours, name))
        for weekday, name in enumerate(WEEKDAYS)
        if getattr(hours, name)
    }
    return MappingProxyType(by_weekday)


def _resource_spec(raw: _RawResource) -> ResourceSpec:
    return ResourceSpec(
        key=raw.key,
        name=raw.name,
        kind=raw.kind,
        timezone=raw.timezone,
        hours=_weekly(raw.hours),
        closed=_expand(raw.closed),
        extra_open=MappingProxyType(
            {day: tuple(ranges) for day, ranges in sorted(raw.extra_open.items())}
        ),
    )


def _question_spec(raw: _RawQuestion) -> Question:
    max_length = raw.max_length
    if max_length is None:
        max_length = DEFAULT_MAX_LENGTH.get(raw.type)
    return Question(
        key=raw.key,
        label=raw.label,
        type=QuestionType(raw.type),
        required=raw.required,
        options=tuple(raw.options or ()),
        min=raw.min,
        max=raw.max,
        max_length=max_length,
    )


def _service_spec(raw: _RawService, groups: tuple[tuple[str, ...], ...]) -> ServiceSpec:
    return ServiceSpec(
        slug=raw.slug,
        name=raw.name,
        description=raw.description,
        duration=raw.duration,
        step=raw.step if raw.step is not None else raw.duration,
        buffer_before=raw.buffer_before,
        buffer_after=raw.buffer_after,
        min_notice=raw.min_notice,
        max_advance=raw.max_advance,
        cancel_until=raw.cancel_until,
        reschedule_until=raw.reschedule_until,
        seats=raw.seats,
        price_minor=raw.price.minor if raw.price else None,
        currency=raw.price.currency if raw.price else None,
        phone=raw.phone,
        reminders=tuple(raw.reminders),
        questions=tuple(_question_spec(question) for question in raw.questions),
        resource_groups=groups,
        enabled=raw.enabled,
    )
