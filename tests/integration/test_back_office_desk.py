"""The back office's front desk over HTTP: book a caller in, block time and free it, move with an override."""

from __future__ import annotations

import asyncio

import httpx
from slotwise.domain.access import Role
from slotwise.persistence.tables import Booking as BookingTable
from slotwise.persistence.tables import TimeOff as TimeOffTable

from tests.integration.test_back_office import book, member, signed_in, sites  # noqa: F401 (the fixture)

SITE = "/admin/sites/test-physio"
NINE_UTC = "2026-11-24T08:00:00+00:00"  # 09:00 in Berlin, a Tuesday
CALLER = {"customer.name": "Carla <i>Caller</i>", "customer.email": "carla@example.com",
          "customer.phone": "+49 40 2222222", "service": "quick", "resource": "anna", "day": "2026-11-24",
          "start": NINE_UTC, "notify": "1"}


async def confirmed_count() -> int:
    return await BookingTable.count().where(BookingTable.status == "confirmed")


# --- book on behalf -------------------------------------------------------------------------


async def test_the_book_page_lists_the_engines_free_times_for_the_chosen_service_and_resource(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    page = await client.get(f"{SITE}/book", params={"service": "quick", "resource": "anna", "day": "2026-11-24"})
    assert page.status_code == 200
    assert f'value="{NINE_UTC.replace("+00:00", "+01:00").replace("08:00", "09:00")}"' in page.text
    assert 'name="customer.name"' in page.text and 'hx-get="/admin/sites/test-physio/book/customers"' in page.text


async def test_an_owner_books_a_caller_in_as_themselves_and_the_history_names_the_account(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/book", data={**CALLER, "csrf": token})
    assert answer.status_code == 303, answer.text
    assert "notice=booked" in answer.headers["location"]
    row = await BookingTable.select().first()
    assert row["customer_name"] == "Carla <i>Caller</i>" and row["customer_phone"] == "+49402222222"
    panel = await client.get(answer.headers["location"])
    assert "Carla &lt;i&gt;Caller&lt;/i&gt;" in panel.text and "<i>Caller" not in panel.text
    assert "The booking is made." in panel.text and "owner@example.com" in panel.text


async def test_bad_customer_details_come_back_inline_per_field_and_nothing_is_booked(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/book", data={**CALLER, "customer.name": "", "customer.email": "nope",
                                                     "csrf": token})
    assert answer.status_code == 422
    assert 'id="e-customer-name"' in answer.text and 'id="e-customer-email"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    no_time = await client.post(f"{SITE}/book", data={**CALLER, "start": "soon", "csrf": token})
    assert no_time.status_code == 422 and 'id="e-start"' in no_time.text
    assert await confirmed_count() == 0
    far = await client.get(f"{SITE}/book", params={"service": "quick", "day": "9999-12-31"})
    assert far.status_code == 200
    unknown = await client.post(f"{SITE}/book", data={**CALLER, "service": "nope", "resource": "x", "csrf": token})
    assert unknown.status_code == 422 and 'id="e-service"' in unknown.text


async def test_a_time_outside_the_rules_is_refused_as_taken_with_fresh_times(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/book", data={**CALLER, "start": "2026-11-24T05:00:00+00:00",
                                                     "csrf": token})
    assert answer.status_code == 409 and "That time was just taken" in answer.text
    assert await confirmed_count() == 0


async def test_two_staff_booking_one_slot_at_once_get_one_booking(app, client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "manager@example.com", role=Role.MANAGER)

    async def desk(email: str) -> tuple[httpx.AsyncClient, str]:
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")
        return other, await signed_in(other, email)

    (first, first_token), (second, second_token) = await desk("owner@example.com"), await desk("manager@example.com")
    try:
        answers = await asyncio.gather(
            first.post(f"{SITE}/book", data={**CALLER, "csrf": first_token}),
            second.post(f"{SITE}/book", data={**CALLER, "customer.email": "other@example.com",
                                              "csrf": second_token}))
    finally:
        await first.aclose()
        await second.aclose()
    assert sorted(a.status_code for a in answers) == [303, 409]
    assert await confirmed_count() == 1


async def test_staff_book_only_their_own_resource_and_viewers_not_at_all(client, settings, clock):
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    token = await signed_in(client, "ben@example.com")
    page = await client.get(f"{SITE}/book", params={"service": "assessment"})
    assert 'value="ben"' in page.text and 'value="anna"' not in page.text
    # The resource in the form is ignored: staff book on their own.
    answer = await client.post(f"{SITE}/book", data={
        **CALLER, "service": "assessment", "resource": "anna", "start": "2026-11-24T09:00:00+00:00", "csrf": token})
    assert answer.status_code == 303, answer.text
    row = await BookingTable.select().first()
    panel = await client.get(answer.headers["location"])
    assert panel.status_code == 200 and "Ben Petersen" in panel.text
    assert row is not None
    token = await signed_in(client, "viewer@example.com")
    refused = await client.post(f"{SITE}/book", data={**CALLER, "start": "2026-11-24T10:00:00+00:00",
                                                      "csrf": token})
    assert refused.status_code == 403
    assert await confirmed_count() == 1


