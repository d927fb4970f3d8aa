"""Value parsers of the site file: one raw TOML value in, a checked value out, or a plain-English error.

Each parser raises the site file's own validation error (:func:`_fail`), which
the pydantic models of ``parsing`` turn into a :class:`Problem` with its path.
The limits of the file's own text live here too; the domain's are in
``domain.limits``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NoReturn

from babel.numbers import get_currency_precision, is_currency
from email_validator import EmailNotValidError, validate_email
from pydantic_core import PydanticCustomError

from slotwise.domain.limits import (
    GRID_MINUTES,
    MAX_ANY_MINUTES,
    MAX_REMINDERS,
)
from slotwise.domain.model import TimeRange
from slotwise.domain.origins import OriginError, normalize_origin

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
