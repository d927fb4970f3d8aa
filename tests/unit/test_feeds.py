"""The pure parts of calendar feeds: the calendar, its ETag, conditional GETs, the window, the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ics
from icalendar import Calendar
from slotwise.domain.model import BookingStatus
from slotwise.services import feeds
from slotwise.services.calendar_files import booking_calendar, booking_uid
from slotwise.web.rate_limit import counts_as_read, counts_as_write

from tests.support.bookings import sample_booking

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def test_the_calendar_is_the_same_bytes_for_the_same_bookings_whenever_it_is_built() -> None:
    booking = sample_booking(updated_at=NOW)
    first = feeds.feed_calendar([booking], name="Studio", customer_names=False)
    assert feeds.feed_calendar([booking], name="Studio", customer_names=False) == first
    same = feeds.fingerprint_of([booking], name="Studio", customer_names=False)
    assert feeds.fingerprint_of([sample_booking(updated_at=NOW)], name="Studio", customer_names=False) == same
    moved = sample_booking(updated_at=NOW + timedelta(minutes=1), sequence=1,
                           start=booking.start + timedelta(hours=1), end=booking.end + timedelta(hours=1))
    assert feeds.feed_calendar([moved], name="Studio", customer_names=False) != first
    # Whatever the body is built from changes the fingerprint (and so the ETag).
    for other in ([moved], [booking, moved], [], [sample_booking(updated_at=NOW, customer_name="Kim")],
                  [sample_booking(updated_at=NOW, service_name="Massage")]):
        assert feeds.fingerprint_of(other, name="Studio", customer_names=False) != same
    assert feeds.fingerprint_of([booking], name="Studio 2", customer_names=False) != same
    assert feeds.fingerprint_of([booking], name="Studio", customer_names=True) != same
    assert feeds.entity_tag_of(same) == f'W/"{same[:32]}"'


def test_each_event_has_the_uid_of_the_emailed_file_and_what_rfc_5545_requires() -> None:
    booking = sample_booking(updated_at=NOW + timedelta(hours=1), sequence=2)
    [event] = events(feeds.feed_calendar([booking], name="Studio", customer_names=False))
    emailed = events(booking_calendar(booking, manage_url="https://x.example/manage/t", now=NOW))[0]
    assert str(event["UID"]) == str(emailed["UID"]) == booking_uid(booking)
    assert event.decoded("DTSTAMP") == NOW + timedelta(hours=1)  # its last change, not the clock
    assert event.decoded("DTSTART") == booking.start and event.decoded("DTEND") == booking.end
    assert event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Marktplatz 1, 10115 Berlin"
    assert booking.public_id in str(event["DESCRIPTION"])


def test_an_event_without_a_recorded_change_uses_its_creation_as_its_stamp() -> None:
    booking = sample_booking(updated_at=None)
    [event] = events(feeds.feed_calendar([booking], name="Studio", customer_names=False))
    assert event.decoded("DTSTAMP") == booking.created_at


def test_the_customer_is_named_only_when_allowed_and_their_text_is_escaped() -> None:
    booking = sample_booking(updated_at=NOW, customer_name="Jo, \\Smith; Jr.\nX")
    hidden = feeds.feed_calendar([booking], name="Studio", customer_names=False)
    assert b"Jo" not in hidden and b"jo@example.com" not in hidden
    shown = feeds.feed_calendar([booking], name="Studio", customer_names=True)
    [event] = events(shown)
    assert str(event["SUMMARY"]) == "Consultation – Jo, \\Smith; Jr.\nX"
    assert b"Jo\\, \\\\Smith\\; Jr.\\nX" in shown.replace(b"\r\n ", b"")
    # Never the email or phone, even with names on.
    assert b"jo@example.com" not in shown and b"+491701234567" not in shown
    [parsed] = ics.Calendar(shown.decode()).events
    assert parsed.name == "Consultation – Jo, \\Smith; Jr.\nX"


def test_cancelled_bookings_are_left_out() -> None:
    cancelled = sample_booking(updated_at=NOW, status=BookingStatus.CANCELLED)
    assert events(feeds.feed_calendar([cancelled], name="Studio", customer_names=False)) == []


def test_the_calendar_names_itself_and_asks_to_be_polled_every_15_minutes() -> None:
    calendar = Calendar.from_ical(feeds.feed_calendar([], name="Anna Berg – Studio", customer_names=False))
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"]) == "Anna Berg – Studio"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(minutes=15)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]) == "-//Slotwise//Booking//EN"
    assert "METHOD" not in calendar  # a feed, not a message: DTSTAMP may then be the last change


def test_the_window_runs_from_30_days_before_today_to_90_days_after() -> None:
    start, end = feeds.window(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))
    assert start == datetime(2026, 10, 24, tzinfo=UTC)
    assert end == datetime(2027, 2, 22, tzinfo=UTC)  # today + 91 days: the 90th day is whole


ETAG = 'W/"abc"'
CHANGED = datetime(2026, 11, 23, 7, 0, 5, 500000, tzinfo=UTC)


def conditional(inm: str | None = None, ims: str | None = None) -> bool:
    return feeds.not_modified(if_none_match=inm, if_modified_since=ims, etag=ETAG, last_modified=CHANGED)


def test_if_none_match_compares_weakly_and_decides_when_present() -> None:
    assert conditional(inm=ETAG)
    assert conditional(inm='"abc"')
    assert conditional(inm='"zzz", W/"abc"')
    assert conditional(inm="*")
    assert not conditional(inm='"zzz"')
    # If-None-Match wins over a matching If-Modified-Since (RFC 9110 13.2.2).
    assert not conditional(inm='"zzz"', ims=feeds.http_date(CHANGED))


def test_if_modified_since_compares_whole_seconds_and_ignores_nonsense() -> None:
    assert feeds.http_date(CHANGED) == "Mon, 23 Nov 2026 07:00:05 GMT"
    assert conditional(ims="Mon, 23 Nov 2026 07:00:05 GMT")
    assert conditional(ims="Mon, 23 Nov 2026 08:00:00 GMT")
    assert not conditional(ims="Mon, 23 Nov 2026 07:00:04 GMT")
    assert not conditional(ims="yesterday")
    assert not conditional(ims="")
    assert not conditional()


def test_a_feed_token_is_derived_from_its_salt_and_the_secret_key() -> None:
    salt = feeds.new_feed_salt()
    assert len(salt) == 48  # 192 random bits
    token = feeds.feed_token("secret", salt)
    assert token == feeds.feed_token("secret", salt)
    assert token != feeds.feed_token("other secret", salt)
    assert token != feeds.feed_token("secret", feeds.new_feed_salt())
    assert len(token) == 43
    assert feeds.feed_url("https://book.example", token) == f"https://book.example/feeds/{token}.ics"


def test_fetching_a_feed_counts_against_neither_budget() -> None:
    # Calendar programs poll feeds; the URL is a 256-bit secret, not something to guess.
    assert not counts_as_read("GET", "/feeds/abc.ics")
    assert not counts_as_write("GET", "/feeds/abc.ics")
