"""Owner message templates in the site file."""

from typing import get_args

import pytest
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.services import email_content, sms_content
from slotwise.sitefile import Locale, SiteFileError, parse_site

SITE = """
[site]
slug = "salon"
name = "Salon"
timezone = "Europe/Berlin"

[[resources]]
key = "ida"
name = "Ida"
kind = "person"

[[services]]
slug = "cut"
name = "Haircut"
duration = 30
resources = ["ida"]
"""


def test_templates_are_read_by_channel_and_name():
    spec = parse_site(SITE + """
[templates.email]
"confirmed.de.subject.txt" = "Ihr Termin bei {{ site.name }}"
"reminder.html" = "<p>{{ booking.when }}</p>"

[templates.sms]
"confirmed" = "Booked: {{ when }}. {{ manage_url }}"
""", source="salon.toml")

    assert dict(spec.email_templates) == {
        "confirmed.de.subject.txt": "Ihr Termin bei {{ site.name }}", "reminder.html": "<p>{{ booking.when }}</p>"}
    assert dict(spec.sms_templates) == {"confirmed": "Booked: {{ when }}. {{ manage_url }}"}


def test_a_site_without_templates_has_none():
    spec = parse_site(SITE, source="salon.toml")
    assert dict(spec.email_templates) == {} and dict(spec.sms_templates) == {}


@pytest.mark.parametrize(
    ("table", "path", "phrase"),
    [
        pytest.param('[templates.email]\n"confirmd.txt" = "x"', 'templates.email."confirmd.txt"',
                     "unknown template name", id="misspelt-event"),
        pytest.param('[templates.email]\n"confirmed.fr.txt" = "x"', 'templates.email."confirmed.fr.txt"',
                     "unknown template name", id="unsupported-locale"),
        pytest.param('[templates.sms]\n"confirmed.txt" = "x"', 'templates.sms."confirmed.txt"',
                     "unknown template name", id="email-name-for-sms"),
        pytest.param('[templates.email]\n"confirmed.txt" = "{% if %}"', 'templates.email."confirmed.txt"',
                     "template error on line 1", id="syntax-error"),
        pytest.param('[templates.email]\n"confirmed.txt" = " "', 'templates.email."confirmed.txt"',
                     "must be the template's text", id="blank"),
        pytest.param('[templates.fax]\n"confirmed" = "x"', "templates.fax", "unknown key", id="unknown-channel"),
    ],
)
def test_a_bad_template_is_reported_with_its_path(table, path, phrase):
    with pytest.raises(SiteFileError) as caught:
        parse_site(SITE + "\n" + table + "\n", source="salon.toml")

    [problem] = caught.value.problems
    assert problem.path == path
    assert phrase in problem.message


def test_the_site_file_knows_the_same_events_as_the_message_builders():
    assert MESSAGE_EVENTS == tuple(email_content.EVENTS) == tuple(sms_content.EVENTS)


def test_the_site_file_locale_type_lists_the_supported_locales():
    assert get_args(Locale) == SUPPORTED_LOCALES
