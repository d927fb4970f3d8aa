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
from slotwise.sitefile.schema import WEEKDAYS, ResourceSpec, ServiceSpec

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


def question_table(question: Question) -> dict[str, Any]:
    table: dict[str, Any] = {"key": question.key, "label": question.label, "type": str(question.type),
                             "required": question.required}
    if question.options:
        table["options"] = list(question.options)
    for name in ("min", "max", "max_length"):
        value = getattr(question, name)
        if value is not None:
            table[name] = value
    return table


def resource_table(spec: ResourceSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": spec.name,
        "kind": str(spec.kind),
        "timezone": spec.timezone,
        "hours": None if spec.hours is None else weekly_hours(spec.hours),
        "closed": date_spans(spec.closed),
        "extra_open": {day.isoformat(): [str(r) for r in ranges]
                       for day, ranges in sorted(spec.extra_open.items())},
    }


def service_table(spec: ServiceSpec) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "name": spec.name,
        "description": spec.description,
        "duration": spec.duration,
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
    }
