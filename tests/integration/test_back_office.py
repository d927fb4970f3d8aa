"""The back office over HTTP: sign-in and its cookie, CSRF, sessions, who sees which booking, move and cancel."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from slotwise.domain.access import Role
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Booking as BookingTable
from slotwise.services import accounts
from slotwise.services.config import ServiceConfig
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')
PASSWORD = "correct horse battery"
NINE, ELEVEN = "2026-11-24T09:00:00+01:00", "2026-11-24T11:00:00+01:00"


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def member(settings, clock, email: str, role: Role = Role.OWNER, site: str = "test-physio",
                 resource: str | None = None) -> None:
    added = await accounts.add_member(email, site_slug=site, role=role, resource=resource, actor=APPLIER,
                                      now=clock(), config=ServiceConfig.from_settings(settings),
                                      send_invitation=False)
    await accounts.set_password(added.link_url.rsplit("/", 1)[1], PASSWORD, now=clock())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def signed_in(client: httpx.AsyncClient, email: str) -> str:
    """Signs in on the shared client (its cookie jar) and answers the session's CSRF token."""
    client.cookies.clear()
    page = await client.get("/admin/login")
    response = await client.post("/admin/login", data={
        "email": email, "password": PASSWORD, "next": "/admin", "csrf": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    day = await client.get("/admin/sites/test-physio")
    assert day.status_code == 200, day.text
    return csrf_of(day.text)


async def book(client, start: str = NINE, site: str = "test-physio", service: str = "quick",
               name: str = "Erika Muster", resource: str | None = None) -> str:
    body = {"service": service, "start": start,
            "customer": {"name": name, "email": re.sub(r"[^a-z]+", ".", name.lower()).strip(".") + "@example.com"}}
    if resource:
        body["resource"] = resource
    response = await client.post(f"/api/v1/sites/{site}/bookings", json=body)
    assert response.status_code == 201, response.text
    row = await BookingTable.select(BookingTable.uid).order_by(BookingTable.id, ascending=False).first()
    return "bkg_" + str(row["uid"]).replace("-", "")


# --- signing in -----------------------------------------------------------------------------


async def test_sign_in_sets_an_httponly_lax_session_cookie_and_pages_are_no_store_and_unframable(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    client.cookies.clear()
    page = await client.get("/admin/login")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    response = await client.post("/admin/login", data={
        "email": "owner@example.com", "password": PASSWORD, "next": "/admin", "csrf": csrf_of(page.text)})
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("slotwise_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/admin" in flags
    assert "secure" not in flags  # a plain-HTTP development base URL
    day = await client.get("/admin/sites/test-physio")
    assert day.status_code == 200 and day.headers["cache-control"] == "no-store"
    assert "Test Physio" in day.text


async def test_outside_plain_http_development_the_cookie_is_secure(settings, database, clock):
    await member(settings, clock, "owner@example.com")
    app = create_app(replace(settings, base_url="https://book.example.com"), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://book.example.com") as http:
        page = await http.get("/admin/login")
        response = await http.post("/admin/login", data={
            "email": "owner@example.com", "password": PASSWORD, "csrf": csrf_of(page.text)})
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("slotwise_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


async def test_a_wrong_password_and_an_unknown_email_answer_identically(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    answers = []
    for email in ("owner@example.com", "nobody@example.com"):
        client.cookies.clear()
        page = await client.get("/admin/login")
        token = csrf_of(page.text)
        response = await client.post("/admin/login", data={"email": email, "password": "wrong password!",
                                                           "csrf": token})
        assert "slotwise_session" not in response.headers.get("set-cookie", "")
        answers.append((response.status_code, response.text.replace(email, "EMAIL").replace(token, "TOKEN")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400


async def test_a_form_without_its_csrf_token_is_refused(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    client.cookies.clear()
    await client.get("/admin/login")
    refused = await client.post("/admin/login", data={"email": "owner@example.com", "password": PASSWORD})
    assert refused.status_code == 403
    assert "slotwise_session" not in refused.headers.get("set-cookie", "")
    token = await signed_in(client, "owner@example.com")
    booking = await book(client)
    url = f"/admin/sites/test-physio/bookings/{booking}/cancel"
    for headers, data in (({}, {"confirm": "1"}), ({}, {"confirm": "1", "csrf": "0" * 64}),
                          ({"X-CSRF-Token": "nope"}, {"confirm": "1"})):
        answer = await client.post(url, data=data, headers=headers)
        assert answer.status_code == 403
    assert (await BookingTable.select(BookingTable.status).first())["status"] == "confirmed"
    # The same request with the token (form field or htmx header) goes through.
    confirmed = await client.post(url, data={"confirm": "1"}, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert confirmed.status_code == 204 and confirmed.headers["hx-redirect"].endswith("notice=cancelled")


async def test_signing_out_everywhere_ends_every_session(client, settings, clock, database):
    await member(settings, clock, "owner@example.com")
    app = create_app(settings, database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as other:
        page = await other.get("/admin/login")
        await other.post("/admin/login", data={"email": "owner@example.com", "password": PASSWORD,
                                               "csrf": csrf_of(page.text)})
        assert (await other.get("/admin/sites/test-physio")).status_code == 200
        token = await signed_in(client, "owner@example.com")
        out = await client.post("/admin/logout-everywhere", data={"csrf": token})
        assert out.status_code == 303
        # The other browser's session was revoked on the server: it is sent to sign in.
        again = await other.get("/admin/sites/test-physio")
        assert again.status_code == 303 and again.headers["location"].startswith("/admin/login?next=")
    assert (await client.get("/admin/sites/test-physio")).status_code == 303


async def test_sign_out_ends_this_session_on_the_server(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    cookie = client.cookies.get("slotwise_session")
    await client.post("/admin/logout", data={"csrf": token})
    client.cookies.set("slotwise_session", cookie, path="/admin")  # a copy of the old cookie is worth nothing
    assert (await client.get("/admin/sites/test-physio")).status_code == 303


async def test_reset_answers_the_same_for_any_address_and_the_link_sets_a_new_password(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    texts = []
    for email in ("owner@example.com", "nobody@example.com"):
        client.cookies.clear()
        page = await client.get("/admin/reset")
        answer = await client.post("/admin/reset", data={"email": email, "csrf": csrf_of(page.text)})
        assert answer.status_code == 200
        texts.append(answer.text.replace(email, "EMAIL").replace(csrf_of(page.text), "T"))
    assert texts[0] == texts[1]
    # An invitation link (what `account add` prints) sets the password of a new member.
    added = await accounts.add_member("new@example.com", site_slug="test-physio", role=Role.VIEWER,
                                      actor=APPLIER, now=clock(), config=ServiceConfig.from_settings(settings),
                                      send_invitation=False)
    path = added.link_url.removeprefix(settings.base_url)
    client.cookies.clear()
    page = await client.get(path)
    assert page.status_code == 200 and "new@example.com" in page.text
    short = await client.post(path, data={"password": "short", "repeat": "short", "csrf": csrf_of(page.text)})
    assert short.status_code == 422
    done = await client.post(path, data={"password": PASSWORD, "repeat": PASSWORD, "csrf": csrf_of(page.text)})
    assert done.status_code == 303 and "password-set" in done.headers["location"]
    assert (await client.get(path)).status_code == 404  # used up
    await signed_in(client, "new@example.com")


async def test_a_person_of_two_sites_switches_between_them(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "owner@example.com", site="other-studio")
    await signed_in(client, "owner@example.com")
    page = await client.get("/admin/sites/test-physio")
    assert 'id="site-switch"' in page.text and "other-studio" in page.text
    switched = await client.get("/admin/switch", params={"site": "other-studio"})
    assert switched.headers["location"] == "/admin/sites/other-studio"
    assert (await client.get("/admin/sites/other-studio")).status_code == 200


# --- who sees what ------------------------------------------------------------------------


async def test_another_site_is_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    theirs = await book(client, site="other-studio")
    assert (await client.get("/admin/sites/other-studio")).status_code == 404
    assert (await client.get(f"/admin/sites/other-studio/bookings/{theirs}")).status_code == 404
    assert (await client.get(f"/admin/sites/test-physio/bookings/{theirs}")).status_code == 404
    assert (await client.get("/admin/sites/no-such-site")).status_code == 404


async def test_staff_see_their_column_only_and_another_resources_booking_is_not_found(client, settings, clock):
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    annas = await book(client, start=NINE, service="assessment", name="Anna Kundin", resource="anna")
    bens = await book(client, start=ELEVEN, service="assessment", name="Ben Kunde", resource="ben")
    token = await signed_in(client, "ben@example.com")
    day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert 'id="col-ben"' in day.text and 'id="col-anna"' not in day.text
    assert "Ben Kunde" in day.text and "Anna Kundin" not in day.text
    for path in (f"/admin/sites/test-physio/bookings/{annas}", f"/admin/sites/test-physio/bookings/{annas}/move"):
        assert (await client.get(path)).status_code == 404
    refused = await client.post(f"/admin/sites/test-physio/bookings/{annas}/cancel",
                                data={"confirm": "1", "csrf": token})
    assert refused.status_code == 404
    assert (await client.get(f"/admin/sites/test-physio/bookings/{bens}")).status_code == 200


async def test_a_viewer_reads_but_may_not_cancel(client, settings, clock):
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    booking = await book(client)
    token = await signed_in(client, "viewer@example.com")
    panel = await client.get(f"/admin/sites/test-physio/bookings/{booking}")
    assert panel.status_code == 200 and "/cancel" not in panel.text
    answer = await client.post(f"/admin/sites/test-physio/bookings/{booking}/cancel",
                               data={"confirm": "1", "csrf": token})
    assert answer.status_code == 403


# --- the day and the panel ----------------------------------------------------------------


async def test_the_day_view_shows_bookings_per_resource_with_seats_of_group_sessions(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await book(client, name="Erika <b>Muster</b>")
    await signed_in(client, "owner@example.com")
    day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert "Erika &lt;b&gt;Muster&lt;/b&gt;" in day.text and "<b>Muster" not in day.text
    assert 'id="col-anna"' in day.text and 'id="col-room-1"' in day.text
    assert 'hx-trigger="every 30s"' in day.text
    # The poll asks for the fragment only.
    fragment = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"},
                                headers={"HX-Request": "true", "HX-Target": "day"})
    assert fragment.text.lstrip().startswith('<section id="day"')


async def test_moving_and_cancelling_through_the_panel_record_the_account(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    booking = await book(client)
    token = await signed_in(client, "owner@example.com")
    url = f"/admin/sites/test-physio/bookings/{booking}"
    move_page = await client.get(f"{url}/move")
    starts = re.findall(r'name="start" value="([^"]+)"', move_page.text)
    assert starts and "2026-11-24T09:00:00+01:00" not in starts
    target = starts[0]
    confirm = await client.post(f"{url}/move", data={"start": target, "csrf": token})
    assert confirm.status_code == 200 and "Move this booking?" in confirm.text
    assert (await BookingTable.select(BookingTable.start_at).first())["start_at"].isoformat() != target
    moved = await client.post(f"{url}/move", data={"start": target, "confirm": "1", "notify": "1", "csrf": token})
    assert moved.status_code == 303
    panel = await client.get(moved.headers["location"])
    assert "The booking has been moved." in panel.text
    api = await admin_booking(client, settings, clock, booking)
    assert api["start"] == target
    asked = await client.post(f"{url}/cancel", data={"reason": "Ill", "notify": "1", "csrf": token})
    assert "Cancel this booking?" in asked.text
    done = await client.post(f"{url}/cancel", data={"reason": "Ill", "notify": "1", "confirm": "1", "csrf": token})
    assert done.status_code == 303
    api = await admin_booking(client, settings, clock, booking)
    assert api["status"] == "cancelled"
    actors = [(h["kind"], h["actor"]["kind"]) for h in api["history"]]
    assert ("rescheduled", "account") in actors and ("cancelled", "account") in actors


async def admin_booking(client, settings, clock, booking: str) -> dict:
    from slotwise.domain.access import Scope
    from slotwise.services import keys

    created = await keys.create_key("test-physio", name="check", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    answer = await client.get(f"/api/v1/admin/sites/test-physio/bookings/{booking}",
                              headers={"Authorization": f"Bearer {created.secret}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_page_without_a_session_sends_to_sign_in_and_back(client, clock):
    client.cookies.clear()
    answer = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=/admin/sites/test-physio%3Fday%3D2026-11-24"
    clock.now += timedelta(0)


async def test_the_demo_prints_the_back_office_and_books_the_coming_days(slotwise):
    ran = slotwise("demo", "--no-serve")
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"Back office:\s+http://\S+/admin\b", ran.stdout)
    assert "owner@harbour-physio.example" in ran.stdout
    rows = await BookingTable.select(BookingTable.start_at).where(BookingTable.status == "confirmed")
    days = {row["start_at"].date() for row in rows}
    assert len(rows) >= 10 and len(days) >= 4
    again = slotwise("demo", "--no-serve")  # a restarted demo keeps its bookings, adds none
    assert again.returncode == 0
    assert await BookingTable.count().where(BookingTable.status == "confirmed") == len(rows)


async def test_a_browser_whose_session_was_revoked_elsewhere_can_sign_in_again(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    account = (await accounts.list_members("test-physio"))[0].account
    await accounts.sign_out_everywhere(account.public_id, actor=APPLIER, now=clock())
    # The stale session cookie is still in this browser; the sign-in form must work all the same.
    assert client.cookies.get("slotwise_session")
    page = await client.get("/admin/login")
    response = await client.post("/admin/login", data={
        "email": "owner@example.com", "password": PASSWORD, "next": "/admin", "csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert (await client.get("/admin/sites/test-physio")).status_code == 200


async def test_time_off_shows_on_its_day_in_its_resources_column_only(client, settings, clock):
    from datetime import datetime

    from slotwise.services import time_off
    from slotwise.services.availability import get_site

    await member(settings, clock, "owner@example.com")
    site = await get_site("test-physio")
    await time_off.add_time_off(site, "anna", start=datetime.fromisoformat("2026-11-24T14:00:00+01:00"),
                                end=datetime.fromisoformat("2026-11-24T16:00:00+01:00"), reason="Dentist <3",
                                actor=APPLIER, now=clock())
    await signed_in(client, "owner@example.com")
    day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    anna = day.text.split('id="col-anna"')[1].split('id="col-ben"')[0]
    assert 'class="block off at-' in anna and "Dentist &lt;3" in anna
    assert "Dentist" not in day.text.split('id="col-ben"')[1]
    other_day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-25"})
    assert "Dentist" not in other_day.text


async def test_a_live_hold_shows_faintly_until_it_expires(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    held = await client.post("/api/v1/sites/test-physio/holds", json={"service": "quick", "start": NINE})
    assert held.status_code == 201, held.text
    await signed_in(client, "owner@example.com")
    day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    anna = day.text.split('id="col-anna"')[1].split('id="col-ben"')[0]
    assert 'class="block held at-' in anna and "Being booked" in anna
    clock.now += timedelta(hours=1)  # past the hold's minutes
    later = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert 'class="block held' not in later.text


async def test_the_list_filters_by_customer_and_status_and_staff_see_only_their_own(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await book(client, start=NINE, service="assessment", name="Anna Kundin", resource="anna")
    bens = await book(client, start=ELEVEN, service="assessment", name="Ben <i>Kunde</i>", resource="ben")
    await signed_in(client, "owner@example.com")
    every = await client.get("/admin/sites/test-physio/bookings", params={"from": "2026-11-24", "to": "2026-11-24"})
    assert every.status_code == 200
    assert "Anna Kundin" in every.text and "Ben &lt;i&gt;Kunde&lt;/i&gt;" in every.text
    found = await client.get("/admin/sites/test-physio/bookings",
                             params={"from": "2026-11-24", "to": "2026-11-24", "q": "anna"})
    assert "Anna Kundin" in found.text and "Kunde&lt;" not in found.text
    cancelled = await client.get("/admin/sites/test-physio/bookings",
                                 params={"from": "2026-11-24", "to": "2026-11-24", "status": "cancelled"})
    assert "Anna Kundin" not in cancelled.text and "No bookings match." in cancelled.text
    wrong = await client.get("/admin/sites/test-physio/bookings", params={"from": "someday"})
    assert wrong.status_code == 200 and 'aria-invalid="true"' in wrong.text
    await signed_in(client, "ben@example.com")
    own = await client.get("/admin/sites/test-physio/bookings", params={"from": "2026-11-24", "to": "2026-11-24"})
    assert "Anna Kundin" not in own.text and f"/bookings/{bens}" in own.text
    assert (await client.get("/admin/sites/other-studio/bookings")).status_code == 404


async def test_a_resources_week_shows_its_days_side_by_side_and_staff_get_only_their_own(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await book(client, start=NINE, service="assessment", name="Anna Kundin", resource="anna")
    await book(client, start=ELEVEN, service="assessment", name="Ben Kunde", resource="ben")
    await signed_in(client, "owner@example.com")
    week = await client.get("/admin/sites/test-physio/week", params={"resource": "anna", "day": "2026-11-26"})
    assert week.status_code == 200
    assert week.text.count('class="col-head" id="col-2026-11-') == 7  # Monday 23 to Sunday 29
    tuesday = week.text.split('id="col-2026-11-24"')[1].split('id="col-2026-11-25"')[0]
    assert "Anna Kundin" in tuesday and "Ben Kunde" not in week.text
    await signed_in(client, "ben@example.com")
    own = await client.get("/admin/sites/test-physio/week", params={"day": "2026-11-24"})
    assert "Ben Kunde" in own.text and "Anna Kundin" not in own.text
    other = await client.get("/admin/sites/test-physio/week", params={"resource": "anna"})
    assert other.status_code == 404


async def test_after_too_many_wrong_passwords_sign_in_says_to_wait(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    client.cookies.clear()
    page = await client.get("/admin/login")
    token = csrf_of(page.text)
    for _ in range(10):
        failed = await client.post("/admin/login", data={"email": "owner@example.com", "password": "nope nope nope",
                                                         "csrf": token})
        assert failed.status_code == 400
    throttled = await client.post("/admin/login", data={"email": "owner@example.com", "password": PASSWORD,
                                                        "csrf": token})
    assert throttled.status_code == 429 and "Too many attempts. Try again in 15 minutes." in throttled.text
    assert "slotwise_session" not in throttled.headers.get("set-cookie", "")


async def test_the_team_keeps_an_internal_note_the_customer_never_sees(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    booking = await book(client)
    token = await signed_in(client, "owner@example.com")
    url = f"/admin/sites/test-physio/bookings/{booking}"
    saved = await client.post(f"{url}/note", data={"note": "Bring X-ray <script>", "csrf": token})
    assert saved.status_code == 200 and "The note is saved." in saved.text
    assert "Bring X-ray &lt;script&gt;" in saved.text and "Last changed by" in saved.text
    too_long = await client.post(f"{url}/note", data={"note": "x" * 2001, "csrf": token})
    assert too_long.status_code == 422
    assert "Bring X-ray" in (await client.get(url)).text  # the long one did not replace it
    # Not in what the customer's API sees of their booking, nor in any message.
    api = await admin_booking(client, settings, clock, booking)
    assert "X-ray" not in str(api)
    token = await signed_in(client, "viewer@example.com")
    seen = await client.get(url)
    assert "Bring X-ray &lt;script&gt;" in seen.text and 'name="note"' not in seen.text
    refused = await client.post(f"{url}/note", data={"note": "mine", "csrf": token})
    assert refused.status_code == 403


async def test_erasing_a_customer_forgets_the_teams_notes_about_them(client, settings, clock):
    from slotwise.persistence.tables import BookingNote
    from slotwise.services import customers
    from slotwise.services.availability import get_site

    await member(settings, clock, "owner@example.com")
    booking = await book(client, name="Erika Muster")
    token = await signed_in(client, "owner@example.com")
    await client.post(f"/admin/sites/test-physio/bookings/{booking}/note", data={"note": "Knee, left", "csrf": token})
    assert await BookingNote.count() == 1
    await customers.erase_customer(await get_site("test-physio"), "erika.muster@example.com", actor=APPLIER,
                                   now=clock())
    assert await BookingNote.count() == 0


async def test_a_customers_message_is_sent_again_from_the_panel_and_recorded(client, settings, clock):
    from slotwise.persistence.tables import OutboxMessage

    await member(settings, clock, "owner@example.com")
    booking = await book(client)
    token = await signed_in(client, "owner@example.com")
    url = f"/admin/sites/test-physio/bookings/{booking}"
    panel = await client.get(url)
    assert 'action="' + url + '/resend"' not in panel.text  # still queued: nothing to send again yet
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(
        OutboxMessage.recipient == "erika.muster@example.com")
    panel = await client.get(url)
    assert 'action="' + url + '/resend"' in panel.text
    before = await OutboxMessage.count().where(OutboxMessage.recipient == "erika.muster@example.com")
    again = await client.post(f"{url}/resend", data={"event": "confirmed", "channel": "email", "csrf": token})
    assert again.status_code == 200 and "The message is on its way again." in again.text
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "erika.muster@example.com") == before + 1
    api = await admin_booking(client, settings, clock, booking)
    assert ("message", "account") in [(h["kind"], h["actor"]["kind"]) for h in api["history"]]
    wrong = await client.post(f"{url}/resend", data={"event": "nonsense", "channel": "email", "csrf": token})
    assert wrong.status_code == 422
