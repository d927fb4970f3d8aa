"""Booking SMS texts and the SMS segment count (GSM 03.38 / UCS-2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2.exceptions import SecurityError
from slotwise.adapters.delivery import OutgoingSms
from slotwise.domain.model import Booking
from slotwise.services.sms_content import (
    EVENTS,
    GSM7_BASIC,
    MAX_PLACE,
    MAX_SERVICE,
    build_booking_sms,
    is_gsm7,
    plain,
    sms_segments,
)

from tests.support.bookings import sample_booking

MANAGE_URL = "https://book.example.com/manage/" + "Ab3_-x" * 7 + "Z"  # a 43-character token
FROM = "+15005550006"


# A haircut at a salon, booked by a customer whose name is markup (08:00 UTC = 09:00 in Berlin).
SALON = dict(
    uid="0d7c2b1e-5a4f-4b9e-9a57-3f1b2c4d5e6f", site_slug="lindenhof", site_name="Salon Lindenhof",
    site_contact_email="hallo@lindenhof.example", site_address=None, service_slug="cut",
    service_name="Haircut", resources=(("anna", "Anna", "person"),),
    customer_name="Jane <script>alert(1)</script>", customer_email="jane@example.com",
    customer_phone="+4915112345678", created_at=datetime(2026, 11, 20, tzinfo=UTC),
)


def booking(**changes: object) -> Booking:
    return sample_booking(**{**SALON, **changes})


# --- segments ------------------------------------------------------------------------


def test_gsm7_basic_set_is_the_full_table() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape


@pytest.mark.parametrize("char", list("äöüÄÖÜßéèà@£¥§¿¡ÑñÅåØøÆæΔΩ"))
def test_german_and_other_basic_set_letters_are_gsm7(char: str) -> None:
    assert is_gsm7(char)
    assert sms_segments(char * 160) == 1
    assert sms_segments(char * 161) == 2


@pytest.mark.parametrize("char", ["\u00e7", "\u00e1", "\u00e2", "\u0142", "\u2019", "\u2026", "😀"])
def test_characters_outside_gsm7_switch_to_ucs2(char: str) -> None:
    assert not is_gsm7("Hello " + char)


def test_empty_text_is_one_segment() -> None:
    assert sms_segments("") == 1


@pytest.mark.parametrize(("length", "segments"), [
    (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_gsm7_boundaries(length: int, segments: int) -> None:
    assert sms_segments("a" * length) == segments


@pytest.mark.parametrize(("length", "segments"), [
    (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4),
])
def test_ucs2_boundaries(length: int, segments: int) -> None:
    text = "Ł" + "a" * (length - 1)  # one non-GSM letter turns the whole text into UCS-2
    assert sms_segments(text) == segments


def test_extension_characters_count_twice() -> None:
    assert is_gsm7("€[]{}|^~\\")
    assert sms_segments("€" * 80) == 1  # 160 septets
    assert sms_segments("€" * 80 + "a") == 2
    assert sms_segments("a" * 159 + "€") == 2


def test_escape_pair_is_never_split_across_segments() -> None:
    # 152 septets, then a 2-septet character: it cannot start in part one's last septet.
    text = "a" * 152 + "€" + "a" * 152
    # greedy packing: part 1 = 152 (the € moves on), part 2 = 2 + 151, part 3 = 1
    assert sms_segments(text) == 3
    assert sms_segments("a" * 151 + "€" + "a" * 153) == 2  # 153 + 153


def test_surrogate_pair_counts_two_units_and_is_not_split() -> None:
    assert sms_segments("😀" * 35) == 1  # 70 code units
    assert sms_segments("😀" * 35 + "a") == 2
    assert sms_segments("a" * 66 + "😀" + "a" * 66) == 3  # 66 | 2 + 65 | 1


# --- owner-typed values ----------------------------------------------------------------


def test_plain_makes_one_gsm_friendly_line() -> None:
    assert plain("Anna\u2019s \u201cSalon\u201d \u2013 Mitte\u2026\r\n\tBerlin\u00a0") == "Anna's \"Salon\" - Mitte... Berlin"
    assert plain("x" * 50, 20) == "x" * 17 + "..."
    assert plain("Praxis am Stadtpark Mitte", 20) == "Praxis am..."
    assert len(plain("Word " * 20, MAX_PLACE)) <= MAX_PLACE


# --- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("locale", ["en", "de"])
def test_every_event_and_locale_has_date_time_place_and_link(event: str, locale: str) -> None:
    sms = build_booking_sms(booking(locale=locale), event=event, manage_url=MANAGE_URL, from_number=FROM)

    assert isinstance(sms, OutgoingSms)
    assert sms.to == "+4915112345678"
    assert sms.from_number == FROM
    day = "Tue 24 Nov" if locale == "en" else "Di. 24. Nov."
    assert f"{day}, 09:00" in sms.body
    assert "Salon Lindenhof" in sms.body
    assert "Haircut" in sms.body
    assert sms.body.endswith(MANAGE_URL)
    assert "\n" not in sms.body and "  " not in sms.body
    assert is_gsm7(sms.body)
    assert sms_segments(sms.body) <= 2


def test_texts_differ_per_event_and_language() -> None:
    bodies = {
        (event, locale): build_booking_sms(booking(locale=locale), event=event, manage_url=MANAGE_URL,
                                           from_number=FROM).body
        for event in EVENTS for locale in ("en", "de")
    }
    assert len(set(bodies.values())) == len(bodies)
    assert bodies["confirmed", "en"].startswith("Booked:")
    assert bodies["cancelled", "de"].startswith("Abgesagt:")
    assert "Uhr" in bodies["reminder", "de"]


def test_english_confirmation_fits_one_segment() -> None:
    body = build_booking_sms(booking(), event="confirmed", manage_url=MANAGE_URL, from_number=FROM).body
    assert body == f"Booked: Haircut, Tue 24 Nov, 09:00 at Salon Lindenhof. Change or cancel: {MANAGE_URL}"
    assert sms_segments(body) == 1


def test_german_umlauts_stay_gsm7() -> None:
    record = booking(locale="de", site_name="Friseur Größenwahn", service_name="Färben & Föhnen",
                     start=datetime(2026, 3, 24, 8, 0, tzinfo=UTC))  # März
    body = build_booking_sms(record, event="reminder", manage_url=MANAGE_URL, from_number=FROM).body
    assert "Di. 24. März, 09:00 Uhr" in body
    assert "Ändern oder absagen" in body
    assert is_gsm7(body)
    assert sms_segments(body) == 2


def test_time_is_in_the_customers_zone() -> None:
    record = booking(timezone="America/New_York")  # 08:00 UTC = 03:00 in New York
    body = build_booking_sms(record, event="confirmed", manage_url=MANAGE_URL, from_number=FROM).body
    assert "Tue 24 Nov, 03:00" in body
    # Summer time in Berlin: 07:00 UTC on 14 July = 09:00 CEST.
    summer = booking(start=datetime(2026, 7, 14, 7, 0, tzinfo=UTC))
    assert "Tue 14 Jul, 09:00" in build_booking_sms(summer, event="confirmed", manage_url=MANAGE_URL,
                                                    from_number=FROM).body


def test_unknown_customer_zone_falls_back_to_the_sites() -> None:
    body = build_booking_sms(booking(timezone="Mars/Olympus"), event="confirmed", manage_url=MANAGE_URL,
                             from_number=FROM).body
    assert "09:00" in body


def test_customer_name_is_left_out() -> None:
    body = build_booking_sms(booking(), event="confirmed", manage_url=MANAGE_URL, from_number=FROM).body
    assert "Jane" not in body and "<script>" not in body


def test_long_and_odd_owner_names_are_shortened_and_made_plain() -> None:
    record = booking(
        locale="de",
        site_name="Physiotherapie \u201eAm Stadtpark\u201c \u2013 Praxis f\u00fcr Bewegung\nund Gesundheit",
        service_name="Krankengymnastik nach Bobath mit Verl\u00e4ngerung",
    )
    sms = build_booking_sms(record, event="rescheduled", manage_url=MANAGE_URL, from_number=FROM)
    assert is_gsm7(sms.body)
    assert 'Physiotherapie "Am Stadtpark"...' in sms.body
    assert "Krankengymnastik nach..." in sms.body
    assert sms_segments(sms.body) <= 2
    assert sms.body.endswith(MANAGE_URL)


def test_template_syntax_in_names_is_shown_not_run() -> None:
    record = booking(site_name="Salon {{ 7*7 }}", service_name="{% if true %}Cut{% endif %}")
    body = build_booking_sms(record, event="confirmed", manage_url=MANAGE_URL, from_number=FROM).body
    assert "Salon {{ 7*7 }}" in body
    assert "{% if true %}Cut{% endif %}" in body
    assert "49" not in body


def test_worst_case_names_stay_within_two_segments() -> None:
    for locale in ("en", "de"):
        for event in EVENTS:
            record = booking(locale=locale, site_name="S" * 200, service_name="V" * 200,
                             start=datetime(2026, 9, 23, 8, 0, tzinfo=UTC))  # "Sept" / "Mi."
            body = build_booking_sms(record, event=event, manage_url=MANAGE_URL, from_number=FROM).body
            assert sms_segments(body) <= 2, body
            assert "S" * MAX_PLACE not in body and "V" * MAX_SERVICE not in body


def test_a_site_template_renders_in_the_sandbox() -> None:
    sms = build_booking_sms(booking(), event="reminder", manage_url=MANAGE_URL, from_number=FROM,
                            template="See you {{ day }}\n at {{ time }}, {{ place }}: {{ manage_url }}")
    assert sms.body == f"See you Tue 24 Nov at 09:00, Salon Lindenhof: {MANAGE_URL}"
    with pytest.raises(SecurityError):
        build_booking_sms(booking(), event="reminder", manage_url=MANAGE_URL, from_number=FROM,
                          template="{{ manage_url.__class__.__mro__[1].__subclasses__() }}")


def test_unknown_event_and_missing_phone_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown SMS event"):
        build_booking_sms(booking(), event="paid", manage_url=MANAGE_URL, from_number=FROM)
    with pytest.raises(ValueError, match="no phone"):
        build_booking_sms(booking(customer_phone=None), event="confirmed", manage_url=MANAGE_URL,
                          from_number=FROM)


def test_unsupported_locale_falls_back_to_english() -> None:
    body = build_booking_sms(booking(locale="fr"), event="confirmed", manage_url=MANAGE_URL,
                             from_number=FROM).body
    assert body.startswith("Booked:")
