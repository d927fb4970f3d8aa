"""How domain values are stored in JSON columns, and read back.

Weekly hours are stored as ``{"mon": [[540, 720], [780, 1020]]}``: weekday
names keep the rows readable in a database shell, minute pairs keep reading
them back trivial (no time parsing on the availability hot path).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from slotwise.domain.model import TimeRange, WeeklyHours

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