async def test_another_sites_desk_is_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    for path in ("/admin/sites/other-studio/book", "/admin/sites/other-studio/blocks"):
        assert (await client.get(path)).status_code == 404
    answer = await client.post("/admin/sites/other-studio/book", data={**CALLER, "csrf": token})
    assert answer.status_code == 404
    assert await confirmed_count() == 0


async def test_past_customers_are_suggested_as_you_type_escaped_and_not_to_staff(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await book(client, name="Erika <b>Muster</b>")
    await signed_in(client, "owner@example.com")
    found = await client.get(f"{SITE}/book/customers", params={"customer.name": "erik"})
    assert 'data-email="erika.b.muster.b@example.com"' in found.text
    assert "Erika &lt;b&gt;Muster&lt;/b&gt;" in found.text and "<b>Muster" not in found.text
    await signed_in(client, "ben@example.com")
    hidden = await client.get(f"{SITE}/book/customers", params={"customer.name": "erik"})
    assert hidden.status_code == 200 and "Erika" not in hidden.text


async def test_a_post_without_the_csrf_token_is_refused(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/book", data=CALLER)
    assert answer.status_code == 403
    assert await confirmed_count() == 0


# --- block time -----------------------------------------------------------------------------

AFTERNOON = {"resource": "anna", "start_day": "2026-11-24", "start_time": "13:00", "end_day": "2026-11-24",
             "end_time": "17:00", "reason": "Dentist <3"}


async def test_an_owner_blocks_an_afternoon_the_day_view_shades_it_and_it_is_freed_after_a_confirm(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "csrf": token})
    assert answer.status_code == 200 and "The time is blocked." in answer.text
    row = await TimeOffTable.select().first()
    assert row["reason"] == "Dentist <3" and row["start_at"].isoformat().startswith("2026-11-24T12:00")
    day = await client.get(SITE, params={"day": "2026-11-24"})
    assert "Dentist &lt;3" in day.text and f"/blocks/{row['public_id']}/remove" in day.text
    confirm = await client.get(f"{SITE}/blocks/{row['public_id']}/remove",
                               params={"resource": "anna", "back": "day", "day": "2026-11-24"})
    assert confirm.status_code == 200 and "Free this time?" in confirm.text
    assert await TimeOffTable.count() == 1
    freed = await client.post(f"{SITE}/blocks/{row['public_id']}/remove", data={
        "resource": "anna", "back": "day", "day": "2026-11-24", "csrf": token})
    assert freed.status_code == 303 and freed.headers["location"] == f"{SITE}?day=2026-11-24"
    assert await TimeOffTable.count() == 0


async def test_a_week_long_block_is_taken_and_its_slots_are_gone(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "start_time": "00:00", "end_day": "2026-12-01",
                                                       "end_time": "00:00", "reason": "Holiday", "csrf": token})
    assert answer.status_code == 200
    slots = await client.get("/api/v1/sites/test-physio/availability",
                             params={"service": "quick", "start": "2026-11-24", "end": "2026-11-30"})
    assert slots.json()["slots"] == []


async def test_bad_spans_come_back_inline_and_nothing_is_blocked(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    backwards = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "end_time": "12:00", "csrf": token})
    assert backwards.status_code == 422 and 'id="e-end"' in backwards.text
    garbled = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "start_day": "someday", "csrf": token})
    assert garbled.status_code == 422 and 'id="e-start"' in garbled.text
    far = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "start_day": "0001-01-01", "end_day": "9999-12-31",
                                                    "csrf": token})
    assert far.status_code == 422 and 'id="e-start"' in far.text and 'id="e-end"' in far.text
    too_long = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "reason": "x" * 501, "csrf": token})
    assert too_long.status_code == 422 and 'id="e-reason"' in too_long.text
    assert await TimeOffTable.count() == 0


async def test_staff_block_only_their_own_time_and_viewers_none(client, settings, clock):
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    token = await signed_in(client, "ben@example.com")
    assert (await client.get(f"{SITE}/blocks", params={"resource": "anna"})).status_code == 404
    refused = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "csrf": token})
    assert refused.status_code == 404
    own = await client.post(f"{SITE}/blocks", data={**AFTERNOON, "resource": "ben", "csrf": token})
    assert own.status_code == 200
    token = await signed_in(client, "viewer@example.com")
    page = await client.get(f"{SITE}/blocks", params={"resource": "ben"})
    assert page.status_code == 200
    day = await client.get(SITE, params={"day": "2026-11-24"})
    assert "Dentist" in day.text and "/remove" not in day.text and 'id="book-button"' not in day.text
    row = await TimeOffTable.select().first()
    forbidden = await client.post(f"{SITE}/blocks/{row['public_id']}/remove", data={"resource": "ben", "csrf": token})
    assert forbidden.status_code == 403
    assert await TimeOffTable.count() == 1


