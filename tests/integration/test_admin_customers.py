"""Customers (derived from bookings) and the bookings' CSV export, through HTTP with real keys."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from slotwise.domain.access import Grant, Role, Scope
from slotwise.domain.actors import Actor
from slotwise.persistence import queries
from slotwise.persistence.tables import TABLES, Booking, BookingEvent, DeliveryAttempt, OutboxMessage
from slotwise.services import access, booking_export, keys
from slotwise.services.access import Caller
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
NINE, TEN, ELEVEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00", "2026-11-24T11:00:00+01:00"
WEDNESDAY = "2026-11-25T09:00:00+01:00"

# The owner gets a copy of every message, customers with a phone get texts too,
# and "quick" asks a question: every place a customer's details end up.
SITE = TEST_SITE.replace(
    'contact_phone = "+49 40 1111111"',
    'contact_phone = "+49 40 1111111"\nnotify_email = "owner@test-physio.example"\nsms_enabled = true',
).replace(
    'price = "25.00 EUR"\nresources = ["anna"]',
    'price = "25.00 EUR"\nresources = ["anna"]\nquestions = [\n'
    '  { key = "reason", label = "Reason", type = "text" },\n]',
)
OTHER_SITE = SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')

# Distinctive ASCII text, so a scan of the database's rows cannot miss it in escaped JSON.
NAME = "Erika Quastenflosser"
EMAIL = "erika.quasten@example.com"
PHONE = "+49 170 5550123"
STORED_PHONE = "+491705550123"
ANSWER = "left knee since Pentecost"
REASON = "Quastenflosser moved away"


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = "test-physio", scopes=tuple(Scope)) -> str:
    created = await keys.create_key(site, name="Integration", scopes=list(scopes), expires_at=None,
                                    actor=APPLIER, now=clock())
    return created.secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def book(client, start: str = NINE, *, name: str = NAME, email: str = EMAIL, phone: str | None = None,
               answers: dict | None = None, site: str = "test-physio", service: str = "quick") -> dict:
    customer = {"name": name, "email": email} | ({"phone": phone} if phone else {})
    response = await client.post(f"/api/v1/sites/{site}/bookings", json={
        "service": service, "start": start, "customer": customer, "answers": answers or {}})
    assert response.status_code == 201, response.text
    return response.json()


async def customers(client, key: str, **params) -> dict:
    response = await client.get(f"{ADMIN}/test-physio/customers", params=params, headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def customer_path(email: str, site: str = "test-physio") -> str:
    return f"{ADMIN}/{site}/customers/{quote(email, safe='')}"


# --- the list -------------------------------------------------------------------------------


async def test_one_entry_per_email_with_the_latest_name_and_phone_the_count_and_the_first_and_last_start(
    client, clock
):
    key = await new_key(clock)
    await book(client, WEDNESDAY, name="Erika Muster", email="erika@example.com")
    await book(client, NINE, name="Max Probe", email="max@example.com")
    clock.now += timedelta(minutes=5)  # made later, though it starts earlier
    await book(client, TEN, name="Erika Neu", email="Erika@Example.com", phone=PHONE)
    await book(client, WEDNESDAY, name="Someone Else", email="other@example.com", site="other-studio")

    page = await customers(client, key)

    assert page == {"next_cursor": None, "data": [
        {"email": "erika@example.com", "name": "Erika Neu", "phone": STORED_PHONE, "bookings": 2,
         "first_booking_start": TEN, "last_booking_start": WEDNESDAY},
        {"email": "max@example.com", "name": "Max Probe", "phone": None, "bookings": 1,
         "first_booking_start": NINE, "last_booking_start": NINE},
    ]}
    # q looks in every booking's name and email, in any case; the count stays the customer's.
    assert [(c["email"], c["bookings"]) for c in (await customers(client, key, q="MUSTER"))["data"]] == [
        ("erika@example.com", 2)]
    assert [c["email"] for c in (await customers(client, key, q="max@"))["data"]] == ["max@example.com"]
    assert (await customers(client, key, q="other"))["data"] == []


async def test_pages_follow_the_email_and_neither_repeat_nor_skip_when_customers_book_meanwhile(client, clock):
    key = await new_key(clock)
    for letter, start in zip("bdfh", ("09:00", "09:30", "10:00", "10:30"), strict=True):
        await book(client, f"2026-11-24T{start}:00+01:00", name=letter.upper(), email=f"{letter}@example.com")

    first = await customers(client, key, limit=2)
    await book(client, "2026-11-24T11:00:00+01:00", name="A", email="a@example.com")  # before the cursor
    await book(client, "2026-11-24T11:30:00+01:00", name="E", email="e@example.com")  # after it
    seen = [c["email"] for c in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await customers(client, key, limit=2, cursor=cursor)
        seen += [c["email"] for c in page["data"]]
        cursor = page["next_cursor"]

    assert seen == ["b@example.com", "d@example.com", "e@example.com", "f@example.com", "h@example.com"]
    bad = await client.get(f"{ADMIN}/test-physio/customers", params={"limit": "0", "cursor": "%%%"},
                           headers=bearer(key))
    assert bad.status_code == 422
    assert {e["name"] for e in bad.json()["errors"]} == {"limit", "cursor"}


# --- export -----------------------------------------------------------------------------------


async def test_the_export_holds_their_bookings_history_and_messages_to_them_but_no_links(client, clock):
    key = await new_key(clock)
    first = await book(client, NINE, phone=PHONE, answers={"reason": ANSWER})
    await book(client, WEDNESDAY)
    await book(client, TEN, name="Max Probe", email="max@example.com")
    await book(client, NINE, site="other-studio")  # the same person elsewhere: not this site's to export
    token = first["manage_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/manage/{token}/cancel", json={"reason": REASON})).status_code == 200

    response = await client.get(customer_path("Erika.Quasten@example.com") + "/export", headers=bearer(key))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["site"], body["email"], body["name"], body["phone"]) == (
        "test-physio", EMAIL, NAME, None)  # name and phone from the booking made last
    assert [(b["start"], b["status"], b["service"]) for b in body["bookings"]] == [
        (NINE, "cancelled", "quick"), (WEDNESDAY, "confirmed", "quick")]
    cancelled = body["bookings"][0]
    assert cancelled["answers"] == {"reason": ANSWER}
    assert cancelled["resources"][0]["key"] == "anna"
    assert [(h["kind"], h["data"].get("reason")) for h in cancelled["history"]] == [
        ("booked", None), ("cancelled", REASON)]
    recipients = {m["recipient"] for b in body["bookings"] for m in b["messages"]}
    assert recipients == {EMAIL, STORED_PHONE}  # not the owner's copies
    assert {(m["event"], m["channel"]) for m in cancelled["messages"]} >= {
        ("confirmed", "email"), ("confirmed", "sms"), ("cancelled", "email"), ("reminder", "email")}
    assert "/manage/" not in response.text and token not in response.text
    assert "Max Probe" not in response.text and "other-studio" not in response.text

    unknown = await client.get(customer_path("nobody@example.com") + "/export", headers=bearer(key))
    assert unknown.status_code == 404


async def test_another_sites_key_gets_404_on_every_route_and_a_key_without_the_scope_403(client, clock):
    theirs = await new_key(clock, site="other-studio")
    bookings_only = await new_key(clock, scopes=[Scope.BOOKINGS_READ])
    reader = await new_key(clock, scopes=[Scope.CUSTOMERS_READ])
    await book(client)
    await book(client, site="other-studio", email="only.there@example.com")
    ours = await new_key(clock)
    routes = [
        ("GET", f"{ADMIN}/test-physio/customers"),
        ("GET", customer_path(EMAIL) + "/export"),
        ("DELETE", customer_path(EMAIL)),
        ("GET", f"{ADMIN}/test-physio/bookings.csv"),
    ]

    for method, path in routes:
        response = await client.request(method, path, headers=bearer(theirs))
        assert response.status_code == 404, (method, path, response.text)
    for method, path in routes[:3]:
        response = await client.request(method, path, headers=bearer(bookings_only))
        assert response.status_code == 403, (method, path, response.text)
    assert (await client.delete(customer_path(EMAIL), headers=bearer(reader))).status_code == 403
    assert (await client.get(f"{ADMIN}/test-physio/bookings.csv", headers=bearer(reader))).status_code == 403
    # Another site's customer through our site's path is nobody here.
    assert (await client.get(customer_path("only.there@example.com") + "/export",
                             headers=bearer(ours))).status_code == 404
    assert (await client.delete(customer_path("only.there@example.com"), headers=bearer(ours))).status_code == 404
    assert (await client.get(f"{ADMIN}/test-physio/customers", headers=bearer(ours))).json()["data"][0][
        "email"] == EMAIL
    assert await Booking.count().where(Booking.customer_name == NAME) == 2  # nothing erased


# --- erase ------------------------------------------------------------------------------------


async def _rows_mentioning(needles: list[str]) -> list[tuple[str, dict]]:
    """Every row of every table whose text holds one of the needles (case-insensitively)."""
    found = []
    for table in TABLES:
        for row in await table.select():
            text = str(row).lower()
            if any(needle.lower() in text for needle in needles):
                found.append((table._meta.tablename, row))
    return found


async def test_erasing_anonymises_their_bookings_and_messages_here_and_keeps_times_and_history(client, clock):
    key = await new_key(clock)
    first = await book(client, NINE, phone=PHONE, answers={"reason": ANSWER})
    await book(client, WEDNESDAY, email=EMAIL.upper())
    await book(client, TEN, name="Max Probe", email="max@example.com")
    await book(client, NINE, phone=PHONE, answers={"reason": ANSWER}, site="other-studio")
    token = first["manage_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/manage/{token}/cancel", json={"reason": REASON})).status_code == 200
    site_id = (await queries.find_site("test-physio")).id
    ours = [r["id"] for r in await Booking.select(Booking.id).where(
        (Booking.customer_name == NAME) & (Booking.site == site_id)).order_by(Booking.start_at)]
    # One message went out and one failed, naming the address as providers do.
    messages = await OutboxMessage.select().where(OutboxMessage.booking.is_in(ours)).order_by(OutboxMessage.id)
    sent, failed = messages[0], messages[1]
    await OutboxMessage.update({OutboxMessage.status: "sent", OutboxMessage.sent_at: clock(),
                                OutboxMessage.provider_id: f"dev:sms:{STORED_PHONE}"}).where(
        OutboxMessage.id == sent["id"])
    await OutboxMessage.update({OutboxMessage.status: "failed",
                                OutboxMessage.last_error: f"550 <{failed['recipient']}> unknown"}).where(
        OutboxMessage.id == failed["id"])
    await DeliveryAttempt.insert(DeliveryAttempt(message=failed["id"], outcome="permanent",
                                                 detail=f"550 <{failed['recipient']}>", created_at=clock()))
    before = {r["id"]: r for r in await Booking.select().where(Booking.id.is_in(ours))}

    erased = await client.delete(customer_path(EMAIL), headers=bearer(key))

    assert erased.status_code == 200, erased.text
    assert erased.json() == {"bookings": 2, "messages": len(messages)}
    needles = [NAME, "Quastenflosser", EMAIL, STORED_PHONE, ANSWER, REASON]
    # Nowhere in the database but in the other site's rows.
    other_site = (await queries.find_site("other-studio")).id
    theirs = {r["id"] for r in await Booking.select(Booking.id).where(Booking.site == other_site)}
    their_messages = {r["id"] for r in await OutboxMessage.select(OutboxMessage.id).where(
        OutboxMessage.site == other_site)}
    for table, row in await _rows_mentioning(needles):
        assert (table == "booking" and row["id"] in theirs) or (
            table == "outbox_message" and row["id"] in their_messages) or (
            table == "booking_event" and row["booking"] in theirs), (table, row)
    assert await Booking.count().where((Booking.site == other_site) & (Booking.customer_name == NAME)) == 1

    # The bookings keep their times, service, resources and status; the person is gone.
    after = await Booking.select().where(Booking.id.is_in(ours)).output(load_json=True)
    placeholders = {row["customer_email"] for row in after}
    assert len(placeholders) == 1 and re.fullmatch(r"erased-[0-9a-f]{16}@invalid", placeholders.pop())
    for row in after:
        old = before[row["id"]]
        assert (row["start_at"], row["end_at"], row["service"], row["status"]) == (
            old["start_at"], old["end_at"], old["service"], old["status"])
        assert (row["customer_name"], row["customer_phone"], row["answers"], row["cancel_reason"]) == (
            "Erased customer", None, {}, None)
    events = await BookingEvent.select().where(BookingEvent.booking.is_in(ours)).order_by(BookingEvent.id)
    erasures = [e for e in events if e["kind"] == "erased"]
    assert len(erasures) == 2 and all(e["actor_kind"] == "api_key" and e["actor_label"] == "Integration"
                                      for e in erasures)
    assert [e["kind"] for e in events if e["booking"] == ours[0]] == ["booked", "cancelled", "erased"]
    # Messages: not yet sent ones dropped, the sent one stays sent; every one emptied.
    rows = {r["id"]: r for r in await OutboxMessage.select().where(OutboxMessage.booking.is_in(ours))
            .output(load_json=True)}
    assert rows[sent["id"]]["status"] == "sent" and rows[failed["id"]]["status"] == "failed"
    assert {r["status"] for i, r in rows.items() if i not in (sent["id"], failed["id"])} == {"dropped"}
    for row in rows.values():
        assert row["recipient"] in placeholders | {after[0]["customer_email"], "owner@test-physio.example"}
        assert row["last_error"] is None
        assert all(not value for name, value in row["content"].items() if name != "to"), row["content"]
    # The manage link no longer reaches the booking.
    assert (await client.get(f"/api/v1/manage/{token}")).status_code == 404

    # Nor do the admin API's answers or the CSV show anything of them.
    answers = [
        (await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))).text,
        (await client.get(f"{ADMIN}/test-physio/customers", headers=bearer(key))).text,
        (await client.get(f"{ADMIN}/test-physio/bookings.csv", headers=bearer(key))).text,
    ]
    listed = (await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))).json()["data"]
    for booking in listed:
        answers.append((await client.get(f"{ADMIN}/test-physio/bookings/{booking['id']}",
                                         headers=bearer(key))).text)
    for text in answers:
        assert not any(needle.lower() in text.lower() for needle in needles), text
    assert "Erased customer" in answers[0] and "Max Probe" in answers[0]


async def test_erasing_twice_is_404_and_a_later_booking_by_the_same_email_is_a_new_customer(client, clock):
    key = await new_key(clock)
    await book(client, NINE, phone=PHONE)

    assert (await client.delete(customer_path(EMAIL), headers=bearer(key))).status_code == 200
    again = await client.delete(customer_path(EMAIL), headers=bearer(key))
    export = await client.get(customer_path(EMAIL) + "/export", headers=bearer(key))
    assert (again.status_code, export.status_code) == (404, 404)

    await book(client, TEN, name="Erika Again")
    listed = (await customers(client, key))["data"]
    assert [(c["email"], c["name"], c["bookings"]) for c in listed if not c["email"].startswith("erased-")] == [
        (EMAIL, "Erika Again", 1)]
    assert [(c["name"], c["bookings"], c["phone"]) for c in listed if c["email"].startswith("erased-")] == [
        ("Erased customer", 1, None)]


async def test_the_email_the_list_gives_out_finds_the_customer_even_with_letters_beyond_ascii(client, clock):
    key = await new_key(clock)
    await book(client, NINE, name="Jörg Ölmann", email="JÖRG.Ölmann@Example.com")

    listed = (await customers(client, key))["data"][0]["email"]
    export = await client.get(customer_path(listed) + "/export", headers=bearer(key))
    erased = await client.delete(customer_path(listed), headers=bearer(key))

    assert listed.startswith("j") and listed.endswith("@example.com")
    assert export.status_code == 200 and export.json()["bookings"][0]["customer"]["name"] == "Jörg Ölmann"
    assert erased.status_code == 200 and erased.json()["bookings"] == 1


# --- CSV ----------------------------------------------------------------------------------------


def parse_csv(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_the_csv_has_a_row_per_booking_with_a_bom_and_formulas_neutralised(client, clock):
    key = await new_key(clock)
    await book(client, NINE, name='=HYPERLINK("http://x")', email="x@example.com", phone=PHONE,
               answers={"reason": "@once; =twice"})
    await book(client, TEN, name="+1 234", email="plus@example.com")
    await book(client, WEDNESDAY, name="Jörg Ümlaut", email="joerg@example.com")

    response = await client.get(f"{ADMIN}/test-physio/bookings.csv", headers=bearer(key))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="test-physio-bookings.csv"'
    header, *rows = parse_csv(response)
    assert header == ["id", "status", "service", "start", "end", "resources", "customer_name", "customer_email",
                      "customer_phone", "answers", "price", "currency", "created_at"]
    assert [row[6] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'+1 234", "Jörg Ümlaut"]
    first = dict(zip(header, rows[0], strict=True))
    assert first["id"].startswith("bkg_") and first["status"] == "confirmed"
    assert (first["service"], first["start"], first["end"], first["resources"]) == (
        "Quick check", NINE, "2026-11-24T09:30:00+01:00", "Anna Berg")
    assert (first["customer_email"], first["customer_phone"], first["answers"]) == (
        "x@example.com", "'" + STORED_PHONE, "reason: @once; =twice")
    assert (first["price"], first["currency"]) == ("25.00", "EUR")
    assert first["created_at"] == "2026-11-23T08:00:00+01:00"

    day = await client.get(f"{ADMIN}/test-physio/bookings.csv", params={"from": "2026-11-25", "to": "2026-11-25"},
                           headers=bearer(key))
    assert [row[6] for row in parse_csv(day)[1:]] == ["Jörg Ümlaut"]
    bad = await client.get(f"{ADMIN}/test-physio/bookings.csv", params={"from": "soon"}, headers=bearer(key))
    assert bad.status_code == 422 and bad.json()["errors"][0]["name"] == "from"


async def test_the_csv_reads_page_by_page_in_start_order(client, clock, monkeypatch):
    key = await new_key(clock)
    starts = [f"2026-11-24T{h:02d}:{m:02d}:00+01:00" for h in (11, 10, 9) for m in (30, 0)]
    for start in starts:
        await book(client, start, email=f"{start[11:13]}{start[14:16]}@example.com")
    monkeypatch.setattr(booking_export, "PAGE_SIZE", 2)

    rows = parse_csv(await client.get(f"{ADMIN}/test-physio/bookings.csv", headers=bearer(key)))[1:]

    assert [row[3] for row in rows] == sorted(starts)
    assert len({row[0] for row in rows}) == 6


async def test_staff_export_only_their_own_resources_bookings(client, clock):
    await book(client, TEN, name="Anna Customer", email="a@example.com")  # quick: with Anna
    await book(client, TEN, name="Ben Customer", email="b@example.com", service="assessment")  # Anna is taken
    site = await queries.find_site("test-physio")
    rows_by_role = {}
    for role, resource in ((Role.STAFF, "ben"), (Role.STAFF, "anna"), (Role.VIEWER, None)):
        caller = Caller(Actor.system("tests"), (Grant.membership(site.id, role, resource),))
        chunks = await booking_export.bookings_csv(site, {}, visible=access.visible_to(caller, site))
        text = "".join([chunk async for chunk in chunks])
        rows_by_role[(role, resource)] = [row[6] for row in csv.reader(io.StringIO(text.lstrip("\ufeff")))][1:]

    assert rows_by_role[(Role.VIEWER, None)] == ["Anna Customer", "Ben Customer"]
    assert rows_by_role[(Role.STAFF, "anna")] + rows_by_role[(Role.STAFF, "ben")] == [
        "Anna Customer", "Ben Customer"]
    assert "Anna Customer" not in rows_by_role[(Role.STAFF, "ben")]
