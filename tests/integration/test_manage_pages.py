"""The manage link's pages: see the booking, cancel it, move it with the booking page's picker."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")

BASE = "/api/v1/sites/test-physio"
NINE = "2026-11-24T09:00:00+01:00"  # Tuesday, Anna's first quick slot
SITE = TEST_SITE.replace(
    'contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\naddress = "Hafenstraße 12, 20457 Hamburg"',
).replace(
    'min_notice = "2h"\nmax_advance = "180d"\nprice = "25.00 EUR"\nresources = ["anna"]',
    'min_notice = "2h"\nmax_advance = "180d"\nprice = "25.00 EUR"\ncancel_until = "24h"\n'
    'reschedule_until = "12h"\nresources = ["anna"]\nquestions = [\n'
    '  { key = "notes", label = "Notes", type = "textarea" },\n]',
)


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(SITE), actor=APPLIER, now=clock())


async def book(client, *, name: str = "Erika", notes: str = "Knee", locale: str = "en") -> str:
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": NINE, "timezone": "Europe/Berlin", "locale": locale,
        "customer": {"name": name, "email": "erika@example.com"}, "answers": {"notes": notes}})
    assert response.status_code == 201, response.text
    return response.json()["manage_url"].rsplit("/", 1)[1]


def text_of(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def form_of(html: str, action_part: str) -> tuple[str, dict[str, str]]:
    """The form whose action contains ``action_part``: its action and hidden fields."""
    for match in re.finditer(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', html, re.S):
        action = unescape(match.group(1))
        if action_part in action:
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(2)))
            return action, {k: unescape(v) for k, v in fields.items()}
    raise AssertionError(f"no form with {action_part}")


async def test_the_page_shows_the_booking_with_customer_text_as_text(client):
    token = await book(client, name="<script>alert(1)</script>", notes='<img src=x onerror="x()">')

    page = await client.get(f"/manage/{token}")

    assert page.status_code == 200
    rows = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text))
    assert rows["Service"] == "Quick check · 30 min" and rows["Status"] == "Confirmed"
    assert rows["When"] == "Tuesday 24 November 2026, 09:00"
    assert rows["Where"] == "Hafenstraße 12, 20457 Hamburg"
    assert (rows["With"], rows["Price"], rows["Notes"]) == ("Anna Berg", "€25.00", "&lt;img src=x onerror=&#34;x()&#34;&gt;")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    assert 'data-sw-event="booked"' in page.text
    assert 'data-sw-action="reschedule"' in page.text and 'data-sw-action="cancel"' in page.text


async def test_every_answer_carries_private_headers(client):
    token = await book(client)

    for url in (f"/manage/{token}", f"/manage/{token}/cancel", f"/manage/{token}/reschedule", "/manage/nope"):
        response = await client.get(url)
        assert response.headers["referrer-policy"] == "no-referrer", url
        assert response.headers["cache-control"] == "no-store", url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], url


async def test_too_late_hides_the_actions_and_says_why_with_the_contact(client, clock):
    token = await book(client)
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 11 hours before: both cut-offs passed

    page = await client.get(f"/manage/{token}")

    assert page.status_code == 200
    assert 'data-sw-action="' not in page.text
    assert "Cancelling online was possible until Monday 23 November 2026, 09:00" in page.text
    assert "Changing the time online was possible until Monday 23 November 2026, 21:00" in page.text
    assert "Please call +49 40 1111111" in text_of(page.text)
    refused = await client.post(f"/manage/{token}/cancel", data={"reason": "late"})
    assert refused.status_code == 409 and "Cancelling online was possible until" in refused.text


async def test_a_booking_made_in_german_is_managed_in_german(client, clock):
    token = await book(client, locale="de")

    page = await client.get(f"/manage/{token}")
    cancel_step = await client.get(f"/manage/{token}/cancel")
    picker = await client.get(f"/manage/{token}/reschedule")
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # both cut-offs passed
    late = await client.get(f"/manage/{token}")

    assert '<html lang="de"' in page.text
    assert "Ihre Buchung bei Test Physio" in page.text and "Dienstag, 24. November 2026" in page.text
    assert ">Termin verlegen<" in page.text and ">Stornieren<" in page.text and "Gebucht" in page.text
    assert "Diese Buchung stornieren?" in cancel_step.text and ">Buchung stornieren<" in cancel_step.text
    assert "Zurück zu Ihrer Buchung" in picker.text and "Ihr jetziger Termin" in picker.text
    assert "Eine Online-Stornierung war bis Montag, 23. November 2026, 09:00 möglich." in late.text
    assert "Bitte rufen Sie +49 40 1111111 an." in text_of(late.text)


async def test_cancelling_shows_the_cancelled_state_and_the_link_then_answers_410(client):
    token = await book(client)
    step = await client.get(f"/manage/{token}/cancel")
    action, fields = form_of(step.text, "/cancel")

    done = await client.post(action, data={**fields, "reason": "Feeling better"})

    assert done.status_code == 200
    assert "This booking is cancelled" in done.text and "Feeling better" in done.text
    again = await client.get(f"/manage/{token}")
    assert again.status_code == 410
    assert 'href="/book/test-physio"' in again.text and 'data-sw-action="' not in again.text


async def test_a_cancelled_booking_cannot_be_moved_from_an_old_page(client):
    token = await book(client)
    picker = await client.get(f"/manage/{token}/reschedule", params={"date": "2026-11-25"})
    action, fields = form_of(picker.text, "/reschedule")
    await client.post(f"/manage/{token}/cancel", data={})

    late = await client.post(action, data={**fields, "start": "2026-11-25T10:00:00+01:00"})

    assert late.status_code == 410 and "This booking is cancelled" in late.text
    assert 'data-sw-event="rescheduled"' not in late.text


async def test_moving_through_the_picker_moves_the_booking(client):
    token = await book(client)
    picker = await client.get(f"/manage/{token}/reschedule", params={"date": "2026-11-25"})
    assert picker.status_code == 200 and 'data-sw-step="calendar"' in picker.text
    action, fields = form_of(picker.text, "/reschedule")
    assert action == f"/manage/{token}/reschedule"
    start = re.search(r'name="start" value="(2026-11-25T10:00[^"]*)"', picker.text).group(1)

    asked = await client.post(action, data={**fields, "start": start})

    assert asked.status_code == 200 and 'data-sw-step="move"' in asked.text
    assert ("Move from Tuesday 24 November, 09:00 to Wednesday 25 November, 10:00?"
            in unescape(asked.text))
    assert "After this move, you can change the time online 2 more times." in asked.text
    still = (await client.get(f"/api/v1/manage/{token}/")).json()["booking"]
    assert still["start"] == "2026-11-24T08:00:00+00:00"  # nothing moved before the customer confirms
    confirm_action, confirm_fields = form_of(asked.text, "/reschedule")
    assert confirm_fields["confirm"] == "1" and confirm_fields["start"] == start

    moved = await client.post(confirm_action, data=confirm_fields)

    assert moved.status_code == 200 and "Your booking has been moved" in moved.text
    assert 'data-sw-event="rescheduled"' in moved.text
    booking = (await client.get(f"/api/v1/manage/{token}/")).json()["booking"]
    assert booking["start"] == "2026-11-25T09:00:00+00:00"


async def test_the_picker_opens_on_the_booked_day_counting_its_own_time_as_free(client):
    # An assessment blocks 09:00-10:00 (45 min + 15 min buffer); the picker for
    # moving it offers 09:15 and 09:30, which overlap only the booking itself.
    booked = await client.post(f"{BASE}/bookings", json={
        "service": "assessment", "start": NINE, "customer": {"name": "Erika", "email": "erika@example.com"}})
    token = booked.json()["manage_url"].rsplit("/", 1)[1]
    public = await client.get("/book/test-physio", params={"service": "assessment", "resource": "anna",
                                                           "date": "2026-11-24"})
    assert 'value="2026-11-24T09:15:00+01:00"' not in public.text  # taken, for everyone else

    picker = await client.get(f"/manage/{token}/reschedule")

    assert 'data-sw-date="2026-11-24"' in picker.text
    assert 'name="start" value="2026-11-24T09:15:00+01:00"' in picker.text
    assert 'name="start" value="2026-11-24T09:30:00+01:00"' in picker.text
    current = re.search(r'<button type="button" class="sw-slot sw-slot--current"[^>]*>', picker.text)
    assert current and 'aria-disabled="true"' in current.group(0)
    assert "Tuesday 24 November, 09:00, your current time, with Anna Berg" in current.group(0)
    assert 'name="start" value="2026-11-24T09:00:00+01:00"' not in picker.text  # not offered


async def test_posting_the_current_time_keeps_the_booking_and_asks_for_another(client):
    token = await book(client)

    response = await client.post(f"/manage/{token}/reschedule", data={"start": NINE})

    assert response.status_code == 200 and 'data-sw-step="calendar"' in response.text
    assert "Please choose a time other than your current one." in response.text
    assert 'data-sw-event="rescheduled"' not in (await client.get(f"/manage/{token}")).text


async def test_a_taken_time_offers_alternatives(client):
    token = await book(client)
    other = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": "2026-11-25T10:00:00+01:00",
        "customer": {"name": "Max", "email": "max@example.com"}, "answers": {}})
    assert other.status_code == 201

    taken = await client.post(f"/manage/{token}/reschedule",
                              data={"start": "2026-11-25T10:00:00+01:00", "confirm": "1"})

    assert taken.status_code == 409 and 'data-sw-step="taken"' in taken.text
    assert f'action="/manage/{token}/reschedule"' in taken.text


async def test_an_unknown_link_answers_404_and_reveals_nothing(client):
    await book(client)

    page = await client.get("/manage/" + "x" * 43)

    assert page.status_code == 404
    assert "Erika" not in page.text and "Quick check" not in page.text and "test-physio" not in page.text


async def test_the_manage_page_itself_forbids_referrers_for_its_links(client, clock):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    booked = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    path = "/manage/" + booked.json()["manage_url"].rsplit("/", 1)[1]

    page = await client.get(path)

    assert '<meta name="referrer" content="no-referrer">' in page.text


# --- the policy before and after booking (issue 13, item 5) -------------------------------


async def details_for(client, start: str = NINE, locale: str = "en") -> str:
    """The booking page's details step for ``start`` (a hold taken as the slot buttons do)."""
    held = await client.post("/book/test-physio/hold", headers={"HX-Request": "true"}, data={
        "service": "quick", "start": start, "tz": "Europe/Berlin", "locale": locale})
    assert held.status_code == 200 and 'data-sw-step="details"' in held.text, held.text[:300]
    return held.text


