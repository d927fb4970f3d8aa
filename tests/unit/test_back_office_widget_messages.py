"""The pure parts behind the widget and messages pages: reading allowed origins and delivery-log filters."""

from __future__ import annotations

from datetime import date

import pytest
from slotwise.services.embedding import ORIGINS_MAX, read_origins
from slotwise.services.errors import InvalidInput
from slotwise.services.message_log import LogFilters, read_filters


@pytest.mark.parametrize(("lines", "expected"), [
    (["HTTPS://Example.COM:443/"], ["https://example.com"]),
    (["", "  http://localhost:8000  ", ""], ["http://localhost:8000"]),
    (["https://a.example", "https://A.example/"], ["https://a.example"]),  # a repeat is dropped
    (["https://bücher.example"], ["https://xn--bcher-kva.example"]),
    ([], []),
])
def test_origins_are_normalised_blanks_skipped_and_repeats_dropped(lines, expected):
    assert read_origins(lines) == expected


@pytest.mark.parametrize(("lines", "field"), [
    (["https://ok.example", "https://x.example/path"], "allowed_origins[1]"),
    (["ftp://files.example"], "allowed_origins[0]"),
    (["https://*.example"], "allowed_origins[0]"),
    (["https://user:pw@x.example"], "allowed_origins[0]"),
    (["", "https://ok.example", "not an origin"], "allowed_origins[1]"),  # counted without the blank line
])
def test_a_bad_origin_is_named_by_its_line(lines, field):
    with pytest.raises(InvalidInput) as raised:
        read_origins(lines)
    assert [p.field for p in raised.value.problems] == [field]


def test_more_origins_than_the_limit_are_refused_at_once():
    with pytest.raises(InvalidInput) as raised:
        read_origins([f"https://s{n}.example" for n in range(ORIGINS_MAX + 1)])
    assert raised.value.problems[0].code == "too-many"


def test_log_filters_read_choices_and_days():
    assert read_filters({"status": "failed", "channel": "sms", "event": "test", "from": "2026-12-01",
                         "to": ""}) == LogFilters("failed", "sms", "test", date(2026, 12, 1), None)
    assert read_filters({}) == LogFilters()


def test_bad_log_filters_are_problems_on_their_fields():
    with pytest.raises(InvalidInput) as raised:
        read_filters({"status": "lost", "channel": "fax", "event": "x", "from": "2026-13-01", "to": "soon"})
    assert sorted(p.field for p in raised.value.problems) == ["channel", "event", "from", "status", "to"]
