"""Calendar feeds out, through HTTP with real keys: made, fetched, booked into, cancelled out of, replaced.

Every body is parsed by two parsers: icalendar (which also wrote it) and ics
(ics-py, a parser of its own), and checked for what RFC 5545 requires.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import ics
import pytest
from icalendar import Calendar
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import AuditEntry, Feed
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
TUESDAY_NINE = "2026-11-24T09:00:00+01:00"
TUESDAY_TEN = "2026-11-24T10:00:00+01:00"
# Commas and a semicolon: text iCalendar must escape (RFC 5545 3.3.11).
NAME = "Erika Quastenflosser, Jr.; PhD"
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = "test-physio", scopes=(Scope.BOOKINGS_READ,)) -> str:
    created = await keys.create_key(site, name="Feeds", scopes=list(scopes), expires_at=None,
                                    actor=APPLIER, now=clock())
    return created.secret


def bearer(key: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **more}


async def make_feed(client, key: str, resource: str | None = "anna", **headers: str) -> str:
    path = f"{ADMIN}/test-physio/resources/{resource}/feed" if resource else f"{ADMIN}/test-physio/feed"
    response = await client.post(path, headers=bearer(key, **headers))
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == ["url"]
    assert body["url"].startswith("http") and body["url"].endswith(".ics")
    return "/feeds/" + body["url"].rsplit("/feeds/", 1)[1]


async def book(client, start: str = TUESDAY_NINE, service: str = "quick", name: str = NAME) -> dict:
    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": service, "start": start, "customer": {"name": name, "email": "erika@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()


def valid_events(body: bytes) -> list:
    """The VEVENTs, after checking the calendar with both parsers against RFC 5545's required properties."""
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    events = calendar.walk("VEVENT")
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            assert required in event, required
        for moment in ("DTSTAMP", "DTSTART", "DTEND"):
            # UTC, so no VTIMEZONE is needed.
            assert event[moment].to_ical().endswith(b"Z"), moment
    assert not calendar.walk("VTIMEZONE")
    other = ics.Calendar(body.decode())
    assert sorted(e.uid for e in other.events) == sorted(str(e["UID"]) for e in events)
    for parsed in other.events:
        match = next(e for e in events if str(e["UID"]) == parsed.uid)
        assert parsed.begin.datetime == match.decoded("DTSTART")
        assert parsed.end.datetime == match.decoded("DTEND")
        assert parsed.name == str(match["SUMMARY"])
    return events


