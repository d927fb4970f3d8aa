"""Busy time from outside calendars: iCalendar text in, ``[start, end)`` blocks in UTC out.

Pure: no I/O and no clock; the sync (``services/calendars.py``) fetches the
text and hands over the window and the resource's zone. Recurring events are
expanded with ``recurring-ical-events`` over the window only, in start order,
and the expansion stops at ``limit`` blocks, so an endless ``FREQ=SECONDLY``
rule costs bounded work. Transparent (``TRANSP:TRANSPARENT``) and cancelled
events do not block. An all-day event blocks its dates from midnight to
midnight in the resource's zone; a floating time (no zone) is read in that
zone too, as a calendar program on the staff member's desk would show it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

# Our own bookings' UIDs (services/calendar_files.booking_uid): "<uuid>@slotwise".
OUR_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@slotwise$")


class BadCalendar(ValueError):
    """The text is not an iCalendar we can read, or asks for more work than allowed."""


@dataclass(frozen=True, slots=True)
class ExternalBusy:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, after start
    uid: str


def is_ours(uid: str) -> bool:
    """A booking of ours written back to the calendar: it must not block itself."""
    return bool(OUR_UID.match(uid))


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):  # an all-day event's date: midnight in the resource's zone
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:  # floating time: the resource's wall clock
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)


def busy_blocks(text: bytes, *, start: datetime, end: datetime, zone: ZoneInfo, limit: int,
                skip: Callable[[str], bool] = is_ours) -> list[ExternalBusy]:
    """The busy blocks of the VEVENTs in ``text`` that overlap ``[start, end)``.

    Raises :class:`BadCalendar` for text that does not parse or for more than
    ``limit`` blocks in the window (a stored copy that large would slow every
    availability read; the connection shows the error instead).
    """
    try:
        calendar = Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError and friends for broken input
        raise BadCalendar(f"not a valid iCalendar file: {exc}") from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise BadCalendar("not a valid iCalendar file: no VCALENDAR")
    blocks: list[ExternalBusy] = []
    try:
        for event in recurring_ical_events.of(calendar, components=["VEVENT"]).after(start):
            begin = event.get("DTSTART")
            if begin is None:
                continue
            first = _instant(begin.dt, zone)
            if first >= end:
                break  # in start order: nothing later overlaps
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            uid = str(event.get("UID", ""))
            if skip(uid):
                continue
            finish = event.get("DTEND")
            if finish is not None:
                last = _instant(finish.dt, zone)
            elif event.get("DURATION") is not None:
                last = first + event["DURATION"].dt
            elif not isinstance(begin.dt, datetime):
                last = _instant(begin.dt + timedelta(days=1), zone)
            else:
                continue  # RFC 5545 3.6.1: a date-time start alone takes no time
            if last <= first or last <= start:
                continue
            blocks.append(ExternalBusy(first, last, uid[:255]))
            if len(blocks) > limit:
                raise BadCalendar(f"more than {limit} busy events in the booking horizon")
    except BadCalendar:
        raise
    except Exception as exc:  # broken RRULEs, impossible dates
        raise BadCalendar(f"the events cannot be read: {exc}") from None
    return blocks
