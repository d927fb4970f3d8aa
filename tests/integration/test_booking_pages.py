"""The hosted booking page, step by step, through its htmx fragments and as full pages.

Requests are made as a browser would: htmx requests carry ``HX-Request`` (and
``HX-Target`` where the page sets one); forms are submitted with the hidden
fields the previous answer rendered.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Booking, Hold
from slotwise.services.sites import apply_site

from tests.support.pages import Forms, link, step_of
from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")

PAGE = "/book/test-physio"
HTMX = {"HX-Request": "true"}
NINE = "2026-11-24T09:00:00+01:00"  # Tuesday, Anna's first quick slot
FORM_SITE = TEST_SITE.replace(
    'price = "25.00 EUR"\nresources = ["anna"]',
    'price = "25.00 EUR"\nphone = "required"\nresources = ["anna"]\nquestions = [\n'
    '  { key = "reason", label = "Reason", type = "text", max_length = 20 },\n'
    '  { key = "notes", label = "Notes", type = "textarea", max_length = 50 },\n'
    '  { key = "insurance", label = "Insurance", type = "select", options = ["public", "private"], required = true },\n'
    '  { key = "consent", label = "I agree", type = "checkbox", required = true },\n'
    '  { key = "visits", label = "Visits so far", type = "number", min = 0, max = 50 },\n'
    "]",
)
GOOD = {
    "customer.name": "Erika Mustermann",
    "customer.email": "erika@example.com",
    "customer.phone": "040 1234567",
    "answers.insurance": "public",
    "answers.consent": "on",
    "answers.reason": "Back pain",
    "answers.visits": "3",
}


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(FORM_SITE), actor=APPLIER, now=clock())


def field_block(html: str, field_id: str) -> str:
    """The field wrapper of one input, as rendered by _field.html."""
    match = re.search(
        rf'<div class="sw-field[^"]*" id="{field_id}-field">.*?</div>', html, re.DOTALL
    )
    assert match, f"no field {field_id}"
    return match.group(0)


async def hold_and_form(
    client,
    start: str = NINE,
    *,
    service: str = "quick",
    extra: dict | None = None,
    headers: dict | None = None,
):
    """Take a hold the way the slot buttons do; the details form's answer."""
    data = {
        "service": service,
        "start": start,
        "tz": "Europe/Berlin",
        "locale": "en",
        **(extra or {}),
    }
    return await client.post(
        f"{PAGE}/hold", data=data, headers=HTMX if headers is None else headers
    )


async def submit(client, details_html: str, values: dict, headers: dict | None = None):
    form = Forms(details_html).form("/confirm")
    return await client.post(
        form["action"],
        data={**form["fields"], **values},
        headers=HTMX if headers is None else headers,
    )


# --- the whole flow ---------------------------------------------------------------