async def test_a_resource_feed_follows_bookings_as_they_are_made_and_cancelled(client, clock):
    key = await new_key(clock)
    feed = await make_feed(client, key)

    empty = await client.get(feed)
    assert empty.status_code == 200, empty.text
    assert empty.headers["content-type"] == "text/calendar; charset=utf-8"
    assert empty.headers["cache-control"].startswith("private")
    assert valid_events(empty.content) == []

    clock.now += timedelta(minutes=5)
    booking = await book(client)
    clock.now += timedelta(minutes=5)
    first = await client.get(feed)
    assert first.status_code == 200
    assert first.headers["etag"] != empty.headers["etag"]
    [event] = valid_events(first.content)
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Quick check"
    # The same UID as the file the customer's email carries (and the manage link serves).
    token = booking["manage_url"].rsplit("/", 1)[1]
    emailed = Calendar.from_ical((await client.get(f"/api/v1/manage/{token}/booking.ics")).content)
    assert str(event["UID"]) == str(emailed.walk("VEVENT")[0]["UID"]) == f"{booking['id']}@slotwise"
    # Names are hidden by default; the manage link never appears.
    assert b"Quastenflosser" not in first.content and token.encode() not in first.content

    # Unchanged: 304 on the ETag, and on the date.
    again = await client.get(feed, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    since = await client.get(feed, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert (await client.get(feed, headers={"If-None-Match": '"something-else"'})).status_code == 200

    clock.now += timedelta(minutes=5)
    writer = await new_key(clock, scopes=(Scope.BOOKINGS_WRITE,))
    cancelled = await client.post(f"{ADMIN}/test-physio/bookings/bkg_{booking['id'].replace('-', '')}/cancel", json={},
                                  headers=bearer(writer))
    assert cancelled.status_code == 200, cancelled.text
    clock.now += timedelta(minutes=5)
    after = await client.get(feed, headers={"If-None-Match": first.headers["etag"],
                                            "If-Modified-Since": first.headers["last-modified"]})
    assert after.status_code == 200
    assert valid_events(after.content) == []
    assert after.headers["etag"] != first.headers["etag"]
    # Only If-Modified-Since: the later body is newer than the earlier one's date.
    assert (await client.get(feed, headers={"If-Modified-Since": first.headers["last-modified"]})).status_code == 200


async def test_the_site_feed_shows_every_resource_and_names_customers_only_when_the_owner_allows(client, clock):
    key = await new_key(clock)
    feed = await make_feed(client, key, resource=None)
    quick = await book(client)
    assessment = await book(client, TUESDAY_TEN, service="assessment", name="Max Mustermann")
    events = valid_events((await client.get(feed)).content)
    assert {str(e["UID"]) for e in events} == {f"{quick['id']}@slotwise", f"{assessment['id']}@slotwise"}
    assert b"Quastenflosser" not in (await client.get(feed)).content

    # The owner allows names through the site document (the site file's [site] feed_customer_names).
    owner = bearer(await new_key(clock, scopes=(Scope.CATALOG_READ, Scope.CATALOG_WRITE)))
    read = await client.get(f"{ADMIN}/test-physio/", headers=owner)
    document = read.json()
    assert document["site"]["feed_customer_names"] is False
    document["site"]["feed_customer_names"] = True
    put = await client.put(f"{ADMIN}/test-physio/", json=document, headers={**owner, "If-Match": read.headers["etag"]})
    assert put.status_code == 200, put.text
    events = valid_events((await client.get(feed)).content)
    summaries = {str(e["SUMMARY"]) for e in events}
    assert summaries == {f"Quick check – {NAME}", "Assessment – Max Mustermann"}
    # The same text through the second parser: escaped on the way out, unescaped on the way in.
    assert {e.name for e in ics.Calendar((await client.get(feed)).text).events} == summaries

    # A resource's feed holds only that resource's bookings.
    room = await make_feed(client, key, resource="room-1")
    [only] = valid_events((await client.get(room)).content)
    assert str(only["UID"]) == f"{assessment['id']}@slotwise"


async def test_the_window_is_the_past_30_days_and_the_next_90(client, clock):
    key = await new_key(clock)
    feed = await make_feed(client, key)
    booking = await book(client)
    clock.now += timedelta(days=29)
    assert len(valid_events((await client.get(feed)).content)) == 1
    clock.now += timedelta(days=3)
    assert valid_events((await client.get(feed)).content) == []
    # 95 days ahead is past the window; the booking's own service allows it.
    clock.now -= timedelta(days=32)
    far = await book(client, "2027-02-26T09:00:00+01:00")
    assert {str(e["UID"]) for e in valid_events((await client.get(feed)).content)} == {
        f"{booking['id']}@slotwise"}
    clock.now += timedelta(days=10)
    assert f"{far['id']}@slotwise" in {str(e["UID"]) for e in valid_events((await client.get(feed)).content)}


async def test_making_the_url_again_replaces_it_and_the_old_one_answers_404(client, clock, database_kind):
    key = await new_key(clock)
    old = await make_feed(client, key)
    assert (await client.get(old)).status_code == 200
    clock.now += timedelta(minutes=1)
    new = await make_feed(client, key)
    assert new != old
    gone = await client.get(old)
    assert gone.status_code == 404
    assert gone.json()["detail"] == (await client.get("/feeds/never-issued.ics")).json()["detail"]
    assert (await client.get(new)).status_code == 200
    assert (await client.get(new.removesuffix(".ics"))).status_code == 404
    # One row per feed, holding the token's hash and never the token.
    rows = await Feed.select()
    assert len(rows) == 1
    token = new.removeprefix("/feeds/").removesuffix(".ics")
    assert len(token) >= 43  # 256 bits of HMAC over 192 random bits
    assert all(token not in str(value) for row in rows for value in row.values())
    # The audit log says the URL was made and made again; it holds no token.
    entries = await AuditEntry.select().where(AuditEntry.object_kind == "feed").order_by(AuditEntry.id)
    assert [(e["action"], e["object_ref"]) for e in entries] == [("created", "anna"), ("changed", "anna")]
    assert all(token not in str(e["changes"]) for e in entries)


async def test_the_same_idempotency_key_answers_the_same_url(client, clock):
    key = await new_key(clock)
    first = await make_feed(client, key, **{"Idempotency-Key": "feed-1"})
    replay = await make_feed(client, key, **{"Idempotency-Key": "feed-1"})
    assert replay == first
    assert (await client.get(first)).status_code == 200
    other = await make_feed(client, key, resource=None, **{"Idempotency-Key": "feed-1"})
    assert other != first
    assert (await client.get(first)).status_code == 200


async def test_another_sites_key_finds_nothing_and_a_key_without_bookings_read_is_forbidden(client, clock):
    foreign = await new_key(clock, site="other-studio")
    for path in (f"{ADMIN}/test-physio/feed", f"{ADMIN}/test-physio/resources/anna/feed"):
        assert (await client.post(path, headers=bearer(foreign))).status_code == 404
    catalog_only = await new_key(clock, scopes=(Scope.CATALOG_READ, Scope.BOOKINGS_WRITE))
    for path in (f"{ADMIN}/test-physio/feed", f"{ADMIN}/test-physio/resources/anna/feed"):
        response = await client.post(path, headers=bearer(catalog_only))
        assert response.status_code == 403, response.text
    assert (await client.post(f"{ADMIN}/test-physio/feed")).status_code == 401
    key = await new_key(clock)
    unknown = await client.post(f"{ADMIN}/test-physio/resources/nobody/feed", headers=bearer(key))
    assert unknown.status_code == 404
    assert await Feed.count() == 0
    # A resource's id names it as well as its key: the same feed.
    resources = (await client.get(f"{ADMIN}/test-physio/resources",
                                  headers=bearer(await new_key(clock, scopes=(Scope.CATALOG_READ,))))).json()
    anna = next(r["id"] for r in resources["data"] if r["key"] == "anna")
    by_id = await client.post(f"{ADMIN}/test-physio/resources/{anna}/feed", headers=bearer(key))
    assert by_id.status_code == 201
    by_key = await make_feed(client, key)
    assert (await client.get("/feeds/" + by_id.json()["url"].rsplit("/feeds/", 1)[1])).status_code == 404
    assert (await client.get(by_key)).status_code == 200
    assert await Feed.count() == 1


async def test_a_renamed_service_changes_the_etag_and_the_date(client, clock):
    key = await new_key(clock)
    feed = await make_feed(client, key)
    await book(client)
    first = await client.get(feed)
    assert (await client.get(feed)).headers["etag"] == first.headers["etag"]  # stable while nothing changes
    clock.now += timedelta(minutes=1)
    catalog = bearer(await new_key(clock, scopes=(Scope.CATALOG_WRITE,)))
    renamed = await client.patch(f"{ADMIN}/test-physio/services/quick", json={"name": "Short check"},
                                 headers=catalog)
    assert renamed.status_code == 200, renamed.text
    clock.now += timedelta(minutes=1)
    after = await client.get(feed, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200
    assert [str(e["SUMMARY"]) for e in valid_events(after.content)] == ["Short check"]
    assert after.headers["last-modified"] != first.headers["last-modified"]
    assert (await client.get(feed, headers={"If-Modified-Since": first.headers["last-modified"]})).status_code == 200
    assert (await client.get(feed, headers={"If-Modified-Since": after.headers["last-modified"]})).status_code == 304


async def test_urls_made_at_once_leave_exactly_one_that_works(client, clock):
    key = await new_key(clock)
    paths = await asyncio.gather(*(make_feed(client, key, resource=None) for _ in range(5)))
    answers = [(await client.get(path)).status_code for path in paths]
    assert sorted(answers) == [200, 404, 404, 404, 404]
    assert await Feed.count() == 1
