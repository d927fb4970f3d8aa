"""The catalog forms' pure parts: form ↔ site-file table, messages pinned to fields, question rows."""

from __future__ import annotations

import pytest

from slotwise.services.errors import FieldProblem
from slotwise.web.back_office.catalog_forms import (
    RESOURCE_FIELDS,
    SERVICE_FIELDS,
    field_errors,
    form_price,
    question_rows,
    readable_minutes,
    renumber_questions,
    resource_body,
    resource_form,
    service_body,
    service_form,
)


def rule(path: str, message: str = "wrong") -> FieldProblem:
    return FieldProblem(path, "site-file-rule", {"message": message})


def test_durations_read_as_a_person_types_them():
    assert [readable_minutes(m) for m in (None, 0, 45, 90, 120, 1440, 86400, 2880 + 60)] == [
        "", "0", "45", "90", "2h", "1d", "60d", "49h"]


def test_a_name_only_in_the_sites_language_stays_a_plain_string_and_both_make_a_table():
    form = {"name.de": "Massage", "name.en": "", "duration": "60", "group-0": "anna"}
    assert service_body(form, {0: ["anna"]}, "de", creating=False)["name"] == "Massage"
    assert service_body({**form, "name.en": "Massage EN"}, {0: ["anna"]}, "de", creating=False)["name"] == {
        "en": "Massage EN", "de": "Massage"}
    assert service_body({**form, "name.de": ""}, {}, "de", creating=False)["name"] is None  # the parser says so
    assert service_form({"name": "Massage"}, "de")["name"] == {"en": "", "de": "Massage"}


def test_a_service_form_keeps_numbers_as_numbers_and_typed_text_as_typed():
    body = service_body({"duration": "60", "seats": "x", "min_notice": "2h", "price": " ", "groups": "2",
                         "reminders": "1440, 120"}, {0: ["anna", "ben"], 1: ["room-1"]}, "en", creating=True)
    assert body["duration"] == 60 and body["seats"] == "x" and body["min_notice"] == "2h"
    assert "price" not in body  # empty: free, as the file would leave it out
    assert body["resources"] == [["anna", "ben"], ["room-1"]] and body["reminders"] == [1440, 120]
    one = service_body({"groups": "1"}, {0: ["anna"]}, "en", creating=False)
    assert one["resources"] == ["anna"]
    unticked = service_body({"groups": "2"}, {0: ["anna"]}, "en", creating=False)
    assert unticked["resources"] == [["anna"], []]  # an emptied group is sent: the parser names it


def test_hours_only_when_the_resource_has_its_own_and_closures_one_per_line():
    form = {"own_hours": "1", "hours.mon": "09:00-12:00, 13:00-17:00", "hours.tue": " ",
            "closed": "2026-12-24\n\n2026-12-27..2026-12-31\n", "name.en": "Anna", "kind": "person"}
    body = resource_body(form, "en", creating=False)
    assert body["hours"] == {"mon": ["09:00-12:00", "13:00-17:00"]}
    assert body["closed"] == ["2026-12-24", "2026-12-27..2026-12-31"]
    assert resource_body({**form, "own_hours": ""}, "en", creating=False)["hours"] is None
    shown = resource_form({"key": "anna", "name": "Anna", "kind": "person", "hours": None}, "en",
                          {"mon": ["08:00-12:00"]})
    assert shown["own_hours"] is False and shown["hours"]["mon"] == "08:00-12:00"


def test_messages_are_pinned_to_the_field_their_path_names():
    pinned, loose = field_errors([rule("hours.mon[1]", "overlaps"), rule("closed[0]"), rule("name.de"),
                                  rule("colour"), rule("body", "whole")], RESOURCE_FIELDS)
    assert pinned == {"hours.mon": ["overlaps"], "closed": ["wrong"], "name.de": ["wrong"]}
    assert loose == ["colour: wrong", "whole"]
    pinned, _ = field_errors([rule("resources[0][1]"), rule("questions[3].options[0]"), rule("price")],
                             SERVICE_FIELDS)
    assert set(pinned) == {"resources", "questions.3.options", "price"}