async def test_a_customer_books_through_every_step_with_htmx(client):
    services = await client.get(PAGE, headers=HTMX)
    assert services.status_code == 200
    assert step_of(services.text) == "services"
    assert "<html" not in services.text  # a fragment, not a page
    assert "Assessment" in services.text and "€25.00" in services.text and "30 min" in services.text

    # Assessment needs one of Anna or Ben: the customer is asked whom to see.
    resources = await client.get(link(services.text, "Assessment"), headers=HTMX)
    assert step_of(resources.text) == "resources"
    assert "Anyone available" in resources.text and "Ben Petersen" in resources.text

    calendar = await client.get(link(resources.text, "Ben Petersen"), headers=HTMX)
    assert step_of(calendar.text) == "calendar"
    assert "November 2026" in calendar.text
    # Ben works Tuesdays 10:00-14:00 only: the 24th is a day button, Monday the 23rd is not.
    assert re.search(
        r'<button type="submit" name="date" value="2026-11-24"[^>]*aria-label="Tuesday 24 November '
        r'2026, \d+ free times"',
        calendar.text,
    )
    assert re.search(
        r'<button type="button" class="sw-day" aria-disabled="true" aria-label="Monday 23 '
        r'November 2026, no free times"',
        calendar.text,
    )

    # A click on a day swaps only the day's times into #sw-slots.
    days = Forms(calendar.text).forms[0]
    slots = await client.get(
        days["action"],
        params={**days["fields"], "date": "2026-11-24"},
        headers={**HTMX, "HX-Target": "sw-slots"},
    )
    assert slots.text.lstrip().startswith('<section id="sw-slots"')
    assert 'aria-label="Tuesday 24 November, 10:00, with Ben Petersen"' in slots.text
    assert "Showing free times for Tuesday 24 November" in slots.text

    hold_form = Forms(slots.text).form("/hold")
    details = await client.post(
        hold_form["action"],
        data={**hold_form["fields"], "start": "2026-11-24T10:00:00+01:00"},
        headers=HTMX,
    )
    assert details.status_code == 200
    assert step_of(details.text) == "details"
    assert 'data-sw-countdown="600"' in details.text
    assert '<time datetime="2026-11-23T07:10:00+00:00">08:10</time>' in details.text
    selected = json.loads(details.headers["hx-trigger"])["slotwise:slot-selected"]
    assert selected == {
        "service": "assessment",
        "start": "2026-11-24T10:00:00+01:00",
        "end": "2026-11-24T10:45:00+01:00",
        "resources": [
            {"key": "ben", "name": "Ben Petersen", "kind": "person"},
            {"key": "room-1", "name": "Room 1", "kind": "room"},
        ],
    }
    assert "hold=" in details.headers["hx-push-url"]
    assert await Hold.count() == 1

    done = await submit(
        client,
        details.text,
        {"customer.name": "Erika Mustermann", "customer.email": "erika@example.com"},
    )
    assert done.status_code == 200, done.text
    assert step_of(done.text) == "confirmation"
    booking = await Booking.select().first()
    assert booking["customer_name"] == "Erika Mustermann"
    assert booking["timezone"] == "Europe/Berlin" and booking["locale"] == "en"
    manage = re.search(
        r'href="(http://testserver\.local/manage/[A-Za-z0-9_-]{40,})"', done.text
    ).group(1)
    token = manage.rsplit("/", 1)[1]
    assert f"http://testserver.local/api/v1/manage/{token}/booking.ics" in done.text
    assert "Tuesday 24 November 2026, 10:00" in done.text
    booked = json.loads(done.headers["hx-trigger"])["slotwise:booked"]
    assert booked == {
        "id": str(booking["uid"]),
        "service": "assessment",
        "start": "2026-11-24T10:00:00+01:00",
        "end": "2026-11-24T10:45:00+01:00",
    }
    assert await Hold.count() == 0


async def test_every_step_has_its_own_url_that_renders_the_full_page(client):
    """Back and reload: each pushed URL shows the same step without htmx."""
    calendar_url = f"{PAGE}?service=quick&month=2026-11&tz=Europe%2FBerlin&locale=en"
    for url, step in [
        (PAGE, "services"),
        (f"{PAGE}?service=assessment", "resources"),
        (f"{PAGE}?service=assessment&resource=any", "calendar"),
        (calendar_url, "calendar"),
        (f"{PAGE}?service=quick&date=2026-11-24", "calendar"),
    ]:
        page = await client.get(url)
        assert page.status_code == 200
        assert page.text.startswith("<!doctype html>")
        assert step_of(page.text) == step, url
    day = await client.get(f"{PAGE}?service=quick&date=2026-11-24")
    assert 'id="sw-slots"' in day.text and "Free times on Tuesday 24 November" in day.text

    # Without htmx a hold answers with a redirect to the details step's own URL (no re-POST on reload).
    moved = await hold_and_form(client, headers={})
    assert moved.status_code == 303
    details_url = moved.headers["location"]
    assert parse_qs(urlsplit(details_url).query)["start"] == ["2026-11-24T09:00:00+01:00"]
    details = await client.get(details_url)
    assert step_of(details.text) == "details" and details.text.startswith("<!doctype html>")
    assert details.text.count("data-sw-countdown") == 1

    done = await submit(client, details.text, GOOD, headers={})
    assert done.status_code == 200
    assert done.text.startswith("<!doctype html>") and step_of(done.text) == "confirmation"


