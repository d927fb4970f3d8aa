"""Customer-visible language: message catalogs, locale choice, dates, times and prices.

Strings are written in English in the source and templates and translated
through gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.po``). The
``.po`` files are compiled in memory the first time a language is used, so
there is no build step and no ``.mo`` file in the tree.

Dates, times and prices are formatted by Babel with one regional locale per
language (British English: "Tuesday 24 November, 10:30", "€25.00"; German:
"Dienstag, 24. November, 10:30", "25,00 €").

Extracting new strings (from the repository root)::

    .venv/bin/pybabel extract -F backend/slotwise/locales/babel.cfg -k N_ -k _ \\
        --no-location -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d backend/slotwise/locales \\
        --no-fuzzy-matching -w 100

then translate the new entries in ``messages.po`` (a test fails while any
customer-visible string has no German translation).
"""

from __future__ import annotations

import gettext as gettext_module
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_time, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from slotwise.assets import LOCALES_DIR
from slotwise.domain.locales import SUPPORTED_LOCALES

DEFAULT_LOCALE = "en"

# The Babel locale used to format dates, times and numbers for each language.
FORMAT_LOCALES = {"en": "en_GB", "de": "de_DE"}

# Date patterns per language (CLDR syntax). Babel's skeletons pick abbreviated
# weekdays for German, so the patterns are spelled out.
DAY_PATTERNS = {"en": "EEEE d MMMM", "de": "EEEE, d. MMMM"}  # Tuesday 24 November
FULL_DAY_PATTERNS = {"en": "EEEE d MMMM y", "de": "EEEE, d. MMMM y"}  # ... 2026
MONTH_PATTERN = "LLLL y"  # November 2026


def N_(message: str) -> str:  # the conventional name for "mark for extraction"
    """Mark a string for extraction without translating it here."""
    return message


# --- catalogs ------------------------------------------------------------------


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> gettext_module.NullTranslations:
    """The catalog of ``locale``, compiled from its ``.po`` file on first use."""
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def supported(locale: str | None) -> str | None:
    """``locale`` reduced to a supported language ("de-AT" → "de"), or None."""
    if not locale:
        return None
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


_QUALITY = re.compile(r"^q=([0-9.]+)$")


def from_accept_language(header: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header, or None.

    "fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7" → "de": French is not supported, so
    the next language by quality wins. Equal qualities keep the header's order.
    """
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            match = _QUALITY.match(param)
            if match:
                try:
                    quality = float(match.group(1))
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        language = supported(tag)
        if language:
            return language
    return None


def negotiate(asked: str | None, accept_language: str | None, site_locale: str | None) -> str:
    """``?locale=`` if supported, else the browser's best match, else the site's, else English."""
    return (
        supported(asked)
        or from_accept_language(accept_language)
        or supported(site_locale)
        or DEFAULT_LOCALE
    )


# --- templates -----------------------------------------------------------------


def _newstyle(translate: Callable[..., str]) -> Callable[..., str]:
    """Jinja's "new style" gettext: ``_("Hello %(name)s", name=x)`` escapes ``x``, not the text."""

    @pass_context
    def call(context: Context, *args: Any, **variables: Any) -> str:
        text: str = translate(*args)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return call


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def template_gettext(locale: str) -> dict[str, Callable[..., str]]:
    """``gettext`` and ``ngettext`` for a template context in ``locale``.

    Passed per render (not installed on the shared environment), so concurrent
    requests in different languages never see each other's catalog.
    """
    catalog = translations(locale)
    newstyle_ngettext = _newstyle(lambda s, p, n: catalog.ngettext(s, p, n))

    @pass_context
    def ngettext_with_num(
        context: Context, singular: str, plural: str, n: int, **variables: Any
    ) -> str:
        variables.setdefault("num", n)
        return newstyle_ngettext(context, singular, plural, n, **variables)

    return {"gettext": _newstyle(catalog.gettext), "ngettext": ngettext_with_num}


def configure_jinja(environment: Environment) -> None:
    """Add gettext support (``{{ _("…") }}``, ``{% trans %}``) to the app's Jinja environment.

    English (the source language) is installed as the default, so a template
    rendered without a locale still works; booking pages pass their own.
    """
    environment.add_extension("jinja2.ext.i18n")
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(template_gettext(DEFAULT_LOCALE))


# --- formatting ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Formatter:
    """Dates, times and prices in one language. Datetimes are formatted in their own zone."""

    locale: str

    @property
    def babel_locale(self) -> str:
        return FORMAT_LOCALES[self.locale]

    def gettext(self, message: str, **variables: Any) -> str:
        text = translations(self.locale).gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        text = translations(self.locale).ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    # Dates and times are formatted through small caches: a day's slot list
    # names the same day and a few dozen times over and over, and Babel takes
    # tens of microseconds per call.

    def day(self, value: date | datetime) -> str:
        """Weekday, day and month: "Tuesday 24 November" / "Dienstag, 24. November"."""
        return _date_text(_as_date(value), DAY_PATTERNS[self.locale], self.babel_locale)

    def full_day(self, value: date | datetime) -> str:
        """The same with the year: "Tuesday 24 November 2026"."""
        return _date_text(_as_date(value), FULL_DAY_PATTERNS[self.locale], self.babel_locale)

    def month(self, value: date) -> str:
        return _date_text(_as_date(value), MONTH_PATTERN, self.babel_locale)

    def time(self, value: datetime) -> str:
        """Wall-clock time of an aware datetime in its own zone: "10:30"."""
        return _time_text(value.hour, value.minute, self.babel_locale)

    def moment(self, value: datetime) -> str:
        """Day and time, "Tuesday 24 November 2026, 10:30", in the datetime's own zone."""
        return self.gettext("%(day)s, %(time)s", day=self.full_day(value), time=self.time(value))

    def weekday_names(self, width: str = "wide") -> list[str]:
        """Monday first (ISO weekday order), as in the calendar grid."""
        names = get_day_names(width, locale=self.babel_locale)
        return [names[i] for i in range(7)]

    def price(self, minor: int | None, currency: str | None) -> str | None:
        """A price, "€25.00" / "25,00 €"; "Free" for zero; None when there is none."""
        if minor is None or currency is None:
            return None
        if minor == 0:
            return self.gettext("Free")
        amount = Decimal(minor).scaleb(-get_currency_precision(currency))
        return format_currency(amount, currency, locale=self.babel_locale)

    def duration(self, minutes: int) -> str:
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            return self.gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)
        if hours:
            return self.gettext("%(hours)s h", hours=hours)
        return self.gettext("%(minutes)s min", minutes=minutes)


def _as_date(value: date | datetime) -> date:
    """The wall-clock date (of an aware datetime: in its own zone)."""
    return value.date() if isinstance(value, datetime) else value


@lru_cache(maxsize=4096)
def _date_text(value: date, pattern: str, babel_locale: str) -> str:
    return format_date(value, pattern, locale=babel_locale)


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, babel_locale: str) -> str:
    # The "short" time pattern has no zone in it (en_GB and de_DE: "HH:mm").
    return format_time(time(hour, minute), "short", locale=babel_locale)
