"""One's own messages and custom variables: rendering and escaping, the limits, the sandbox flag in site files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slotwise.services.email_content import build_booking_email, build_custom_email
from slotwise.services.errors import FieldProblem
from slotwise.services.message_templates import CUSTOM_MAX_COUNT, check_custom_variables, stored_name
from slotwise.services.sms_content import build_booking_sms
from slotwise.sitefile import parse_site_data
from slotwise.sitefile.writing import site_document, without_nulls

from tests.support.bookings import sample_booking
from tests.support.sitefiles import TEST_SITE, parse_test_site

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def test_ones_own_text_keeps_its_paragraphs_and_is_escaped_in_html() -> None:
    email = build_custom_email(sample_booking(), text=f"Line one\r\nline {XSS}\n\n\nNew\x07 paragraph",
                               subject="About\r\nBcc: x@evil.example", manage_url="https://b.example/m/t",
                               mail_from="bookings@slotwise.example", message_id="<1@slotwise.example>")
    assert email.subject == "About Bcc: x@evil.example"
    assert f"Line one\nline {XSS}\n\n\nNew paragraph" in email.text
    assert "<script>" not in email.html
    assert "Line one<br>line &lt;script&gt;alert(1)&lt;/script&gt;</p>" in email.html
    assert ">New paragraph</p>" in email.html
    assert "https://b.example/m/t" in email.text and email.attachments == ()


def test_ones_own_text_without_a_subject_gets_the_default_in_the_bookings_language() -> None:
    english = build_custom_email(sample_booking(), text="Hi", subject=None, manage_url="u", mail_from="a@b.example",
                                 message_id="<1@b.example>")
    german = build_custom_email(sample_booking(locale="de"), text="Hallo", subject=None, manage_url="u",
                                mail_from="a@b.example", message_id="<1@b.example>")
    assert english.subject == "A message from Studio Müller about your booking"
    assert german.subject == "Eine Nachricht von Studio Müller zu Ihrem Termin"


def test_custom_variables_reach_owner_templates_escaped_and_are_empty_in_automatic_messages() -> None:
    overrides = {"reminder.html": "<p>{{ custom.room | default('none') }}</p>",
                 "reminder.txt": "Room {{ custom.room | default('none') }}"}
    args = dict(event="reminder", manage_url="u", mail_from="a@b.example", message_id="<1@b.example>", now=NOW,
                overrides=overrides)
    sent = build_booking_email(sample_booking(), custom={"room": f"{XSS}\nBcc: x"}, **args)
    automatic = build_booking_email(sample_booking(), **args)
    assert sent.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; Bcc: x</p>"
    assert sent.text == f"Room {XSS} Bcc: x"
    assert (automatic.html, automatic.text) == ("<p>none</p>", "Room none")

    sms = build_booking_sms(sample_booking(), event="reminder", manage_url="u", from_number="+1",
                            template="Room {{ custom.room }}", custom={"room": "2\u201314\nnext"})
    assert sms.body == "Room 2-14 next"


@pytest.mark.parametrize(("raw", "expected", "fields"), [
    (None, {}, []),
    ({"room": "2.14", "floor": 2, "vip": True, "ratio": 0.5}, {"room": "2.14", "floor": "2", "vip": "true",
                                                              "ratio": "0.5"}, []),
    ({"1st": "x", "_private": "x", "with-dash": "x", "ä": "x", "n" * 41: "x"}, {},
     ["variables.1st", "variables._private", "variables.with-dash", "variables.ä", "variables." + "n" * 41]),
    ({"a": "x" * 501, "b": ["list"], "c": None}, {}, ["variables.a", "variables.b", "variables.c"]),
    ({f"v{i}": "x" for i in range(CUSTOM_MAX_COUNT + 1)}, {}, ["variables"]),
    (["not", "a", "mapping"], {}, ["variables"]),
])
def test_custom_variables_limits(raw, expected, fields) -> None:
    problems: list[FieldProblem] = []
    assert check_custom_variables(raw, problems) == expected
    assert [p.field for p in problems] == fields


@pytest.mark.parametrize(("event", "channel", "locale", "part", "name"), [
    ("confirmed", "email", "de", "text", "confirmed.de.txt"),
    ("confirmed", "email", "any", "subject", "confirmed.subject.txt"),
    ("reminder", "email", "en", "html", "reminder.en.html"),
    ("reminder", "sms", "de", "body", "reminder.de"),
    ("cancelled", "sms", "any", "body", "cancelled"),
])
def test_the_api_names_a_template_by_the_site_files_name(event, channel, locale, part, name) -> None:
    assert stored_name(event, channel, locale, part) == name


def test_sandbox_is_read_from_a_site_file_and_written_back() -> None:
    spec = parse_test_site(TEST_SITE.replace('locale = "en"', 'locale = "en"\nsandbox = true'))
    assert spec.sandbox is True
    document = without_nulls(site_document(spec))
    assert document["site"]["sandbox"] is True
    assert parse_site_data(document, source="doc") == spec
    assert parse_test_site().sandbox is False
