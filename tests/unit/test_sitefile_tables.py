"""One resource or service table on its own (the admin API's bodies), and specs written back as tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from slotwise.sitefile import SiteFileError, load_site_file, parse_resource, parse_service
from slotwise.sitefile.writing import date_spans, price_text, resource_table, service_table

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_table_of_the_examples_reads_back_as_the_same_spec(path):
    site = load_site_file(path)
    keys = [resource.key for resource in site.resources]

    for resource in site.resources:
        table = {name: value for name, value in resource_table(resource).items() if value is not None}
        assert parse_resource(table) == resource
    for service in site.services:
        table = {name: value for name, value in service_table(service).items() if value is not None}
        assert parse_service(table, resources=keys) == service


def test_problems_have_paths_inside_the_table_and_the_files_messages():
    with pytest.raises(SiteFileError) as raised:
        parse_service({"slug": "yoga", "name": "Yoga", "duration": 47, "resources": [["anna"], ["room-9"]],
                       "questions": [{"key": "a", "label": "A", "type": "text"},
                                     {"key": "a", "label": "B", "type": "text"}]},
                      resources=["anna", "room-1"])

    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("duration", "must be a multiple of 5 minutes, got 47"),
        ("questions[1].key", 'duplicate question key "a" (already used by questions[0])'),
        ("resources[1][0]", 'no resource with key "room-9"; did you mean "room-1"?'),
    ]


def test_a_resource_table_must_be_a_table():
    with pytest.raises(SiteFileError) as raised:
        parse_resource(["anna"])

    assert [p.path for p in raised.value.problems] == [""]


def test_closed_dates_are_written_as_runs_and_prices_in_the_currencys_digits():
    days = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 6)]

    assert date_spans(days) == ["2026-12-24..2026-12-26", "2027-01-06"]
    assert (price_text(6000, "EUR"), price_text(500, "JPY"), price_text(None, None)) == ("60.00 EUR", "500 JPY", None)


@pytest.mark.parametrize("example", sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml")),
                         ids=lambda path: path.name)
def test_a_whole_site_read_back_as_a_document_is_the_same_site(example) -> None:
    from slotwise.sitefile import load_site_file, parse_site_data
    from slotwise.sitefile.writing import site_document, without_nulls

    spec = load_site_file(example)

    assert parse_site_data(without_nulls(site_document(spec)), source="document") == spec