async def test_the_confirmation_url_shows_the_booking_again_after_a_reload(client):
    details = await hold_and_form(client)
    done = await submit(client, details.text, GOOD)
    again = await client.get(done.headers["hx-replace-url"])

    assert step_of(again.text) == "confirmation"
    manage = re.search(r"http://testserver\.local/manage/[A-Za-z0-9_-]+", done.text).group(0)
    assert manage in again.text
    assert "Tuesday 24 November 2026, 09:00" in again.text
    assert "erika@example.com" not in done.headers["hx-replace-url"]  # no customer data in URLs
    tampered = done.headers["hx-replace-url"].replace("booked=", "booked=x")
    assert step_of((await client.get(tampered)).text) != "confirmation"


async def test_the_calendar_opens_with_the_first_free_days_times_shown(client):
    page = await client.get(f"{PAGE}?service=quick", headers=HTMX)

    # Monday the 23rd, 08:00 now: two hours' notice leaves 10:00 as the first time.
    assert 'data-sw-date="2026-11-23"' in page.text
    assert re.search(
        r'<td aria-selected="true"><button type="submit" name="date" value="2026-11-23"', page.text
    )
    assert 'value="2026-11-23T10:00:00+01:00"' in page.text


async def test_the_days_times_as_a_fragment_match_the_full_page(client):
    full = await client.get(f"{PAGE}?service=quick&date=2026-11-24")
    fragment = await client.get(
        f"{PAGE}?service=quick&date=2026-11-24", headers={**HTMX, "HX-Target": "sw-slots"}
    )

    def buttons(html):
        return re.findall(
            r'<button type="submit" class="sw-slot" name="start" value="([^"]+)" aria-label="([^"]+)"',
            html,
        )

    assert buttons(fragment.text) == buttons(full.text)
    assert buttons(fragment.text)[0] == (
        "2026-11-24T09:00:00+01:00",
        "Tuesday 24 November, 09:00, with Anna Berg",
    )
    assert fragment.headers["content-security-policy"] == full.headers["content-security-policy"]


async def test_an_unknown_service_goes_back_to_the_list_with_a_message(client):
    page = await client.get(f"{PAGE}?service=massage", headers=HTMX)

    assert step_of(page.text) == "services"
    assert "This service cannot be booked online" in page.text


async def test_a_resource_that_does_not_give_the_service_is_asked_for_again(client):
    page = await client.get(f"{PAGE}?service=assessment&resource=studio", headers=HTMX)

    assert step_of(page.text) == "resources"
    assert "Please choose again." in page.text


async def test_group_sessions_show_the_places_left(client):
    services = await client.get(PAGE)
    assert "group of up to 3" in services.text
    assert "Next: Wednesday 25 November, 18:00, 3 places left" in services.text

    day = await client.get(f"{PAGE}?service=class&date=2026-11-25")
    assert (
        'aria-label="Wednesday 25 November, 18:00, 3 places left"' in day.text
    )  # a room is not named


async def test_going_back_with_htmx_history_gets_the_whole_page(client):
    # With no history cache (nothing kept in sessionStorage) htmx asks the server again.
    restore = {**HTMX, "HX-History-Restore-Request": "true"}

    page = await client.get(f"{PAGE}?service=quick", headers=restore)

    assert page.text.startswith("<!doctype html>")
    assert step_of(page.text) == "calendar"


async def test_a_post_never_puts_its_own_url_into_the_history(client):
    answer = await client.post(
        f"{PAGE}/hold", data={"service": "quick", "tz": "Europe/Berlin"}, headers=HTMX
    )

    assert answer.headers["hx-push-url"] == "false"
    assert step_of(answer.text) == "calendar"
    assert "Please choose a time." in answer.text


async def test_posting_to_an_unknown_site_answers_404(client):
    answer = await client.post("/book/no-such-site/hold", data={"service": "quick", "start": NINE})

    assert answer.status_code == 404
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


