"""Owner text per language and custom fields in site files; the language fallback."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.locales import default_text, text_in
from slotwise.domain.metadata import metadata_problems
from slotwise.sitefile import SiteFileError, parse_service, parse_site, parse_site_data
from slotwise.sitefile.writing import service_table, site_document, without_nulls

from tests.support.bookings import sample_booking

HEAD = """
[site]
slug = "s"
name = "S"
timezone = "Europe/Berlin"
locale = "de"

[[resources]]
key = "anna"
name = { en = "Anna (physio)", de = "Anna (Physiotherapeutin)" }
kind = "person"
"""


def site(service: str):
    return parse_site(HEAD + "\n[[services]]\n" + service, source="t.toml")


def problems(service: str) -> dict[str, str]:
    with pytest.raises(SiteFileError) as caught:
        site(service)
    return {p.path: p.message for p in caught.value.problems}


def test_a_table_by_language_gives_the_sites_language_as_the_plain_text_and_keeps_the_table():
    spec = site('slug = "m"\nname = { en = "Massage", de = "Massagebehandlung" }\nduration = 60\n'
                'category = "Behandlungen"\nlisted_duration = 50\nask_address = true\nresources = ["anna"]\n'
                'metadata = { erp_id = "M-1", price_band = 2, taxable = false }')
    [service] = spec.services
    assert service.name == "Massagebehandlung"  # the site speaks German
    assert dict(service.texts["name"]) == {"en": "Massage", "de": "Massagebehandlung"}
    assert "category" not in service.texts and service.category == "Behandlungen"
    assert service.listed_duration == 50 and service.ask_address is True
    assert dict(service.metadata) == {"erp_id": "M-1", "price_band": 2, "taxable": False}
    assert spec.resources[0].name == "Anna (Physiotherapeutin)"


def test_a_table_without_the_sites_language_stands_for_its_first_language():
    [service] = site('slug = "m"\nname = { en = "Massage" }\nduration = 60\nresources = ["anna"]').services
    assert service.name == "Massage"


def test_tables_and_plain_strings_round_trip_through_the_writer():
    spec = site('slug = "m"\nname = { en = "Massage", de = "Massage DE" }\ndescription = "Nur deutsch"\n'
                'duration = 60\nresources = ["anna"]\n'
                'questions = [{ key = "a", label = { en = "Area", de = "Bereich" }, type = "select", '
                'options = [{ en = "Back", de = "Rücken" }, "Neck"] }]')
    [service] = spec.services
    table = service_table(service)
    assert table["name"] == {"en": "Massage", "de": "Massage DE"}
    assert table["description"] == "Nur deutsch"
    assert table["questions"][0]["options"] == [{"en": "Back", "de": "Rücken"}, "Neck"]
    assert parse_service(without_nulls(table), resources=["anna"], locale="de") == service
    assert parse_site_data(without_nulls(site_document(spec)), source="doc") == spec
    question = service.questions[0]
    assert question.options == ("Rücken", "Neck")  # the value stored is the site's language
    assert question.option_in("Rücken", "en") == "Back" and question.label_in("en") == "Area"


@pytest.mark.parametrize(("value", "path", "message"), [
    ('{ fr = "Massage" }', "services[0].name.fr", 'unknown language "fr"; use en, de'),
    ('{ de = "  " }', "services[0].name.de", "must not be empty"),
    ('{ de = "' + "x" * 201 + '" }', "services[0].name.de", "must be at most 200 characters, got 201"),
    ("{ }", "services[0].name", "must name at least one language (en, de)"),
    ("{ de = 3 }", "services[0].name.de", "must be text in quotes, got 3"),
    ("7", "services[0].name", 'must be text in quotes or a table by language such as { en = "…", de = "…" }, got 7'),
])
def test_per_language_text_is_checked_per_language_with_its_path(value, path, message):
    found = problems(f'slug = "m"\nname = {value}\nduration = 60\nresources = ["anna"]')
    assert found == {path: message}


@pytest.mark.parametrize(("metadata", "path"), [
    ('{ "Bad-Key" = 1 }', "services[0].metadata.Bad-Key"),
    ('{ note = "' + "x" * 501 + '" }', "services[0].metadata.note"),
    ("{ list = [1] }", "services[0].metadata.list"),
    ("{ " + ", ".join(f"k{n} = 1" for n in range(51)) + " }", "services[0].metadata"),
    ('{ ' + "k" * 41 + " = 1 }", "services[0].metadata." + "k" * 41),
])
def test_metadata_limits_are_checked_per_key(metadata, path):
    found = problems(f'slug = "m"\nname = "M"\nduration = 60\nresources = ["anna"]\nmetadata = {metadata}')
    assert list(found) == [path]


def test_the_listed_duration_is_whole_minutes_of_at_least_one():
    found = problems('slug = "m"\nname = "M"\nduration = 60\nlisted_duration = 0\nresources = ["anna"]')
    assert list(found) == ["services[0].listed_duration"]


@pytest.mark.parametrize(("value", "problems_found"), [
    ({"a": "x", "b": 1, "c": 2.5, "d": True}, []),
    ({"a": float("nan")}, [("a", "metadata-value", {})]),
    ({"1a": 1}, [("1a", "metadata-key", {"limit": 40})]),
    ({"a": None}, [("a", "metadata-value", {})]),
    ([], [(None, "object-expected", {})]),
])
def test_metadata_problems_as_a_table(value, problems_found):
    assert metadata_problems(value) == problems_found


@pytest.mark.parametrize(("texts", "locale", "expected"), [
    ({"name": {"en": "Massage", "de": "Massagebehandlung"}}, "de", "Massagebehandlung"),
    ({"name": {"en": "Massage", "de": "Massagebehandlung"}}, "en", "Massage"),
    ({"name": {"en": "Massage"}}, "de", "Default"),  # no German: the site's language
    ({}, "de", "Default"),
    ({"name": {"de": "X"}}, None, "Default"),
])
def test_text_in_falls_back_to_the_sites_language(texts, locale, expected):
    assert text_in(texts, "name", "Default", locale) == expected


def test_default_text_prefers_the_site_language_then_the_list_order():
    assert default_text({"de": "B", "en": "A"}, "de") == "B"
    assert default_text({"de": "B", "en": "A"}, "fr") == "A"


def test_a_booking_for_its_customer_names_things_in_their_language_and_ends_at_the_listed_duration():
    base = sample_booking()
    start = datetime(2026, 11, 24, 8, tzinfo=UTC)
    booking = replace(base, locale="de", start=start, end=start + timedelta(hours=1),
                      service=replace(base.service, name="Massage", texts={"name": {"de": "Massagebehandlung"}},
                                      listed_duration_minutes=50))
    shown = booking.for_customer()
    assert shown.service.name == "Massagebehandlung"
    assert shown.end == start + timedelta(minutes=50)
    assert booking.for_customer("en").service.name == "Massage"


def test_the_sms_names_the_service_in_the_customers_language():
    from slotwise.services.sms_content import sms_context

    base = sample_booking()
    booking = replace(base, locale="de", service=replace(
        base.service, name="Massage", texts={"name": {"de": "Massagebehandlung", "en": "Massage"}}))
    assert sms_context(booking, event="confirmed", manage_url="https://x.example/m")["service"] == "Massagebehandlung"
    english = replace(booking, locale="en")
    assert sms_context(english, event="confirmed", manage_url="https://x.example/m")["service"] == "Massage"


def test_a_description_may_be_left_empty_but_not_one_of_its_languages():
    [service] = site('slug = "m"\nname = "M"\ndescription = ""\nduration = 60\nresources = ["anna"]').services
    assert service.description == ""
    found = problems('slug = "m"\nname = "M"\ndescription = { en = "Back", de = "" }\nduration = 60\n'
                     'resources = ["anna"]')
    assert found == {"services[0].description.de": "must not be empty"}


def test_two_options_sharing_a_text_are_refused_as_they_could_store_the_same_answer():
    found = problems('slug = "m"\nname = "M"\nduration = 60\nresources = ["anna"]\n'
                     'questions = [{ key = "a", label = "A", type = "select", '
                     'options = [{ en = "Back", de = "Rücken" }, "Rücken"] }]')
    assert found == {"services[0].questions[0].options": 'option "Rücken" is listed twice'}
