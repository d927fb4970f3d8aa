"""The back office's day grid (pure): rows, shading of closed hours and time off, the line for now; cookie flags."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from slotwise.domain.actors import Actor
from slotwise.domain.model import Resource, ResourceCalendar, ResourceKind, Site, TimeOff, TimeRange
from slotwise.i18n import Formatter
from slotwise.services.day_sheet import DaySheet, _opening
from slotwise.settings import Settings
from slotwise.web.back_office.present import grid
from slotwise.web.back_office.session import csrf_token, secure_cookies

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 24)  # a Tuesday
TEXTS = {"closed": "Closed", "off": "Time off", "held": "Being booked"}


def resource(key: str, weekly, **calendar) -> Resource:
    return Resource(id=1, key=key, name=key.title(), kind=ResourceKind.PERSON,
                    calendar=ResourceCalendar(key=key, zone=BERLIN, weekly=weekly, **calendar))


def sheet(*resources: Resource, time_off=(), site_closed=False) -> DaySheet:
    site = Site(id=1, slug="s", name="S", timezone="Europe/Berlin", locale="en")
    return DaySheet(site=site, day=DAY, zone=BERLIN, resources=list(resources), services={}, bookings=[],
                    time_off=list(time_off), openings={r.key: _opening(r, DAY, site_closed) for r in resources},
                    site_closed=site_closed)


def test_hours_outside_the_opening_are_shaded_and_rows_count_from_the_first_hour():
    anna = resource("anna", {1: (TimeRange(9 * 60, 12 * 60), TimeRange(13 * 60, 17 * 60))})
    shown = grid(sheet(anna), Formatter("en"), datetime(2026, 11, 24, 9, 30, tzinfo=UTC), texts=TEXTS)
    assert shown.first_hour == 8 and shown.rows == (18 - 8) * 12
    closed = [(b.at, b.length) for b in shown.columns[0].blocks if b.kind == "closed"]
    # 08:00-09:00, 12:00-13:00, 17:00-18:00 in five-minute rows.
    assert closed == [(1, 12), (49, 12), (109, 12)]
    assert shown.hours[0] == (1, "08:00") and shown.hours[1] == (13, "09:00")
    # 09:30 UTC is 10:30 in Berlin: row 2.5 hours in.
    assert shown.now_row == 30 * 5 // 5 + 1


def test_a_closed_day_is_closed_unless_an_extra_opening_says_otherwise_and_time_off_is_a_block():
    weekly = {1: (TimeRange(9 * 60, 17 * 60),)}
    closed = resource("ben", weekly, closed=frozenset({DAY}))
    extra = resource("cara", weekly, closed=frozenset({DAY}), extra_open={DAY: (TimeRange(10 * 60, 11 * 60),)})
    leave = TimeOff(id=1, public_id="off_1", resource="cara", start=datetime(2026, 11, 24, 14, 0, tzinfo=BERLIN),
                    end=datetime(2026, 11, 24, 15, 30, tzinfo=BERLIN), reason="Dentist", actor=Actor.system("t"),
                    created_at=datetime(2026, 11, 1, tzinfo=UTC))
    shown = grid(sheet(closed, extra, time_off=[leave]), Formatter("en"), datetime(2026, 11, 1, tzinfo=UTC),
                 texts=TEXTS)
    ben, cara = shown.columns
    assert ben.closed and not cara.closed
    assert [b.kind for b in cara.blocks].count("off") == 1
    off = next(b for b in cara.blocks if b.kind == "off")
    assert off.label == "Dentist" and off.length == 18
    assert shown.now_row is None  # another day: no line


def test_the_session_cookie_is_secure_except_on_a_plain_http_development_server():
    settings = Settings.from_env({"SLOTWISE_DATABASE_URL": "sqlite:///x.sqlite", "SLOTWISE_SECRET_KEY": "k" * 40,
                                  "SLOTWISE_BASE_URL": "https://book.example.com"})
    assert secure_cookies(settings)
    assert not secure_cookies(replace(settings, base_url="http://127.0.0.1:8000"))
    assert csrf_token(settings, "a") != csrf_token(settings, "b")
    assert csrf_token(settings, "a") != csrf_token(replace(settings, secret_key="other" * 8), "a")


def test_messages_are_named_in_words_and_the_teams_own_notes_say_so():
    from slotwise.web.back_office.present import message_line

    row = {"event": "staff-confirmed", "channel": "email", "recipient": "team@example.com", "status": "failed",
           "last_error": "550 no such user", "send_at": datetime(2026, 11, 24, 8, 0, tzinfo=UTC), "sent_at": None}
    line = message_line(row, Formatter("de"), BERLIN)
    assert line["event"] == "Hinweis ans Team: Bestätigung"
    assert line["status"] == "fehlgeschlagen" and line["failed"]
    assert message_line({**row, "event": "reminder", "status": "sent"}, Formatter("en"), BERLIN)["event"] == "Reminder"