# --- validation -------------------------------------------------------------------


async def test_each_invalid_field_is_marked_inline_and_the_typed_values_are_kept(client):
    details = await hold_and_form(client)
    typed = {
        "customer.name": "  ",
        "customer.email": "erika@",
        "customer.phone": "12",
        "answers.reason": "x" * 21,
        "answers.notes": "n" * 51,
        "answers.insurance": "gold",
        "answers.visits": "51",
    }  # and the required consent checkbox left unticked

    answer = await submit(client, details.text, typed)

    assert answer.status_code == 422
    assert step_of(answer.text) == "details"
    expected = {
        "f-customer-name": "Please enter your name.",
        "f-customer-email": "This email address is not valid.",
        "f-customer-phone": "This phone number is not valid.",
        "f-answers-reason": "Please use at most 20 characters.",
        "f-answers-notes": "Please use at most 50 characters.",
        "f-answers-insurance": "Please choose one of the options.",
        "f-answers-consent": "Please confirm this to continue.",
        "f-answers-visits": "Please enter 50 or less.",
    }
    for field_id, message in expected.items():
        block = field_block(answer.text, field_id)
        assert f'<p class="sw-error" id="{field_id}-error">{message}</p>' in block, block
        assert 'aria-invalid="true"' in block and f'aria-describedby="{field_id}-error"' in block
    assert 'value="erika@"' in field_block(answer.text, "f-customer-email")
    assert f'value="{"x" * 21}"' in field_block(answer.text, "f-answers-reason")
    assert f">{'n' * 51}</textarea>" in field_block(answer.text, "f-answers-notes")
    assert 'value="51"' in field_block(answer.text, "f-answers-visits")
    # The summary links each message to its field; the hold and the form token are kept.
    assert '<a href="#f-customer-email">Email: This email address is not valid.</a>' in answer.text
    assert (
        Forms(answer.text).form("/confirm")["fields"]["form"]
        == Forms(details.text).form("/confirm")["fields"]["form"]
    )
    assert answer.headers["hx-push-url"] == "false"
    assert await Booking.count() == 0


async def test_a_number_that_is_not_a_number_and_a_missing_answer_are_reported(client):
    details = await hold_and_form(client)

    answer = await submit(
        client, details.text, {**GOOD, "answers.visits": "many", "answers.insurance": ""}
    )

    assert "Please enter a number." in field_block(answer.text, "f-answers-visits")
    assert "Please answer this question." in field_block(answer.text, "f-answers-insurance")
    assert "checked" in field_block(answer.text, "f-answers-consent")  # a ticked box stays ticked


async def test_a_forged_or_foreign_form_token_is_refused_without_booking(client):
    details = await hold_and_form(client)

    answer = await submit(client, details.text, {**GOOD, "form": "forged.token.value"})

    assert answer.status_code == 422
    assert "This form has expired" in answer.text
    assert await Booking.count() == 0


# --- idempotency, taken slots, expiry ---------------------------------------------


async def test_a_double_submit_books_once_and_answers_both_with_the_same_confirmation(client):
    details = await hold_and_form(client)

    first = await submit(client, details.text, GOOD)
    second = await submit(client, details.text, GOOD)

    assert first.status_code == second.status_code == 200
    assert step_of(second.text) == "confirmation"
    manage = re.compile(r"/manage/([A-Za-z0-9_-]+)")
    assert manage.search(first.text).group(1) == manage.search(second.text).group(1)
    assert await Booking.count() == 1