# --- move with override ---------------------------------------------------------------------


async def test_the_move_step_offers_times_outside_hours_only_with_override_and_the_history_says_so(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    booking = await book(client)
    token = await signed_in(client, "owner@example.com")
    plain = await client.get(f"{SITE}/bookings/{booking}/move", params={"day": "2026-11-24"})
    evening = "2026-11-24T19:00:00+01:00"
    assert evening not in plain.text
    override = await client.get(f"{SITE}/bookings/{booking}/move", params={"day": "2026-11-24", "override": "1"})
    assert evening in override.text and 'id="override-warning"' in override.text
    confirm = await client.post(f"{SITE}/bookings/{booking}/move",
                                data={"start": evening, "override": "1", "csrf": token})
    assert confirm.status_code == 200 and "opening hours, notice and advance are set aside" in confirm.text
    without = await client.post(f"{SITE}/bookings/{booking}/move",
                                data={"start": evening, "confirm": "1", "csrf": token})
    assert without.status_code == 409
    moved = await client.post(f"{SITE}/bookings/{booking}/move",
                              data={"start": evening, "override": "1", "confirm": "1", "csrf": token})
    assert moved.status_code == 303, moved.text
    row = await BookingTable.select(BookingTable.start_at).first()
    assert row["start_at"].isoformat().startswith("2026-11-24T18:00")
    panel = await client.get(moved.headers["location"])
    assert "with override" in panel.text


async def test_an_override_never_goes_past_capacity(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    first = await book(client)
    await book(client, start="2026-11-24T11:00:00+01:00", name="Second Person")
    token = await signed_in(client, "owner@example.com")
    offered = await client.get(f"{SITE}/bookings/{first}/move", params={"day": "2026-11-24", "override": "1"})
    assert "2026-11-24T11:00:00+01:00" not in offered.text and "2026-11-24T10:30:00+01:00" in offered.text
    # The clock stands at Monday 08:00 in Berlin: earlier times that day are not offered.
    today = await client.get(f"{SITE}/bookings/{first}/move", params={"day": "2026-11-23", "override": "1"})
    assert "2026-11-23T07:30:00+01:00" not in today.text and "2026-11-23T08:00:00+01:00" in today.text
    refused = await client.post(f"{SITE}/bookings/{first}/move", data={
        "start": "2026-11-24T11:00:00+01:00", "override": "1", "confirm": "1", "csrf": token})
    assert refused.status_code == 409


async def test_a_service_that_asks_for_an_address_gets_an_address_field_checked_inline(client, settings, clock):
    from slotwise.services.availability import forget_offers
    from slotwise.services.sites import apply_site

    from tests.integration.test_back_office import APPLIER
    from tests.support.sitefiles import TEST_SITE, parse_test_site

    house_calls = TEST_SITE.replace('price = "25.00 EUR"\nresources = ["anna"]',
                                    'price = "25.00 EUR"\nresources = ["anna"]\nask_address = true')
    assert house_calls != TEST_SITE
    await apply_site(parse_test_site(house_calls), actor=APPLIER, now=clock())
    forget_offers()
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    page = await client.get(f"{SITE}/book", params={"service": "quick", "day": "2026-11-24"})
    assert 'name="customer.address"' in page.text
    missing = await client.post(f"{SITE}/book", data={**CALLER, "csrf": token})
    assert missing.status_code == 422 and 'id="e-customer-address"' in missing.text
    made = await client.post(f"{SITE}/book", data={**CALLER, "customer.address": "Hafenstraße 1, 20459 Hamburg",
                                                   "csrf": token})
    assert made.status_code == 303, made.text
    row = await BookingTable.select(BookingTable.customer_address).first()
    assert row["customer_address"].startswith("Hafenstraße 1")


async def test_a_click_on_the_grid_carries_resource_and_time_through_the_choice_of_service(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    day = await client.get(SITE, params={"day": "2026-11-24"})
    assert 'data-book="/admin/sites/test-physio/book?resource=anna&amp;day=2026-11-24"' in day.text
    first = await client.get(f"{SITE}/book", params={"resource": "anna", "day": "2026-11-24", "at": "10:00"})
    assert 'name="resource" value="anna"' in first.text and 'name="at" value="10:00"' in first.text
    chosen = await client.get(f"{SITE}/book", params={"service": "quick", "resource": "anna", "day": "2026-11-24",
                                                      "at": "10:00"})
    assert 'value="2026-11-24T10:00:00+01:00" checked' in chosen.text
    assert '<option value="anna" selected>' in chosen.text