def policy_line(html: str) -> str:
    match = re.search(r'<p class="sw-info" id="sw-policy">(.*?)</p>', html, re.S)
    assert match, "no policy line"
    return " ".join(unescape(match.group(1)).split())


@pytest.mark.parametrize(
    ("now", "line"),
    [
        pytest.param(datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
                     "Free cancellation online until Monday 23 November, 09:00; "
                     "the time can be changed until Monday 23 November, 21:00.", id="both-ahead"),
        pytest.param(datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
                     "The time can be changed online until Monday 23 November, 21:00. "
                     "Cancelling is not possible online.", id="only-moving"),
        pytest.param(datetime(2026, 11, 23, 21, 0, tzinfo=UTC),
                     "Once booked, this appointment cannot be changed or cancelled online.", id="neither"),
    ],
)
async def test_the_details_step_says_until_when_the_chosen_time_can_be_changed(client, clock, now, line):
    clock.now = now

    assert policy_line(await details_for(client)) == line


async def test_the_policy_line_is_german_on_a_german_page(client):
    line = policy_line(await details_for(client, locale="de"))

    assert line == ("Kostenlose Online-Stornierung bis Montag, 23. November, 09:00; "
                    "der Termin kann bis Montag, 23. November, 21:00 verlegt werden.")