async def test_a_slot_taken_meanwhile_offers_three_alternatives_that_keep_what_was_typed(
    client, clock
):
    details = await hold_and_form(client)
    clock.advance(timedelta(minutes=11))  # the hold lapses and someone else books the time
    other = await client.post(
        "/api/v1/sites/test-physio/bookings",
        json={
            "service": "quick",
            "start": NINE,
            "answers": {"insurance": "private", "consent": True},
            "customer": {"name": "Max", "email": "max@example.com", "phone": "+49 40 7654321"},
        },
    )
    assert other.status_code == 201

    taken = await submit(client, details.text, GOOD)

    assert taken.status_code == 409
    assert step_of(taken.text) == "taken"
    assert json.loads(taken.headers["hx-trigger"])["slotwise:error"]["code"] == "slot-unavailable"
    form = Forms(taken.text).form("/hold")
    assert [b["value"] for b in form["buttons"]] == [
        "2026-11-24T09:30:00+01:00",
        "2026-11-24T10:00:00+01:00",
        "2026-11-24T10:30:00+01:00",
    ]
    assert form["fields"]["customer.name"] == "Erika Mustermann"
    assert form["fields"]["answers.reason"] == "Back pain"

    # One click on an alternative holds it and shows the form filled in again.
    again = await client.post(
        form["action"], data={**form["fields"], "start": form["buttons"][0]["value"]}, headers=HTMX
    )
    assert step_of(again.text) == "details"
    assert 'value="Erika Mustermann"' in field_block(again.text, "f-customer-name")
    assert "checked" in field_block(again.text, "f-answers-consent")
    assert (await submit(client, again.text, GOOD)).status_code == 200
    assert await Booking.count() == 2


async def test_picking_a_time_someone_holds_shows_the_alternatives(client):
    await hold_and_form(client)

    taken = await hold_and_form(client)

    assert taken.status_code == 409 and step_of(taken.text) == "taken"
    assert "Someone else has just booked Tuesday 24 November 2026, 09:00" in taken.text


async def test_going_back_and_picking_the_same_time_again_keeps_ones_own_hold(client):
    details = await hold_and_form(client)

    back = await client.get(link(details.text, "Choose another time"), headers=HTMX)
    form = Forms(back.text).form("/hold")
    again = await client.post(form["action"], data={**form["fields"], "start": NINE}, headers=HTMX)

    assert again.status_code == 200 and step_of(again.text) == "details"
    assert "Anna Berg" in again.text
    assert await Hold.count() == 1
    assert (await submit(client, again.text, GOOD)).status_code == 200
    assert await Booking.count() == 1


async def test_an_expired_hold_still_books_when_the_time_is_free(client, clock):
    details = await hold_and_form(client)
    clock.advance(timedelta(minutes=10, seconds=1))

    done = await submit(client, details.text, GOOD)

    assert step_of(done.text) == "confirmation"
    assert await Booking.count() == 1


async def test_when_the_countdown_ends_fresh_times_replace_the_form(client, clock):
    details = await hold_and_form(client)
    form = Forms(details.text).form("/confirm")
    clock.advance(timedelta(minutes=10))

    expired = await client.post(f"{PAGE}/expired", data={**form["fields"], **GOOD}, headers=HTMX)

    assert step_of(expired.text) == "expired"
    assert json.loads(expired.headers["hx-trigger"])["slotwise:error"]["code"] == "hold-expired"
    buttons = Forms(expired.text).form("/hold")
    assert "2026-11-24T09:00:00+01:00" in [b["value"] for b in buttons["buttons"]]  # free again
    assert buttons["fields"]["customer.email"] == "erika@example.com"
    # The details URL, reloaded after the hold ran out, shows the same fresh times.
    reloaded = await client.get(details.headers["hx-push-url"])
    assert step_of(reloaded.text) == "expired"


async def test_a_form_rendered_after_the_hold_ran_out_says_so_instead_of_counting_down(
    client, clock
):
    details = await hold_and_form(client)
    clock.advance(timedelta(minutes=12))

    answer = await submit(client, details.text, {**GOOD, "customer.name": ""})

    assert "data-sw-countdown" not in answer.text
    assert "you can still book this time" in answer.text


# --- language -----------------------------------------------------------------------


