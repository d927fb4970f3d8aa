"""How domain values are stored in JSON columns, and read back.

Weekly hours are stored as ``{"mon": [[540, 720], [780, 1020]]}``: weekday
names keep the rows readable in a database shell, minute pairs keep reading
them back trivial (no time parsing on the availability hot path). Questions
are stored as objects holding only the keys their type uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from slotwise.domain.model import Question, QuestionType, TimeRange, WeeklyHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

StoredRanges = list[list[int]]


def encode_ranges(ranges: Iterable[TimeRange]) -> StoredRanges:
    return [[r.start_minute, r.end_minute] for r in ranges]


def decode_ranges(stored: Iterable[Iterable[int]]) -> tuple[TimeRange, ...]:
    return tuple(TimeRange(int(start), int(end)) for start, end in stored)


def encode_weekly(hours: WeeklyHours) -> dict[str, StoredRanges]:
    return {WEEKDAYS[day]: encode_ranges(ranges) for day, ranges in sorted(hours.items())}


def decode_weekly(stored: Mapping[str, Iterable[Iterable[int]]]) -> WeeklyHours:
    return {WEEKDAYS.index(name): decode_ranges(ranges) for name, ranges in stored.items()}


def encode_dates(dates: Iterable[date]) -> list[str]:
    return sorted(d.isoformat() for d in dates)


def decode_dates(stored: Iterable[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in stored)


def encode_dated_ranges(by_date: Mapping[date, Iterable[TimeRange]]) -> dict[str, StoredRanges]:
    return {d.isoformat(): encode_ranges(ranges) for d, ranges in sorted(by_date.items())}


def decode_dated_ranges(
    stored: Mapping[str, Iterable[Iterable[int]]],
) -> dict[date, tuple[TimeRange, ...]]:
    return {date.fromisoformat(d): decode_ranges(ranges) for d, ranges in stored.items()}


def encode_question(question: Question) -> dict[str, Any]:
    """A question as stored: only the keys that apply to its type."""
    data: dict[str, Any] = {
        "key": question.key, "label": question.label, "type": str(question.type),
        "required": question.required,
    }
    if question.options:
        data["options"] = list(question.options)
    if question.texts:
        data["texts"] = {name: dict(table) for name, table in question.texts.items()}
    if question.option_texts:
        data["option_texts"] = {name: dict(table) for name, table in question.option_texts.items()}
    for name in ("min", "max", "max_length"):
        value = getattr(question, name)
        if value is not None:
            data[name] = value
    return data


def decode_question(stored: Mapping[str, Any]) -> Question:
    return Question(
        key=stored["key"],
        label=stored.get("label") or stored["key"],
        type=QuestionType(stored.get("type", "text")),
        required=bool(stored.get("required")),
        options=tuple(stored.get("options") or ()),
        min=stored.get("min"),
        max=stored.get("max"),
        max_length=stored.get("max_length"),
        texts=stored.get("texts") or {},
        option_texts=stored.get("option_texts") or {},
    )