async def test_a_booking_that_could_never_be_changed_online_says_so_and_not_a_past_deadline(client, clock):
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 11 h before: past both cut-offs already
    details = await details_for(client)
    action, fields = form_of(details, "/confirm")

    confirmed = await client.post(action, headers={"HX-Request": "true"}, data={
        **fields, "customer.name": "Erika", "customer.email": "erika@example.com"})

    assert confirmed.status_code == 200 and 'data-sw-step="confirmation"' in confirmed.text
    assert "Change or cancel this booking" not in confirmed.text and "View your booking" in confirmed.text
    assert policy_line(confirmed.text) == "Once booked, this appointment cannot be changed or cancelled online."
    token = re.search(r'href="http[^"]*/manage/([^"/]+)"', confirmed.text).group(1)
    page = text_of((await client.get(f"/manage/{token}")).text)
    assert "Online changes were not possible for this booking. Please call +49 40 1111111." in page
    assert "possible until" not in page


async def test_a_deadline_that_passed_after_booking_is_still_told(client, clock):
    token = await book(client)  # booked on Monday 08:00, cancelling until 09:00
    clock.now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

    page = text_of((await client.get(f"/manage/{token}")).text)

    assert "Cancelling online was possible until Monday 23 November 2026, 09:00." in page
    assert "not possible for this booking" not in page