async def test_german_pages_use_german_words_dates_and_prices(client):
    services = await client.get(f"{PAGE}?locale=de")
    assert '<html lang="de">' in services.text
    assert "Leistung wählen" in services.text
    assert "30 Min. · 25,00\u00a0€" in services.text  # Babel puts a no-break space before the sign

    day = await client.get(f"{PAGE}?service=quick&date=2026-11-24&locale=de")
    assert "Freie Termine am Dienstag, 24. November" in day.text
    assert 'aria-label="Dienstag, 24. November 2026, 14 freie Termine"' in day.text
    assert 'aria-label="Dienstag, 24. November, 09:00, bei Anna Berg"' in day.text

    details = await hold_and_form(client, extra={"locale": "de"})
    answer = await submit(
        client, details.text, {**GOOD, "customer.email": "", "answers.consent": ""}
    )
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in field_block(
        answer.text, "f-customer-email"
    )
    assert "Bitte bestätigen Sie dies, um fortzufahren." in answer.text


async def test_the_language_follows_the_browser_unless_the_url_names_one(client):
    browser_de = await client.get(
        PAGE, headers={"Accept-Language": "fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7"}
    )
    assert '<html lang="de">' in browser_de.text
    named = await client.get(f"{PAGE}?locale=en", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in named.text
    # Neither: the site's own language (the test site's is English).
    assert '<html lang="en">' in (await client.get(PAGE, headers={"Accept-Language": "fr"})).text


async def test_times_show_in_the_customers_zone_with_the_business_time_beside_them(client):
    day = await client.get(f"{PAGE}?service=quick&date=2026-11-24&tz=America/New_York")

    assert 'aria-label="Tuesday 24 November, 03:00, with Anna Berg, 09:00 in Berlin"' in day.text
    switch = link(day.text, "Show Test Physio's time zone")
    business = await client.get(switch + "&date=2026-11-24")
    assert 'aria-label="Tuesday 24 November, 09:00, with Anna Berg"' in business.text
    assert "tz=America%2FNew_York" in link(business.text, "Show my time zone")


async def test_a_slots_label_holds_its_visible_text_in_order_when_the_person_is_chosen(client):
    # The button shows "03:00 / 09:00 in Berlin"; Anna, chosen before, is named last (WCAG 2.5.3).
    day = await client.get(f"{PAGE}?service=assessment&resource=anna&date=2026-11-24&tz=America/New_York")

    assert 'aria-label="Tuesday 24 November, 03:00, 09:00 in Berlin, with Anna Berg"' in day.text


# --- security ----------------------------------------------------------------------


async def test_customer_text_is_escaped_on_the_confirmation(client):
    details = await hold_and_form(client)

    done = await submit(
        client,
        details.text,
        {
            **GOOD,
            "customer.name": "<script>alert(1)</script>",
            "answers.notes": '<img src=x onerror="x()">',
        },
    )

    assert step_of(done.text) == "confirmation"
    assert "<script>alert" not in done.text and "<img src=x" not in done.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.text
    assert "&lt;img src=x onerror=" in done.text


async def test_pages_may_be_framed_only_by_the_sites_origins_and_our_own(client):
    page = await client.get(PAGE)
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors https://test-physio.example http://testserver.local" in csp
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe" not in csp
    config = json.loads(
        re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page.text).group(1)
    )
    assert config["allowEval"] is False and config["selfRequestsOnly"] is True
    assert config["historyCacheSize"] == 0  # nothing the customer typed is kept in sessionStorage

    unknown = await client.get("/book/no-such-site")
    assert unknown.status_code == 404
    assert "frame-ancestors 'none'" in unknown.headers["content-security-policy"]
    assert "This booking page does not exist" in unknown.text


async def test_no_response_of_the_flow_sets_a_cookie_or_inline_script(client):
    responses = [await client.get(PAGE), await client.get(f"{PAGE}?service=quick&date=2026-11-24")]
    details = await hold_and_form(client)
    responses += [
        details,
        await submit(client, details.text, {}),
        await submit(client, details.text, GOOD),
    ]
    responses.append(await client.get(f"{PAGE}/theme.css?accent=0a7f6f"))

    for response in responses:
        assert "set-cookie" not in response.headers
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)  # every script is a file
        assert " style=" not in response.text and " hx-on" not in response.text


