"""The site file: parsing the TOML into frozen specs, and every problem reported
with its path."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slotwise.domain.model import ResourceKind, TimeRange
from slotwise.sitefile import (
    Problem,
    SiteFileError,
    SiteSpec,
    load_site_file,
    parse_site,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "harbour-physio.toml"
REFERENCE = ROOT / "docs" / "site-file.md"


# --------------------------------------------------------------------------
# Helpers: a small valid site as a dict, changed per case and written as TOML
# --------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "site": {
        "slug": "harbour-physio",
        "name": "Harbour Physio",
        "timezone": "Europe/Berlin",
        "locale": "de",
        "allowed_origins": ["https://harbour-physio.example"],
        "contact_email": "praxis@harbour-physio.example",
        "contact_phone": "+49 40 1234567",
        "accent": "#0a7f6f",
        "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["09:00-13:00"]},
        "closed": ["2026-12-24"],
        "hold_minutes": 10,
    },
    "resources": [
        {
            "key": "anna",
            "name": "Anna Berg",
            "kind": "person",
            "hours": {"mon": ["09:00-12:00"], "tue": ["09:00-17:00"]},
            "closed": ["2026-12-27..2026-12-31"],
            "extra_open": {"2026-12-19": ["10:00-14:00"]},
        },
        {"key": "room-1", "name": "Room 1", "kind": "room"},
        {"key": "studio", "name": "Studio", "kind": "room"},  # used by no service
    ],
    "services": [
        {
            "slug": "assessment",
            "name": "Initial assessment",
            "duration": 45,
            "step": 15,
            "buffer_before": 0,
            "buffer_after": 15,
            "min_notice": "2h",
            "max_advance": "60d",
            "cancel_until": "24h",
            "seats": 1,
            "price": "60.00 EUR",
            "resources": [["anna"], ["room-1"]],
            "questions": [
                {"key": "reason", "label": "What brings you in?", "type": "text"},
                {
                    "key": "referral",
                    "label": "How did you hear of us?",
                    "type": "select",
                    "options": ["Friends", "Web"],
                },
                {"key": "age", "label": "Age", "type": "number", "min": 0, "max": 120},
            ],
        },
        {"slug": "follow-up", "name": "Follow-up", "duration": 30, "resources": ["anna"]},
    ],
}

REMOVE = object()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{ " + ", ".join(pairs) + " }"
    raise TypeError(value)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def to_toml(document: dict[str, Any]) -> str:
    """The site document as TOML: [site], then [[resources]] and [[services]]."""
    lines = ["[site]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in document["site"].items()]
    for array in ("resources", "services"):
        for table in document.get(array, []):
            lines += ["", f"[[{array}]]"]
            lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def changed(**changes: Any) -> dict[str, Any]:
    """BASE with values set (or REMOVEd) at paths like "services[0].duration"."""
    document = copy.deepcopy(BASE)
    for where, value in changes.items():
        *parents, last = [
            int(token[1:-1]) if token.startswith("[") else token
            for token in re.findall(r"\[\d+\]|[^.\[\]]+", where)
        ]
        node: Any = document
        for token in parents:
            node = node[token]
        if value is REMOVE:
            del node[last]
        else:
            node[last] = value
    return document


def problems_of(document: dict[str, Any] | str) -> list[Problem]:
    text = document if isinstance(document, str) else to_toml(document)
    with pytest.raises(SiteFileError) as caught:
        parse_site(text, source="harbour.toml")
    return caught.value.problems


def parse(document: dict[str, Any]) -> SiteSpec:
    return parse_site(to_toml(document), source="harbour.toml")


# --------------------------------------------------------------------------
# Valid files
# --------------------------------------------------------------------------


def test_the_example_file_parses_to_the_expected_values() -> None:
    site = load_site_file(EXAMPLE)

    assert (site.slug, site.name, site.timezone, site.locale) == (
        "harbour-physio",
        "Harbour Physio",
        "Europe/Berlin",
        "de",
    )
    assert "http://127.0.0.1:8000" in site.allowed_origins
    assert "http://localhost:8000" in site.allowed_origins
    assert site.accent == "#0a7f6f"
    assert site.sms_enabled is True
    weekday_hours = (TimeRange(8 * 60, 12 * 60 + 30), TimeRange(13 * 60 + 30, 18 * 60))
    assert dict(site.hours) == {
        **{weekday: weekday_hours for weekday in range(5)},
        5: (TimeRange(9 * 60, 13 * 60),),
    }
    # "2026-12-24..2027-01-01" is nine dates, both ends included.
    assert {date(2026, 12, 24), date(2026, 12, 28), date(2027, 1, 1)} <= site.closed
    assert date(2026, 12, 23) not in site.closed

    resources = {resource.key: resource for resource in site.resources}
    assert set(resources) == {"anna", "ben", "room-1", "room-2", "studio"}
    assert resources["anna"].kind is ResourceKind.PERSON
    assert resources["anna"].closed == {date(2027, 2, day) for day in range(15, 20)}
    assert resources["ben"].hours is None and resources["ben"].timezone is None
    assert dict(resources["studio"].hours) == {2: (TimeRange(18 * 60, 19 * 60),)}
    assert dict(resources["studio"].extra_open) == {
        date(2026, 12, 30): (TimeRange(10 * 60, 11 * 60),)
    }

    services = {service.slug: service for service in site.services}
    assessment = services["assessment"]
    assert (assessment.duration, assessment.step, assessment.buffer_after) == (45, 15, 15)
    assert assessment.resource_groups == (("anna", "ben"), ("room-1", "room-2"))
    assert (assessment.price_minor, assessment.currency) == (6000, "EUR")
    assert (assessment.min_notice, assessment.max_advance) == (120, 60 * 24 * 60)
    assert [question.type for question in assessment.questions] == ["text", "select", "checkbox"]
    class_ = services["rueckenfit"]
    assert (class_.duration, class_.seats, class_.resource_groups) == (60, 8, (("studio",),))
    assert services["follow-up"].step == 30  # defaults to the duration
    assert services["lymphdrainage"].enabled is False


def test_the_examples_in_the_reference_parse() -> None:
    short_example, questions = re.findall(r"```toml\n(.*?)```", REFERENCE.read_text(), re.S)[:2]

    site = parse_site(short_example, source="site-file.md")
    service_with_questions = changed(**{"services": []})
    text = to_toml(service_with_questions) + (
        '\n[[services]]\nslug = "x"\nname = "X"\nduration = 30\nresources = ["anna"]\n'
        + questions
    )
    parsed_questions = parse_site(text, source="site-file.md").services[0].questions

    assert site.services[0].resource_groups == (("anna",), ("room-1",))
    assert [question.type for question in parsed_questions] == [
        "text",
        "select",
        "checkbox",
        "number",
    ]


def test_a_minimal_site_gets_the_documented_defaults() -> None:
    site = parse_site(
        '[site]\nslug = "s"\nname = "S"\ntimezone = "UTC"\n'
        '[[resources]]\nkey = "r"\nname = "R"\nkind = "other"\n'
        '[[services]]\nslug = "x"\nname = "X"\nduration = 30\nresources = ["r"]\n',
        source="minimal.toml",
    )

    assert (site.locale, site.allowed_origins, site.accent, site.contact_email) == (
        "en",
        (),
        None,
        None,
    )
    assert (dict(site.hours), site.closed) == ({}, frozenset())
    assert (site.hold_minutes, site.max_reschedules, site.sms_enabled) == (10, 3, False)
    (resource,) = site.resources
    assert (resource.timezone, resource.hours, dict(resource.extra_open)) == (None, None, {})
    (service,) = site.services
    assert (service.step, service.buffer_before, service.buffer_after) == (30, 0, 0)
    assert (service.min_notice, service.max_advance) == (0, 365 * 24 * 60)
    assert (service.cancel_until, service.reschedule_until) == (0, 0)
    assert (service.seats, service.price_minor, service.currency) == (1, None, None)
    assert (service.phone, service.reminders, service.enabled) == ("optional", (1440, 120), True)


def test_the_base_site_of_the_bad_input_table_is_valid() -> None:
    site = parse(BASE)

    assert site.services[0].resource_groups == (("anna",), ("room-1",))


@pytest.mark.parametrize(
    ("written", "minutes"),
    [
        pytest.param(45, 45, id="integer-minutes"),
        pytest.param("90m", 90, id="minutes"),
        pytest.param("2h", 120, id="hours"),
        pytest.param("1h30m", 90, id="hours-and-minutes"),
        pytest.param("1h 30m", 90, id="with-a-space"),
        pytest.param("60d", 60 * 24 * 60, id="days"),
        pytest.param("2w", 2 * 7 * 24 * 60, id="weeks"),
        pytest.param(0, 0, id="zero"),
    ],
)
def test_durations_are_minutes_or_text_with_units(written: Any, minutes: int) -> None:
    site = parse(changed(**{"services[0].min_notice": written}))

    assert site.services[0].min_notice == minutes


@pytest.mark.parametrize(
    ("written", "minor", "currency"),
    [
        pytest.param("60.00 EUR", 6000, "EUR", id="euros-and-cents"),
        pytest.param("60 EUR", 6000, "EUR", id="whole-euros"),
        pytest.param("12.5 EUR", 1250, "EUR", id="fewer-decimals-than-the-currency"),
        pytest.param("1500 JPY", 1500, "JPY", id="currency-without-decimals"),
        pytest.param("1.250 KWD", 1250, "KWD", id="currency-with-three-decimals"),
        pytest.param("9.90 chf", 990, "CHF", id="lower-case-code"),
        pytest.param("0", None, None, id="zero-is-free"),
        pytest.param(0, None, None, id="integer-zero-is-free"),
        pytest.param("0.00 EUR", None, None, id="zero-with-currency-is-free"),
        pytest.param(REMOVE, None, None, id="no-price-is-free"),
    ],
)
def test_prices_are_stored_in_minor_units(written: Any, minor: int | None, currency: str | None):
    service = parse(changed(**{"services[0].price": written})).services[0]

    assert (service.price_minor, service.currency) == (minor, currency)


@pytest.mark.parametrize(
    ("written", "origin"),
    [
        pytest.param("https://Harbour-Physio.example", "https://harbour-physio.example", id="case"),
        pytest.param("https://shop.example:443", "https://shop.example", id="default-port"),
        pytest.param("http://localhost:8000/", "http://localhost:8000", id="trailing-slash"),
        pytest.param("http://127.0.0.1:8000", "http://127.0.0.1:8000", id="ip-and-port"),
        pytest.param("http://[::1]:8000", "http://[::1]:8000", id="ipv6"),
        pytest.param("https://bücher.example", "https://xn--bcher-kva.example", id="idn"),
    ],
)
def test_allowed_origins_are_normalised(written: str, origin: str) -> None:
    site = parse(changed(**{"site.allowed_origins": [written]}))

    assert site.allowed_origins == (origin,)


def test_hours_are_sorted_and_touching_ranges_joined() -> None:
    site = parse(changed(**{"site.hours": {"mon": ["13:00-24:00", "09:00-12:00", "12:00-13:00"]}}))

    assert dict(site.hours) == {0: (TimeRange(9 * 60, 24 * 60),)}


def test_a_flat_resource_list_is_one_group_and_nested_lists_are_several() -> None:
    site = parse(
        changed(
            **{
                "services[0].resources": ["anna", "room-1"],
                "services[1].resources": [["anna", "studio"], ["room-1"]],
            }
        )
    )

    assert site.services[0].resource_groups == (("anna", "room-1"),)
    assert site.services[1].resource_groups == (("anna", "studio"), ("room-1",))


def test_a_resource_with_its_own_hours_and_zone_stops_inheriting() -> None:
    site = parse(
        changed(**{"resources[1].timezone": "Europe/London", "resources[1].hours": {}})
    )

    anna, room, studio = site.resources
    assert (room.timezone, dict(room.hours)) == ("Europe/London", {})  # closed every weekday
    assert (studio.timezone, studio.hours) == (None, None)  # inherits the site's
    assert dict(anna.hours) == {0: (TimeRange(540, 720),), 1: (TimeRange(540, 1020),)}


def test_dates_may_be_bare_toml_dates() -> None:
    text = to_toml(BASE).replace('closed = ["2026-12-24"]', "closed = [2026-12-24, 2026-12-26]")

    site = parse_site(text, source="harbour.toml")

    assert site.closed == {date(2026, 12, 24), date(2026, 12, 26)}


def test_question_defaults_depend_on_the_type() -> None:
    questions = parse(BASE).services[0].questions

    assert [(q.key, q.max_length, q.options) for q in questions] == [
        ("reason", 200, ()),
        ("referral", None, ("Friends", "Web")),
        ("age", None, ()),
    ]
    assert (questions[2].min, questions[2].max) == (0, 120)


def test_an_address_of_several_lines_becomes_one() -> None:
    site = parse(changed(**{"site.address": "  Hafenstraße 12\n\n 20457   Hamburg \n"}))

    assert site.address == "Hafenstraße 12, 20457 Hamburg"


def test_the_specs_are_immutable() -> None:
    site = parse(BASE)

    with pytest.raises(dataclasses.FrozenInstanceError):
        site.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        site.hours[6] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        site.resources[0].extra_open[date(2027, 1, 2)] = ()  # type: ignore[index]


# --------------------------------------------------------------------------
# Bad input: one problem each, with its exact path and a key phrase
# --------------------------------------------------------------------------

S0 = "services[0]"
BAD_INPUTS = [
    # time zones
    ("unknown-site-zone", {"site.timezone": "Europe/Berln"}, "site.timezone",
     'unknown time zone "Europe/Berln"; did you mean "Europe/Berlin"?'),
    ("unknown-resource-zone", {"resources[0].timezone": "Mars/Olympus"},
     "resources[0].timezone", 'unknown time zone "Mars/Olympus"'),
    # times and ranges
    ("hour-25", {"site.hours.mon[0]": "25:00-26:00"}, "site.hours.mon[0]",
     '"25:00" is not a time: hours run from 00 to 23'),
    ("one-digit-time", {"resources[0].hours.mon[0]": "9:5-12:00"}, "resources[0].hours.mon[0]",
     '"9:5" is not a time: write HH:MM'),
    ("minute-60", {"site.hours.mon[0]": "12:60-13:00"}, "site.hours.mon[0]",
     '"12:60" is not a time: minutes run from 00 to 59'),
    ("24-as-start", {"site.hours.mon[0]": "24:00-24:00"}, "site.hours.mon[0]",
     '"24:00" may only end a range'),
    ("end-before-start", {"site.hours.mon[0]": "12:00-09:00"}, "site.hours.mon[0]",
     "the end must be after the start"),
    ("empty-range", {"site.hours.mon[0]": "09:00-09:00"}, "site.hours.mon[0]",
     "the end must be after the start"),
    ("not-a-range", {"site.hours.mon[0]": "9 to 5"}, "site.hours.mon[0]",
     'must be a time range like "09:00-12:30"'),
    ("overlap", {"site.hours.mon": ["09:00-12:00", "11:00-13:00"]}, "site.hours.mon",
     "09:00-12:00 overlaps 11:00-13:00"),
    ("overlap-in-extra-open",
     {"resources[0].extra_open.2026-12-19": ["13:00-15:00", "10:00-14:00"]},
     "resources[0].extra_open.2026-12-19", "10:00-14:00 overlaps 13:00-15:00"),
    ("unknown-weekday", {"site.hours.monday": ["09:00-12:00"]}, "site.hours.monday",
     'unknown key; did you mean "mon"?'),
    # durations on the 5-minute grid
    ("duration-off-grid", {f"{S0}.duration": 47}, f"{S0}.duration",
     "must be a multiple of 5 minutes, got 47"),
    ("duration-zero", {f"{S0}.duration": 0}, f"{S0}.duration", "must be at least 5 minutes"),
    ("step-off-grid", {f"{S0}.step": "7m"}, f"{S0}.step", "must be a multiple of 5 minutes, got 7"),
    ("step-zero", {f"{S0}.step": 0}, f"{S0}.step", "must be at least 5 minutes"),
    ("buffer-before-off-grid", {f"{S0}.buffer_before": 3}, f"{S0}.buffer_before",
     "must be a multiple of 5 minutes, got 3"),
    ("buffer-after-off-grid", {f"{S0}.buffer_after": "1h2m"}, f"{S0}.buffer_after",
     "must be a multiple of 5 minutes, got 62"),
    ("buffer-after-over-a-week", {f"{S0}.buffer_after": "8d"}, f"{S0}.buffer_after",
     "must be at most 10080 minutes"),
    # duration syntax
    ("duration-2x", {f"{S0}.min_notice": "2x"}, f"{S0}.min_notice", '"2x" is not a duration'),
    ("duration-negative", {f"{S0}.max_advance": -5}, f"{S0}.max_advance",
     "must not be negative, got -5"),
    ("duration-negative-text", {f"{S0}.cancel_until": "-2h"}, f"{S0}.cancel_until",
     '"-2h" is not a duration'),
    ("duration-without-unit", {f"{S0}.reschedule_until": "90"}, f"{S0}.reschedule_until",
     '"90" is not a duration'),
    ("duration-fraction", {f"{S0}.cancel_until": 1.5}, f"{S0}.cancel_until",
     "must be a whole number of minutes"),
    ("notice-beyond-advance", {f"{S0}.min_notice": "61d"}, f"{S0}.min_notice",
     "must not be longer than max_advance (8w5d > 8w4d)"),
    # seats
    ("seats-zero", {f"{S0}.seats": 0}, f"{S0}.seats", "must be at least 1, got 0"),
    ("seats-as-text", {f"{S0}.seats": "8"}, f"{S0}.seats", 'must be a whole number, got "8"'),
    # resources of a service
    ("unknown-resource-in-group", {f"{S0}.resources": [["anna"], ["room-9"]]},
     f"{S0}.resources[1][0]", 'no resource with key "room-9"; did you mean "room-1"?'),
    ("unknown-resource-in-flat-list", {"services[1].resources": ["anna", "bob"]},
     "services[1].resources[1]", 'no resource with key "bob"'),
    ("resource-twice", {f"{S0}.resources": [["anna"], ["room-1", "anna"]]},
     f"{S0}.resources[1][1]", 'resource "anna" is listed twice in this service'),
    ("no-resources", {f"{S0}.resources": []}, f"{S0}.resources",
     "a service needs at least one resource"),
    ("missing-resources", {f"{S0}.resources": REMOVE}, f"{S0}.resources", "is required"),
    ("empty-group", {f"{S0}.resources": [["anna"], []]}, f"{S0}.resources[1]",
     "this group is empty"),
    ("mixed-forms", {f"{S0}.resources": ["anna", ["room-1"]]}, f"{S0}.resources", "not a mix"),
    # duplicates
    ("duplicate-resource-key", {"resources[2].key": "anna"}, "resources[2].key",
     'duplicate resource key "anna" (already used by resources[0])'),
    ("duplicate-service-slug", {"services[1].slug": "assessment"}, "services[1].slug",
     'duplicate service slug "assessment" (already used by services[0])'),
    ("duplicate-question-key", {f"{S0}.questions[1].key": "reason"}, f"{S0}.questions[1].key",
     'duplicate question key "reason"'),
    # questions
    ("select-without-options", {f"{S0}.questions[1].options": []}, f"{S0}.questions[1].options",
     "a select question needs at least one option"),
    ("select-options-missing", {f"{S0}.questions[1].options": REMOVE},
     f"{S0}.questions[1].options", "a select question needs at least one option"),
    ("options-on-text", {f"{S0}.questions[0].options": ["a"]}, f"{S0}.questions[0].options",
     "only select questions have options"),
    ("number-min-above-max", {f"{S0}.questions[2].min": 200}, f"{S0}.questions[2].min",
     "must not be greater than max (200 > 120)"),
    ("max-length-on-select", {f"{S0}.questions[1].max_length": 10},
     f"{S0}.questions[1].max_length", "only text and textarea questions have max_length"),
    ("unknown-question-type", {f"{S0}.questions[0].type": "radio"}, f"{S0}.questions[0].type",
     'unknown question type "radio"'),
    # kinds, slugs, locale
    ("unknown-kind", {"resources[0].kind": "robot"}, "resources[0].kind",
     'unknown kind "robot"; expected "person", "room"'),
    ("slug-with-capitals", {"site.slug": "Harbour-Physio"}, "site.slug",
     "must be lowercase letters, digits and hyphens"),
    ("slug-with-space", {"resources[2].key": "the studio"}, "resources[2].key",
     "must be lowercase letters, digits and hyphens"),
    ("slug-too-long", {"services[1].slug": "a" * 64}, "services[1].slug", "1-63 characters"),
    ("slug-leading-hyphen", {"services[1].slug": "-follow-up"}, "services[1].slug",
     "starting and ending with a letter or digit"),
    ("unknown-locale", {"site.locale": "fr"}, "site.locale",
     'unknown locale "fr"; expected "en" or "de"'),
    # site settings
    ("origin-with-path", {"site.allowed_origins": ["https://example.com/booking"]},
     "site.allowed_origins[0]", "has a path"),
    ("origin-without-scheme", {"site.allowed_origins": ["example.com"]},
     "site.allowed_origins[0]", "must be an origin like"),
    ("origin-ftp", {"site.allowed_origins": ["ftp://example.com"]},
     "site.allowed_origins[0]", "must be an origin like"),
    ("origin-bad-port", {"site.allowed_origins": ["http://localhost:99999"]},
     "site.allowed_origins[0]", "must be an origin like"),
    ("origin-wildcard", {"site.allowed_origins": ["https://*.example.com"]},
     "site.allowed_origins[0]", "wildcards are not supported"),
    ("origin-twice", {"site.allowed_origins": ["https://a.example", "https://A.example/"]},
     "site.allowed_origins", "is listed twice"),
    ("accent-name", {"site.accent": "teal"}, "site.accent", 'must be a colour like "#0a7f6f"'),
    ("accent-short", {"site.accent": "#0af"}, "site.accent", 'must be a colour like "#0a7f6f"'),
    ("bad-email", {"site.contact_email": "praxis@"}, "site.contact_email",
     '"praxis@" is not an email address'),
    ("bad-phone", {"site.contact_phone": "call us"}, "site.contact_phone",
     "must be a phone number"),
    ("hold-too-long", {"site.hold_minutes": 120}, "site.hold_minutes", "must be at most 60"),
    ("flag-as-text", {"site.sms_enabled": "yes"}, "site.sms_enabled",
     'must be true or false, got "yes"'),
    ("empty-name", {"site.name": "  "}, "site.name", "must not be empty"),
    ("empty-address", {"site.address": " \n "}, "site.address", "must not be empty"),
    ("long-address", {"site.address": "x" * 201}, "site.address", "must be at most 200 characters"),
    # dates
    ("impossible-date", {"site.closed": ["2026-02-30"]}, "site.closed[0]",
     '"2026-02-30" is not a real date'),
    ("german-date", {"resources[0].closed": ["24.12.2026"]}, "resources[0].closed[0]",
     'must be a date "YYYY-MM-DD" or a range'),
    ("range-end-before-start", {"site.closed": ["2026-12-31..2026-12-24"]}, "site.closed[0]",
     "the end is before the start"),
    ("range-too-long", {"site.closed": ["2026-01-01..2062-01-01"]}, "site.closed[0]",
     "at most 732 are allowed"),
    ("extra-open-impossible-date", {"resources[0].extra_open": {"2026-02-30": ["09:00-10:00"]}},
     "resources[0].extra_open.2026-02-30", '"2026-02-30" is not a real date'),
    ("extra-open-without-ranges", {"resources[0].extra_open": {"2026-12-19": []}},
     "resources[0].extra_open", "2026-12-19 has no ranges"),
    # prices
    ("unknown-currency", {f"{S0}.price": "60.00 XYZ"}, f"{S0}.price", 'unknown currency "XYZ"'),
    ("too-many-decimals", {f"{S0}.price": "60.001 EUR"}, f"{S0}.price",
     'EUR has 2 decimal places, "60.001 EUR" has 3'),
    ("decimals-for-yen", {f"{S0}.price": "1500.5 JPY"}, f"{S0}.price",
     "JPY has no decimal places"),
    ("price-without-currency", {f"{S0}.price": 60}, f"{S0}.price",
     'must be an amount and a currency code like "60.00 EUR"'),
    # reminders
    ("reminder-twice", {f"{S0}.reminders": ["24h", 1440]}, f"{S0}.reminders",
     "lists the same reminder twice"),
    ("reminder-zero", {f"{S0}.reminders": [0]}, f"{S0}.reminders[0]", "must be at least 1 minutes"),
    # keys and tables
    ("typo-in-key", {f"{S0}.duraton": 45}, f"{S0}.duraton",
     'unknown key; did you mean "duration"?'),
    ("missing-duration", {f"{S0}.duration": REMOVE}, f"{S0}.duration", "is required"),
    ("hours-not-a-table", {"site.hours": "Mo-Fr 9-17"}, "site.hours", "must be a table"),
]


@pytest.mark.parametrize(
    ("changes", "path", "phrase"),
    [pytest.param(changes, path, phrase, id=case) for case, changes, path, phrase in BAD_INPUTS],
)
def test_a_bad_value_is_reported_at_its_path(changes: dict[str, Any], path: str, phrase: str):
    problems = problems_of(changed(**changes))

    assert [problem.path for problem in problems] == [path]
    assert phrase in problems[0].message


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def test_all_problems_are_reported_not_just_the_first() -> None:
    document = changed(
        **{
            "site.timezone": "Nowhere/City",
            "site.hours.mon[1]": "13:00-25:00",
            "resources[0].kind": "robot",
            "resources[2].key": "anna",
            f"{S0}.duration": 47,
            f"{S0}.seats": 0,
            f"{S0}.resources": [["anna"], ["room-7"]],
            "services[1].price": "5 XYZ",
        }
    )

    problems = problems_of(document)

    assert sorted(problem.path for problem in problems) == sorted(
        [
            "site.timezone",
            "site.hours.mon[1]",
            "resources[0].kind",
            "resources[2].key",
            f"{S0}.duration",
            f"{S0}.seats",
            f"{S0}.resources[1][0]",
            "services[1].price",
        ]
    )


def test_the_error_has_one_line_per_problem_with_source_path_subject_and_message() -> None:
    document = changed(
        **{"site.locale": "fr", f"{S0}.duration": 47, f"{S0}.questions[1].options": []}
    )

    with pytest.raises(SiteFileError) as caught:
        parse_site(to_toml(document), source="harbour.toml")

    assert str(caught.value).splitlines() == [
        'harbour.toml: site.locale: unknown locale "fr"; expected "en" or "de"',
        'harbour.toml: services[0].duration (service "assessment"): '
        "must be a multiple of 5 minutes, got 47",
        'harbour.toml: services[0].questions[1].options (service "assessment", '
        'question "referral"): a select question needs at least one option',
    ]
    assert caught.value.problems[1] == Problem(
        "services[0].duration",
        "must be a multiple of 5 minutes, got 47",
        'service "assessment"',
    )


def test_a_toml_syntax_error_names_the_file_line_and_column() -> None:
    text = '[site]\nslug = "harbour-physio"\nname = Harbour Physio\n'

    with pytest.raises(SiteFileError) as caught:
        parse_site(text, source="harbour.toml")

    (problem,) = caught.value.problems
    assert problem.path == "line 3, column 8"
    assert str(caught.value) == "harbour.toml: line 3, column 8: invalid TOML: Invalid value"


def test_a_missing_site_table_is_reported() -> None:
    problems = problems_of('[[resources]]\nkey = "anna"\nname = "Anna"\nkind = "person"\n')

    assert [(problem.path, problem.message) for problem in problems] == [
        ("site", "is required: start the file with a [site] table")
    ]


def test_a_single_resources_table_asks_for_an_array_of_tables() -> None:
    text = to_toml(BASE).replace("[[resources]]", "[resources]", 1).split("[[resources]]")[0]

    problems = problems_of(text)

    assert [(problem.path, problem.message) for problem in problems] == [
        ("resources", "must be an array of tables: write [[resources]] before each one")
    ]


def test_load_site_file_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(to_toml(changed(**{"site.locale": "fr"})), encoding="utf-8")

    with pytest.raises(SiteFileError) as caught:
        load_site_file(path)

    assert str(caught.value).startswith(f"{path}: site.locale: ")


def test_a_file_that_cannot_be_read_is_a_site_file_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"

    with pytest.raises(SiteFileError) as caught:
        load_site_file(path)

    assert str(caught.value) == f"{path}: cannot read the file: No such file or directory"


FUZZED_PATHS = [
    "site.slug", "site.timezone", "site.hours", "site.hours.mon", "site.hours.mon[0]",
    "site.closed", "site.closed[0]", "site.allowed_origins[0]", "site.accent",
    "site.contact_email", "site.hold_minutes", "site.unknown", "resources[0].extra_open",
    "resources[0].hours", "resources[0].kind", "resources[0].key", "services[0].duration",
    "services[0].price", "services[0].resources", "services[0].resources[0]",
    "services[0].questions", "services[0].questions[2].min", "services[0].questions[1].options",
    "services[0].reminders", "services[0].min_notice",
]
SCALARS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(["09:00-24:00", "2026-01-01..2026-01-05", "1h", "60.00 EUR", "http://[::1",
                     "#ffffff", "a@b.example", "anna", "1.5 KWD", "99999999999w"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["mon", "key", "2026-01-01", "type", "x"]), inner,
                        max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FUZZED_PATHS), VALUES, max_size=3))
def test_any_value_anywhere_gives_a_site_or_a_site_file_error(changes: dict[str, Any]) -> None:
    try:
        text = to_toml(changed(**changes))
    except (KeyError, IndexError, TypeError):
        return  # the change does not fit the document's shape
    try:
        parse_site(text, source="fuzz.toml")
    except SiteFileError as error:
        assert error.problems and str(error)