# --- moving asks first (item 6) -------------------------------------------------------------


async def test_moving_asks_first_in_german_with_the_moves_left(client):
    token = await book(client, locale="de")

    asked = await client.post(f"/manage/{token}/reschedule", data={"start": "2026-11-25T10:00:00+01:00"})

    text = text_of(asked.text)
    assert "Von Dienstag, 24. November, 09:00 auf Mittwoch, 25. November, 10:00 verlegen?" in text
    assert "Nach dieser Verlegung können Sie den Termin noch 2-mal online ändern." in text
    assert ">Termin verlegen<" in asked.text


async def test_the_last_move_allowed_says_no_more_moves_follow(client):
    await apply_site(parse_test_site(SITE.replace(
        'contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\nmax_reschedules = 1')),
        actor=APPLIER, now=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    token = await book(client)

    asked = await client.post(f"/manage/{token}/reschedule", data={"start": "2026-11-25T10:00:00+01:00"})

    assert "After this move, the time cannot be changed online again." in asked.text


# --- the manage page's polish (item 9) ------------------------------------------------------


async def test_the_page_has_one_visible_heading_a_calendar_link_and_cancel_as_secondary(client):
    token = await book(client)

    page = (await client.get(f"/manage/{token}")).text

    assert re.search(r'<h1 class="sw-title sw-vh">', page)  # for the outline; the step's h2 is the one seen
    assert f'href="/api/v1/manage/{token}/booking.ics"' in page and "Add to calendar (.ics)" in page
    cancel = re.search(r'<a class="([^"]*)" data-sw-action="cancel"', page).group(1)
    move = re.search(r'<a class="([^"]*)" data-sw-action="reschedule"', page).group(1)
    assert "sw-button--secondary" in cancel and "sw-button--secondary" not in move
    ics = await client.get(f"/api/v1/manage/{token}/booking.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].count("charset") == 1


async def test_refusals_are_notes_not_errors(client, clock):
    token = await book(client)
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)

    page = (await client.get(f"/manage/{token}")).text

    assert 'class="sw-info" data-sw-refused="too-late"' in page and "sw-notice" not in page


async def test_phone_numbers_and_emails_do_not_break_inside(client):
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": NINE, "timezone": "Europe/Berlin", "locale": "en",
        "customer": {"name": "Erika", "email": "erika@example.com", "phone": "+49 40 1234-567"},
        "answers": {}})
    token = response.json()["manage_url"].rsplit("/", 1)[1]

    page = (await client.get(f"/manage/{token}")).text

    rows = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert rows["Phone"] == "+49401234567"  # stored as E.164: no spaces to break at
    assert '<a class="sw-nobreak" href="tel:+49401111111">+49 40 1111111</a>' in page
    css = (await client.get(re.search(r'href="(/book/[^"]*theme.css[^"]*)"', page).group(1).replace("&amp;", "&"))).text
    assert ".sw-summary dd{margin:0;overflow-wrap:break-word}" in css and ".sw-nobreak{white-space:nowrap}" in css


async def test_the_apis_not_found_answers_read_naturally(client):
    unknown_link = await client.get("/api/v1/manage/nope/")
    unknown_site = await client.get("/api/v1/sites/nowhere/services")

    assert unknown_link.status_code == 404
    assert unknown_link.json()["detail"] == "This link does not lead to a booking. It may be mistyped or expired."
    assert unknown_site.json()["detail"] == "There is no site 'nowhere'."
    no_route = await client.get("/api/v1/nothing-here")
    assert no_route.status_code == 404 and no_route.json()["detail"] == "There is nothing at this address."


async def test_the_confirmation_emails_button_takes_the_sites_accent(client, clock):
    from slotwise.persistence.tables import OutboxMessage

    await apply_site(parse_test_site(SITE.replace('timezone = "Europe/Berlin"',
                                                  'timezone = "Europe/Berlin"\naccent = "#ffdd00"')),
                     actor=APPLIER, now=clock())
    await book(client)

    (row,) = await OutboxMessage.select(OutboxMessage.content).where(
        (OutboxMessage.channel == "email") & (OutboxMessage.event == "confirmed"))
    content = row["content"] if isinstance(row["content"], str) else str(row["content"])
    assert "display:inline-block;background:#7f6e00;color:#ffffff;" in content  # too pale: its readable shade