async def test_the_host_page_gets_messages_only_when_its_origin_is_allowed(client):
    allowed = await client.get(
        PAGE, params={"embed": "1", "wid": "w1-abc", "host": "https://test-physio.example"}
    )
    assert 'data-sw-host="https://test-physio.example"' in allowed.text
    assert 'data-sw-wid="w1-abc"' in allowed.text
    assert 'class="sw-header"' not in allowed.text  # embedded: no page chrome

    foreign = await client.get(
        PAGE, params={"embed": "1", "wid": "w1<x>", "host": "https://evil.example"}
    )
    assert "data-sw-host" not in foreign.text and "data-sw-wid" not in foreign.text
    # Links keep the view parameters, so every step stays embedded.
    assert "embed=1" in link(allowed.text, "Quick check") and "wid=w1-abc" in link(
        allowed.text, "Quick check"
    )


async def test_the_accent_colour_comes_with_a_readable_text_colour(client):
    page = await client.get(PAGE, params={"accent": "#ffdd00"})
    theme_url = re.search(
        r'<link rel="stylesheet" href="(/book/test-physio/theme\.css\?[^"]+)"', page.text
    ).group(1)

    css = (await client.get(theme_url.replace("&amp;", "&"))).text

    assert "--sw-accent:#ffdd00" in css
    assert "--sw-on-accent:#000000" in css  # black on yellow, not white
    from slotwise.web.booking.assets import contrast

    ink = re.search(r"--sw-ink:#([0-9a-f]{6})", css).group(1)
    assert contrast(ink, "ffffff") >= 4.5
    dark = (await client.get(f"{PAGE}/theme.css", params={"accent": "0a3f6f"})).text
    assert "--sw-on-accent:#ffffff" in dark


async def test_fingerprinted_static_files_are_cached_for_a_year(client):
    from slotwise.web.static import asset_url

    versioned = await client.get(asset_url("js/booking.js"))
    plain = await client.get("/static/js/booking.js")

    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["cache-control"] == "no-cache"


async def test_the_page_loads_one_script_and_one_stylesheet(client):
    page = await client.get(PAGE)

    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert len(scripts) == 1 and len(sheets) == 1
    bundle = await client.get(unescape(scripts[0]))
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert bundle.text.index("htmx") < bundle.text.index("slotwise")  # htmx first, then ours
    assert "\n//" not in bundle.text.split("Slotwise booking page", 1)[1]


async def test_the_with_row_stays_the_same_after_a_validation_error(client):
    details = await hold_and_form(client, service="assessment", extra={"resource": "any"})
    before = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", details.text))

    answer = await submit(client, details.text, {"customer.name": "", "customer.email": "x"})

    assert answer.status_code == 422
    after = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", answer.text))
    assert before["With"] == "Anna Berg, Room 1" and after["With"] == before["With"]


async def test_the_details_step_states_the_change_policy_for_the_chosen_time(client):
    details = await hold_and_form(client)

    # No cut-offs in this site file: changes are possible online until the start.
    assert ('<p class="sw-info" id="sw-policy">Free cancellation and changes online until '
            "Tuesday 24 November, 09:00.</p>") in details.text


async def test_a_long_day_groups_its_times_by_part_of_the_day(client):
    page = await client.get(PAGE, params={"service": "assessment", "resource": "any", "date": "2026-11-24",
                                          "tz": "Europe/Berlin", "locale": "en"})

    assert '<h4 class="sw-h4" id="sw-part-morning">Morning</h4>' in page.text
    assert '<h4 class="sw-h4" id="sw-part-afternoon">Afternoon</h4>' in page.text
    morning = page.text.split('id="sw-part-morning"')[1].split('id="sw-part-afternoon"')[0]
    assert 'value="2026-11-24T09:00:00+01:00"' in morning and "T13:" not in morning
    short = await client.get(PAGE, params={"service": "class", "date": "2026-11-25", "locale": "en"})
    assert 'value="2026-11-25T18:00:00+01:00"' in short.text
    assert "sw-part-" not in short.text  # one evening class: one plain list