def test_question_rows_follow_their_positions_and_problems_follow_the_rows():
    form = {
        "questions.0.key": "a", "questions.0.label.en": "A?", "questions.0.type": "text", "questions.0.position": "3",
        "questions.1.key": "b", "questions.1.label.en": "B?", "questions.1.type": "select",
        "questions.1.options.en": "x\ny", "questions.1.options.de": "X\nY", "questions.1.position": "1",
        "questions.2.key": "c", "questions.2.label.en": "C?", "questions.2.remove": "1",
        "questions.3.key": "", "questions.3.label.en": "",  # the empty "add" row
    }
    rows = question_rows(form, "en")
    assert [n for n, _ in rows] == [1, 0]
    assert rows[0][1]["options"] == [{"en": "x", "de": "X"}, {"en": "y", "de": "Y"}]
    assert rows[1][1] == {"key": "a", "label": "A?", "type": "text", "required": False}
    moved = renumber_questions([rule("questions[0].options"), rule("questions[1].key"), rule("price")], [1, 0])
    assert [p.field for p in moved] == ["questions[1].options", "questions[0].key", "price"]


def test_metadata_lines_round_trip_with_their_types():
    from slotwise.web.back_office.catalog_forms import metadata_body, metadata_text
    table = {"room_code": "B12", "floor": 2, "ratio": 1.5, "accessible": True, "zip": "20095", "word": "true"}
    text = metadata_text(table)
    assert 'zip = "20095"' in text and 'word = "true"' in text and "room_code = B12" in text
    assert metadata_body(text) == table
    assert metadata_body("no equals sign\n\n") == {"no equals sign": ""}


def test_prices_in_the_list_are_written_as_the_pages_language_writes_them():
    from slotwise.i18n import Formatter
    from slotwise.web.back_office.catalog_forms import shown_price
    assert shown_price("60.00 EUR", Formatter("en")) == "€60.00"
    assert shown_price("60.00 EUR", Formatter("de")).replace("\xa0", " ") == "60,00 €"
    assert shown_price("0 EUR", Formatter("en")) == "Free"
    assert shown_price(None, Formatter("en")) is None


def test_a_price_is_read_as_the_pages_language_writes_it_or_as_the_site_file_does():
    from slotwise.web.back_office.catalog_forms import typed_price
    cases = [  # (typed, page language) -> what the site file's parser gets
        (("48,50 €", "de"), "48.50 EUR"), (("48,50\xa0€", "de"), "48.50 EUR"), (("48,5 eur", "de"), "48.5 EUR"),
        (("1.234,50 €", "de"), "1234.50 EUR"), (("€ 48,50", "de"), "48.50 EUR"), (("€48.50", "en"), "48.50 EUR"),
        (("48,50 $", "de"), "48.50 USD"), (("48.50 EUR", "de"), "48.50 EUR"), (("60 EUR", "en"), "60 EUR"),
        (("  ", "de"), ""), (("0", "de"), "0"),
        # Left for the parser to name: no currency, two, an amount the language would not write, a word
        # that names no currency.
        (("48,50", "de"), "48,50"), (("€ 48,50 EUR", "de"), "€ 48,50 EUR"), (("48.50 €", "de"), "48.50 €"),
        (("48,50 €", "en"), "48,50 €"), (("1.50 EUR", "de"), "1.50 EUR"), (("48,50 Taler", "de"), "48,50 Taler"),
        (("lots", "de"), "lots"),
    ]
    assert [typed_price(*typed) for typed, _ in cases] == [expected for _, expected in cases]


@pytest.mark.parametrize(("price", "locale", "shown"), [
    ("45.00 EUR", "en", "€45.00"),
    ("45.00 EUR", "de", "45,00\xa0€"),
    ("1200.50 CHF", "de", "1.200,50\xa0CHF"),
    ("", "de", ""),
    ("45 EURO", "de", "45 EURO"),  # not a price the site file wrote: shown as it is
])
def test_the_price_field_shows_the_pages_way_which_reads_back_to_the_same_price(price, locale, shown):
    assert form_price(price, locale) == shown
    if shown and shown != price:
        from slotwise.web.back_office.catalog_forms import typed_price

        assert typed_price(shown, locale) == price
