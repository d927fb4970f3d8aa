"""Rendering the customer's booking emails: parts, languages, escaping, overrides, the .ics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from slotwise.domain.colours import contrast, email_button
from slotwise.domain.model import Booking
from slotwise.domain.policy import Deadlines
from slotwise.services.email_content import EVENTS, build_booking_email

from tests.support.bookings import sample_booking

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
MANAGE_URL = "https://book.example/manage/tok3n?a=1&b=2"
XSS = "<script>alert(1)</script>"


def record(**changes) -> Booking:
    return sample_booking(**changes)


# The start is Tuesday 24 November 09:00 in Berlin; cancel until 24 h and move until 12 h before.
DEADLINES = Deadlines(cancel=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
                      reschedule=datetime(2026, 11, 23, 20, 0, tzinfo=UTC))


def build(rec: Booking | None = None, *, event: str = "confirmed", overrides=None,
          deadlines: Deadlines | None = DEADLINES):
    return build_booking_email(
        rec or record(), event=event, manage_url=MANAGE_URL, mail_from="bookings@slotwise.example",
        message_id="<0001@slotwise.example>", now=NOW, deadlines=deadlines, overrides=overrides,
    )


def calendar_of(email) -> Calendar:
    (attachment,) = email.attachments
    return Calendar.from_ical(attachment.content)


def test_confirmation_has_both_parts_headers_and_manage_link() -> None:
    email = build()
    assert email.to == "jo@example.com"
    assert email.from_name == "Studio Müller"
    assert email.from_address == "bookings@slotwise.example"
    assert email.reply_to == "hello@studio.example"
    assert email.message_id == "<0001@slotwise.example>"
    assert email.subject.startswith("Booking confirmed: Consultation")
    when = "Tuesday 24 November 2026, 09:00–09:45 (Europe/Berlin)"
    assert when in email.subject
    assert "Hello Jo Smith" in email.text and when in email.text
    assert "Anna Berg, Room 1" in email.text and "€25.00" in email.text
    assert "Where:   Marktplatz 1, 10115 Berlin" in email.text and "Marktplatz 1, 10115 Berlin</td>" in email.html
    assert MANAGE_URL in email.text
    assert 'href="https://book.example/manage/tok3n?a=1&amp;b=2"' in email.html
    assert "Jo Smith" in email.html and when in email.html
    assert email.html.lstrip().startswith("<!DOCTYPE html>") and 'lang="en"' in email.html


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", ["en", "de"])
def test_every_event_renders_in_every_language(event: str, locale: str) -> None:
    email = build(record(locale=locale), event=event)
    assert email.subject and "\n" not in email.subject
    assert MANAGE_URL in email.text
    assert "a=1&amp;b=2" in email.html
    assert f'lang="{locale}"' in email.html
    assert "{{" not in email.text and "{%" not in email.html


@pytest.mark.parametrize(
    ("deadlines", "sentence"),
    [
        pytest.param(DEADLINES, "You can move your booking online until Monday 23 November 2026, 21:00 "
                     "and cancel it until Monday 23 November 2026, 09:00 with this private link:", id="both"),
        pytest.param(Deadlines(DEADLINES.cancel, DEADLINES.cancel), "You can move or cancel your booking online "
                     "until Monday 23 November 2026, 09:00 with this private link:", id="the-same-cut-off"),
        pytest.param(Deadlines(DEADLINES.cancel, None), "You can cancel your booking online until "
                     "Monday 23 November 2026, 09:00 with this private link:", id="no-moves-left"),
        pytest.param(Deadlines(None, None), "Your booking is always up to date at this private link; "
                     "to change it now, please contact Studio Müller:", id="nothing-left-online"),
    ],
)
def test_the_email_promises_only_what_the_policy_still_allows(deadlines, sentence) -> None:
    email = build(deadlines=deadlines)

    assert f"{sentence}\n{MANAGE_URL}\n" in email.text
    assert f"{sentence}<br>" in email.html.replace("&amp;", "&")
    assert "at any time" not in email.text


def test_a_reminder_asks_first_whether_the_customer_can_come() -> None:
    email = build(event="reminder")

    assert "Can't make it? You can move your booking online until" in email.text


def test_german_email() -> None:
    email = build(record(locale="de"))
    assert email.subject == "Buchung bestätigt: Consultation, Dienstag, 24. November 2026, 09:00–09:45 (Europe/Berlin)"
    assert "Guten Tag Jo Smith" in email.text
    assert "Wann:" in email.text and "25,00\xa0€" in email.text  # Babel's no-break space
    assert "Buchung ändern oder stornieren" in email.html


def test_unsupported_locale_falls_back_to_english() -> None:
    email = build(record(locale="fr"))
    assert email.subject.startswith("Booking confirmed")


def test_times_in_customer_zone_with_the_business_time_when_it_differs() -> None:
    email = build(record(timezone="Europe/London"))
    assert "Tuesday 24 November 2026, 08:00–08:45 (Europe/London)" in email.text
    assert "local time at Studio Müller: 09:00–09:45 (Europe/Berlin)" in email.text
    same_zone = build()
    assert "local time at" not in same_zone.text


def test_customer_typed_markup_is_escaped_in_html_and_plain_in_text() -> None:
    email = build(record(customer_name=XSS, service_name=f"Cut {XSS}"))
    assert XSS not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert f"Hello {XSS}," in email.text
    assert "<script>" not in email.html


def test_subject_and_headers_have_no_line_breaks() -> None:
    evil = "Consultation\r\nBcc: victim@example.com\nX-Evil: 1"
    email = build(record(service_name=evil, site_name="Studio\r\nX-Injected: yes"))
    assert "\n" not in email.subject and "\r" not in email.subject
    assert "Consultation Bcc: victim@example.com X-Evil: 1" in email.subject
    assert "\n" not in email.from_name and "\r" not in email.from_name
    assert email.from_name == "Studio X-Injected: yes"


def test_owner_override_renders_in_the_sandbox() -> None:
    overrides = {
        "confirmed.en.txt": "Hi {{ customer.name }}! {{ service.name }} on {{ booking.when }}. {{ manage_url }}",
        "confirmed.en.html": "<p>Hi {{ customer.name }}</p><a href='{{ manage_url }}'>manage</a>",
        "confirmed.subject.txt": "See you, {{ customer.name }}\n(line two)",
    }
    email = build(record(customer_name=XSS), overrides=overrides)
    assert email.text.startswith(f"Hi {XSS}! Consultation on Tuesday 24 November 2026")
    assert email.text.endswith(MANAGE_URL)
    assert email.html.startswith("<p>Hi &lt;script&gt;")  # autoescape applies to owners too
    assert email.subject == f"See you, {XSS} (line two)"
    # The German email is not touched by the English override, but by the any-language subject.
    german = build(record(locale="de"), overrides=overrides)
    assert german.text.startswith("Guten Tag")
    assert german.subject == "See you, Jo Smith (line two)"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ().__class__.__mro__ }}",
        "{{ ().__class__.__mro__[1].__subclasses__() }}",
        "{{ customer.__class__ }}",
        "{{ booking.start.__class__.__init__.__globals__ }}",
        "{{ resources.append('x') }}",  # the immutable sandbox: no mutation either
    ],
)
def test_override_cannot_escape_the_sandbox(source: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="slotwise.messages"):
        email = build(overrides={"confirmed.en.txt": source})
    assert email.text.startswith("Hello Jo Smith")  # the default template
    assert "object" not in email.text.split("\n")[0]
    messages = [r.getMessage() for r in caplog.records if r.name == "slotwise.messages"]
    assert any("confirmed.en.txt" in m and "using the default template" in m for m in messages)


def test_sandbox_violation_is_a_security_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="slotwise.messages"):
        build(overrides={"confirmed.en.html": "{{ ().__class__.__mro__ }}"})
    assert any("SecurityError" in r.getMessage() for r in caplog.records)


def test_broken_or_misspelt_override_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="slotwise.messages"):
        email = build(overrides={"confirmed.en.txt": "{{ custmer.name }}",
                                 "confirmed.en.html": "{% if %}"})
    assert email.text.startswith("Hello Jo Smith")
    assert "Hello Jo Smith" in email.html
    names = " ".join(r.getMessage() for r in caplog.records)
    assert "UndefinedError" in names and "TemplateSyntaxError" in names


def test_confirmation_ics_request() -> None:
    email = build(record(sequence=0))
    (attachment,) = email.attachments
    assert attachment.filename == "booking.ics" and attachment.mime_type == "text/calendar"
    assert attachment.params == {"method": "REQUEST", "charset": "utf-8"}
    calendar = calendar_of(email)
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "5f0c1c7e-8d3b-4c49-9d1e-0a6b7c8d9e10@slotwise"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 24, 8, 45, tzinfo=UTC)


def test_rescheduled_ics_keeps_uid_and_raises_sequence() -> None:
    moved = record(sequence=1, start=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
                   end=datetime(2026, 11, 25, 9, 45, tzinfo=UTC))
    event = calendar_of(build(moved, event="rescheduled")).walk("VEVENT")[0]
    assert str(event["UID"]) == "5f0c1c7e-8d3b-4c49-9d1e-0a6b7c8d9e10@slotwise"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_cancellation_ics_cancel_and_reminder_without_ics() -> None:
    cancelled = build(record(status="cancelled", sequence=2), event="cancelled")
    assert cancelled.attachments[0].params["method"] == "CANCEL"
    calendar = calendar_of(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert build(event="reminder").attachments == ()


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError):
        build(event="deleted")


@pytest.mark.parametrize(
    ("accent", "button", "text"),
    [
        pytest.param(None, "#1c1917", "#ffffff", id="no-accent-dark-ink"),
        pytest.param("#0a7f6f", "#0a7f6f", "#ffffff", id="dark-accent-as-is"),
        pytest.param("#ffdd00", "#7f6e00", "#ffffff", id="pale-accent-darkened"),
    ],
)
def test_the_button_uses_the_sites_accent_or_a_readable_shade_of_it(accent, button, text) -> None:
    for event in ("confirmed", "cancelled"):
        email = build_booking_email(
            record(), event=event, manage_url=MANAGE_URL, mail_from="bookings@slotwise.example",
            message_id="<0001@slotwise.example>", now=NOW, deadlines=DEADLINES, accent=accent)

        assert f"display:inline-block;background:{button};color:{text};" in email.html, event
    assert email_button(accent.lstrip("#") if accent else None)["button"] == button
    if accent:
        assert contrast(button[1:], text[1:]) >= 4.5 and contrast(button[1:], "ffffff") >= 3


def test_the_sites_email_address_does_not_break_inside() -> None:
    assert ('<a href="mailto:hello@studio.example" style="white-space:nowrap">hello@studio.example</a>'
            in build().html)
