"""Open time for the availability engine: opening hours as ranges of UTC epoch seconds.

Part of the engine (``availability.py`` has the rules and the decisions in
its docstring): local dates per zone with their fixed UTC offset, each
resource's open ranges on them, and the careful wall-clock path for the days
a zone changes its offset. Pure, as the engine is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise.domain.model import ResourceCalendar, TimeRange

DAY = 86_400  # seconds; the engine counts in UTC epoch seconds
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_NAIVE = datetime(1970, 1, 1)
_ONE_MICROSECOND = timedelta(microseconds=1)

class LocalDays:
    """Local dates around the bounds, per zone, with their fixed offset if any.

    Shared by all resources of one call, so each zone and date costs two
    zoneinfo look-ups once.
    """

    def __init__(self, lowest: int, highest: int, site_closed: frozenset[date]) -> None:
        self.lowest = lowest
        self.highest = highest
        self.site_closed = site_closed
        self._by_zone: dict[ZoneInfo, list[tuple[date, int, int, bool, int | None]]] = {}

    def of(self, zone: ZoneInfo) -> list[tuple[date, int, int, bool, int | None]]:
        """``(day, weekday, wall_midnight, site_closed, offset)`` per local date.

        ``wall_midnight`` is the date's 00:00 as seconds since 1970-01-01 00:00
        on the wall clock; ``offset`` is the date's UTC offset in seconds, or
        ``None`` on a transition day.
        """
        days = self._by_zone.get(zone)
        if days is None:
            # A day of padding each side: the zone's dates need not match UTC's.
            first = datetime.fromtimestamp(self.lowest, zone).toordinal() - 1
            last = datetime.fromtimestamp(self.highest, zone).toordinal() + 1
            days = []
            for ordinal in range(first, last + 1):
                day = date.fromordinal(ordinal)
                wall_midnight = (ordinal - _EPOCH_ORDINAL) * DAY
                days.append(
                    (
                        day,
                        day.weekday(),
                        wall_midnight,
                        day in self.site_closed,
                        _day_offset(zone, wall_midnight),
                    )
                )
            self._by_zone[zone] = days
        return days


# An open range in UTC epoch seconds: (start, end, grid). ``grid`` is None on a
# date with one UTC offset (the grid is start, start + step, ...); on a
# transition day it lists the UTC starts of the wall-clock grid, gaps skipped,
# folds at their first occurrence.
OpenRange = tuple[int, int, "list[int] | None"]


def open_ranges(calendar: ResourceCalendar, days: LocalDays, step: int) -> list[OpenRange]:
    """Open ranges of the resource on the local dates of ``days``, in UTC."""
    zone = calendar.zone
    weekly = [_merged(calendar.weekly.get(weekday, ())) for weekday in range(7)]
    closed = calendar.closed
    extra_open = calendar.extra_open
    out: list[OpenRange] = []
    for day, weekday, wall_midnight, site_shut, offset in days.of(zone):
        if site_shut or (closed and day in closed):
            seconds: list[tuple[int, int]] = []
        else:
            seconds = weekly[weekday]
        if extra_open:
            extra = extra_open.get(day)
            if extra:
                seconds = _merged([TimeRange(a // 60, b // 60) for a, b in seconds] + list(extra))
        if not seconds:
            continue
        if offset is not None:
            base = wall_midnight - offset
            out += [(base + a, base + b, None) for a, b in seconds]
        else:
            out += [
                _transition_day_range(zone, wall_midnight + a, wall_midnight + b, step)
                for a, b in seconds
            ]
    return out


def _merged(ranges: Iterable[TimeRange]) -> list[tuple[int, int]]:
    """Ranges of one date in seconds since local midnight, overlapping or touching ones joined.

    09:00-12:00 and 11:00-13:00 → [(32400, 46800)], i.e. 09:00-13:00.
    """
    merged: list[tuple[int, int]] = []
    for r in sorted(ranges):
        a, b = r.start_minute * 60, r.end_minute * 60
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _day_offset(zone: ZoneInfo, wall_midnight: int) -> int | None:
    """The UTC offset of a local date in seconds, or ``None`` if it changes that day.

    Compares this midnight with the next. A midnight inside a gap reads with
    the offset before the gap (fold=0): a date whose 00:00 is skipped counts as
    a transition day, and a date followed by a skipped 24:00 keeps its offset,
    so its 24:00 converts to the transition instant itself, the first valid
    instant after it.
    """
    today = _wall_offset(zone, wall_midnight)
    tomorrow = _wall_offset(zone, wall_midnight + DAY)
    return today if today == tomorrow else None


def _transition_day_range(zone: ZoneInfo, wall_start: int, wall_end: int, step: int) -> OpenRange:
    """The careful path: every wall-clock grid point converted on its own."""
    start, _ = _wall_to_utc(zone, wall_start)
    end, _ = _wall_to_utc(zone, wall_end)
    grid = []
    for wall in range(wall_start, wall_end, step):
        instant, exists = _wall_to_utc(zone, wall)
        if exists:
            grid.append(instant)
    return (start, end, grid)


def _wall_offset(zone: ZoneInfo, wall: int, fold: int = 0) -> int:
    """UTC offset in seconds of a wall-clock time (seconds since 1970-01-01 00:00 local)."""
    local = (_EPOCH_NAIVE + timedelta(seconds=wall)).replace(tzinfo=zone, fold=fold)
    offset = local.utcoffset()
    assert offset is not None
    return offset.days * DAY + offset.seconds


def _instant_offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    assert offset is not None
    return offset.days * DAY + offset.seconds


def _wall_to_utc(zone: ZoneInfo, wall: int) -> tuple[int, bool]:
    """``(instant, exists)`` for a wall-clock time in ``zone``.

    Ambiguous → first occurrence (fold=0). Nonexistent (in a gap) → the first
    valid instant after it, which is the transition, with ``exists`` False.
    Worked example, America/New_York 2026-03-08, wall 02:30: fold=0 reads it
    with EST (-5 h) → 07:30Z, but 07:30Z is already EDT (03:30 local), so
    02:30 does not exist; fold=1 reads it with EDT → 06:30Z, still EST; the
    bisection between 06:30Z and 07:30Z finds the transition at 07:00Z.
    """
    offset = _wall_offset(zone, wall)
    instant = wall - offset
    if _instant_offset(zone, instant) == offset:
        return instant, True
    earlier = min(wall - _wall_offset(zone, wall, fold=1), instant - 1)
    later = instant
    offset_earlier = _instant_offset(zone, earlier)
    while later - earlier > 1:
        middle = (earlier + later) // 2
        if _instant_offset(zone, middle) == offset_earlier:
            earlier = middle
        else:
            later = middle
    return later, False
