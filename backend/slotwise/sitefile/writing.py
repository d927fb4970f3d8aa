"""Specs back to the tables a site file holds: the inverse of parsing, one table at a time.

``parse_resource(resource_table(spec)) == spec`` and likewise for services,
so an API client can read a resource, change a field and send it back.
Durations are written as whole minutes (``90``), hours as
``{"mon": ["09:00-12:00"]}`` (open weekdays only), closed dates as single
dates and ``"first..last"`` runs, prices as ``"60.00 EUR"``. A value that
is inherited or left at nothing (a resource's ``timezone``/``hours``, a
free service's ``price``) is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from babel.numbers import get_currency_precision

from slotwise.domain.model import Question, TimeRange
from slotwise.sitefile.schema import WEEKDAYS, ResourceSpec, ServiceSpec, SiteSpec

# A closed range may span at most this many days in a file (parsing.MAX_DATE_RANGE_DAYS).
_LONGEST_RUN = 2 * 366


def weekly_hours(hours: Mapping[int, Iterable[TimeRange]]) -> dict[str, list[str]]:
    """{0: (09:00-12:00,)} -> {"mon": ["09:00-12:00"]}; closed weekdays left out."""
    return {WEEKDAYS[day]: [str(r) for r in ranges] for day, ranges in sorted(hours.items()) if ranges}


def date_spans(dates: Iterable[date]) -> list[str]:
    """Dates -> ``"YYYY-MM-DD"`` and ``"first..last"`` for runs of consecutive days, in order."""
    spans: list[str] = []
    ordered = sorted(set(dates))
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        index += 1
        while (index < len(ordered) and ordered[index] == last + timedelta(days=1)
               and (ordered[index] - first).days < _LONGEST_RUN):
            last = ordered[index]
            index += 1
        spans.append(first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}")
    return spans


def price_text(minor: int | None, currency: str | None) -> str | None:
    """6000, "EUR" -> "60.00 EUR"; None when free."""
    if minor is None or currency is None:
        return None
    digits = get_currency_precision(currency)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d} {currency}" if digits else f"{whole} {currency}"


def local(texts: Mapping[str, Mapping[str, str]], name: str, plain: str | None) -> Any:
    """A per-language field as the file gave it: its table by language, or the plain string."""
    table = texts.get(name)
    return dict(table) if table else plain


def question_table(question: Question) -> dict[str, Any]:
    table: dict[str, Any] = {"key": question.key, "label": local(question.texts, "label", question.label),
                             "type": str(question.type), "required": question.required}
    if question.options:
        table["options"] = [local(question.option_texts, option, option) for option in question.options]
    for name in ("min", "max", "max_length"):
        value = getattr(question, name)
        if value is not None:
            table[name] = value
    return table


def resource_table(spec: ResourceSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": local(spec.texts, "name", spec.name),
        "kind": str(spec.kind),
        "timezone": spec.timezone,
        "hours": None if spec.hours is None else weekly_hours(spec.hours),
        "closed": date_spans(spec.closed),
        "extra_open": {day.isoformat(): [str(r) for r in ranges]
                       for day, ranges in sorted(spec.extra_open.items())},
        "metadata": dict(spec.metadata) or None,
    }


def service_table(spec: ServiceSpec) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "name": local(spec.texts, "name", spec.name),
        "description": local(spec.texts, "description", spec.description),
        "category": local(spec.texts, "category", spec.category),
        "duration": spec.duration,
        "listed_duration": spec.listed_duration,
        "ask_address": spec.ask_address,
        "step": spec.step,
        "buffer_before": spec.buffer_before,
        "buffer_after": spec.buffer_after,
        "min_notice": spec.min_notice,
        "max_advance": spec.max_advance,
        "cancel_until": spec.cancel_until,
        "reschedule_until": spec.reschedule_until,
        "seats": spec.seats,
        "price": price_text(spec.price_minor, spec.currency),
        "phone": spec.phone,
        "reminders": list(spec.reminders),
        "questions": [question_table(q) for q in spec.questions],
        # Always the groups form: one resource is taken from each inner list.
        "resources": [list(group) for group in spec.resource_groups],
        "enabled": spec.enabled,
        "metadata": dict(spec.metadata) or None,
    }


def site_table(spec: SiteSpec) -> dict[str, Any]:
    """The ``[site]`` table."""
    return {
        "slug": spec.slug,
        "name": spec.name,
        "timezone": spec.timezone,
        "locale": spec.locale,
        "allowed_origins": list(spec.allowed_origins),
        "accent": spec.accent,
        "contact_email": spec.contact_email,
        "contact_phone": spec.contact_phone,
        "address": spec.address,
        "notify_email": spec.notify_email,
        "hold_minutes": spec.hold_minutes,
        "max_reschedules": spec.max_reschedules,
        "sms_enabled": spec.sms_enabled,
        "sandbox": spec.sandbox,
        "feed_customer_names": spec.feed_customer_names,
        "closed": date_spans(spec.closed),
        "hours": weekly_hours(spec.hours),
    }


def site_document(spec: SiteSpec) -> dict[str, Any]:
    """The whole site file as one table: ``parse_site_data(without_nulls(site_document(spec))) == spec``.

    Values left at nothing are ``None`` here; a file leaves them out, so
    :func:`without_nulls` drops them (TOML has no null, and the parser reads a
    missing value as the default).
    """
    document: dict[str, Any] = {
        "site": site_table(spec),
        "resources": [resource_table(r) for r in spec.resources],
        "services": [service_table(s) for s in spec.services],
    }
    if spec.email_templates or spec.sms_templates:
        document["templates"] = {"email": dict(spec.email_templates), "sms": dict(spec.sms_templates)}
    return document


def without_nulls(value: Any) -> Any:
    """The same table without its ``None`` values, at every depth (what TOML can hold)."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value
