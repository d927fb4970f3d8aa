"""Busy blocks from iCalendar text: zones, all-day dates, recurrence, transparency, our own UIDs, bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from slotwise.domain.external_busy import BadCalendar, busy_blocks, is_ours

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = {"start": datetime(2026, 11, 23, tzinfo=UTC), "end": datetime(2026, 12, 23, tzinfo=UTC),
          "zone": BERLIN, "limit": 1000}


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\nDTSTAMP:20261101T000000Z\r\n{e}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}END:VCALENDAR\r\n".encode()


def spans(text: bytes, **window) -> list[tuple[str, str]]:
    return [(b.start.isoformat(), b.end.isoformat()) for b in busy_blocks(text, **{**WINDOW, **window})]


@pytest.mark.parametrize(("event", "expected"), [
    # A zoned time: 10:00 Berlin in winter is 09:00 UTC.
    ("UID:a\r\nDTSTART;TZID=Europe/Berlin:20261124T100000\r\nDTEND;TZID=Europe/Berlin:20261124T110000",
     [("2026-11-24T09:00:00+00:00", "2026-11-24T10:00:00+00:00")]),
    # UTC stays UTC.
    ("UID:b\r\nDTSTART:20261124T100000Z\r\nDURATION:PT30M",
     [("2026-11-24T10:00:00+00:00", "2026-11-24T10:30:00+00:00")]),
    # Floating time: the resource's wall clock.
    ("UID:c\r\nDTSTART:20261124T100000\r\nDTEND:20261124T103000",
     [("2026-11-24T09:00:00+00:00", "2026-11-24T09:30:00+00:00")]),
    # All day: midnight to midnight in Berlin; no DTEND means one day.
    ("UID:d\r\nDTSTART;VALUE=DATE:20261125",
     [("2026-11-24T23:00:00+00:00", "2026-11-25T23:00:00+00:00")]),
    ("UID:e\r\nDTSTART:20261124T100000Z\r\nDTEND:20261124T110000Z\r\nTRANSP:TRANSPARENT", []),
    ("UID:f\r\nDTSTART:20261124T100000Z\r\nDTEND:20261124T110000Z\r\nSTATUS:CANCELLED", []),
    # A booking of ours written back: never blocks itself.
    ("UID:0b7c2a36-5d2e-4a57-9c31-2f7f1d6f3a10@slotwise\r\nDTSTART:20261124T100000Z\r\nDTEND:20261124T110000Z",
     []),
    # Outside the window.
    ("UID:g\r\nDTSTART:20270301T100000Z\r\nDTEND:20270301T110000Z", []),
])
def test_one_event_becomes_these_blocks(event, expected):
    assert spans(ics(event)) == expected


def test_a_weekly_event_is_expanded_over_the_window_only_across_the_clock_change():
    weekly = "UID:w\r\nDTSTART;TZID=Europe/Berlin:20261020T140000\r\nDTEND;TZID=Europe/Berlin:20261020T150000\r\nRRULE:FREQ=WEEKLY"
    found = spans(ics(weekly))
    # 14:00 Berlin is 13:00 UTC in winter; the October (summer time) weeks are before the window.
    assert found[:2] == [("2026-11-24T13:00:00+00:00", "2026-11-24T14:00:00+00:00"),
                         ("2026-12-01T13:00:00+00:00", "2026-12-01T14:00:00+00:00")]
    assert len(found) == 5  # 24 Nov, 1, 8, 15, 22 Dec


def test_an_endless_rule_costs_bounded_work():
    every_second = "UID:s\r\nDTSTART:20261124T100000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY"
    with pytest.raises(BadCalendar, match="more than 1000"):
        busy_blocks(ics(every_second), **WINDOW)


@pytest.mark.parametrize("text", [b"", b"not a calendar", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n"])
def test_broken_text_is_a_bad_calendar(text):
    with pytest.raises(BadCalendar):
        busy_blocks(text, **WINDOW)


def test_only_our_booking_uids_count_as_ours():
    assert is_ours("0b7c2a36-5d2e-4a57-9c31-2f7f1d6f3a10@slotwise")
    assert not is_ours("meeting@slotwise") and not is_ours("0b7c2a36-5d2e-4a57-9c31-2f7f1d6f3a10@google.com")
