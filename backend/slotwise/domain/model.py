"""Value types of the booking domain.

Everything here is plain data: no I/O, no clock, no framework. Instants are
aware ``datetime`` objects in UTC; wall-clock values (opening hours, dates) are
naive and are interpreted in the zone named next to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ResourceKind(StrEnum):
    PERSON = "person"
    ROOM = "room"
    COURT = "court"
    TABLE = "table"
    EQUIPMENT = "equipment"
    VEHICLE = "vehicle"
    OTHER = "other"


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """A wall-clock range within one day, in minutes since local midnight.

    09:00-12:30 is ``TimeRange(540, 750)``; a range that runs to midnight ends
    at 1440 (``24:00``). Minutes keep the arithmetic plain integer sums.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 24 * 60:
            raise ValueError(f"invalid time range {self.start_minute}-{self.end_minute}")

    @property
    def start(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Monday is 0, as in ``date.weekday()``.
WeeklyHours = dict[int, tuple[TimeRange, ...]]


@dataclass(frozen=True, slots=True)
class ResourceCalendar:
    """When one resource is open, in its own zone.

    On a given local date the resource is open during its weekly hours for that
    weekday, unless the date is in ``closed`` (or closed for the whole site),
    plus any ``extra_open`` ranges for that date (an explicit extra opening wins
    over a closure of the same date).
    """

    key: str
    zone: ZoneInfo
    weekly: WeeklyHours
    closed: frozenset[date] = frozenset()
    extra_open: dict[date, tuple[TimeRange, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """The parts of a service that decide when it can be booked.

    ``resource_groups`` lists, per group, the keys of resources that can deliver
    the service; a booking takes one resource from each group (e.g. one
    therapist *and* one room). Slot starts follow the grid of the resources in
    the first group; resources of later groups only need to be open and free.
    """

    key: str
    duration: timedelta
    step: timedelta
    resource_groups: tuple[tuple[str, ...], ...]
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    max_advance: timedelta = timedelta(days=365)
    seats: int = 1


@dataclass(frozen=True, slots=True)
class Busy:
    """Time a resource is already committed: a booking or a live hold.

    ``blocked_from``/``blocked_until`` include the buffers of the service that
    was booked. ``service`` and ``start`` let a group session be joined: another
    seat of the same service at the same start shares the block instead of
    colliding with it. ``seats`` is how many seats this entry takes.
    """

    resource: str
    blocked_from: datetime
    blocked_until: datetime
    service: str | None = None
    start: datetime | None = None
    seats: int = 1


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start, UTC, with one resource per group of the service."""

    start: datetime
    end: datetime
    resources: tuple[str, ...]
    seats_left: int = 1
