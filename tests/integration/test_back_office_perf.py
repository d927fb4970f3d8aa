"""The day view's fast reads (docs/decisions.md, "Back office: the day view's speed").

On PostgreSQL the day sheet is one plain statement and the session one more;
these tests hold them to what the Piccolo queries answer (on SQLite the same
tests run the Piccolo path itself), keep the session read fresh on every page,
and count the day view's statements so a query that creeps back in is seen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import pytest
from slotwise.domain.access import Role
from slotwise.domain.actors import Actor
from slotwise.persistence import accounts as account_store
from slotwise.persistence import change_feed
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import catalog as catalog_store
from slotwise.persistence import day_sheet as day_store
from slotwise.persistence import queries
from slotwise.persistence import time_off as time_off_store
from slotwise.persistence.bookings import BookingFilter
from slotwise.persistence.tables import Booking as BookingTable
from slotwise.services import accounts, tokens
from slotwise.services import time_off as time_off_service
from slotwise.services.availability import get_site
from slotwise.services.config import ServiceConfig
from slotwise.services.day_sheet import day_sheet
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')
PASSWORD = "correct horse battery"
DAY = date(2026, 11, 24)


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


async def signed_in(client, email: str) -> str:
    """Signs in on the shared client; answers the session token (the cookie's value)."""
    import re

    client.cookies.clear()
    page = await client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    response = await client.post("/admin/login", data={"email": email, "password": PASSWORD, "next": "/admin",
                                                       "csrf": csrf})
    assert response.status_code == 303, response.text
    return client.cookies["slotwise_session"]


async def book(client, start: str, service: str = "quick", name: str = "Erika Muster") -> None:
    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": service, "start": start,
        "customer": {"name": name, "email": name.split()[0].lower() + "@example.com"}})
    assert response.status_code == 201, response.text


async def _piccolo_sheet(site, visible, start, end, now):
    """The day's parts read through the Piccolo queries (and the bookings list) one by one."""
    stored = await catalog_store.resources_of(site.id)
    keys = [r.spec.key for r in stored if r.active and (visible is None or r.spec.key in visible)]
    loaded = await queries.load_resources(site, keys)
    resources = [loaded[key] for key in keys if key in loaded]
    ids = [r.id for r in resources]
    bookings = await booking_store.list_bookings(
        BookingFilter(site_id=site.id, start_from=start, start_before=end, resource_ids=ids, service_id=None,
                      status="confirmed", text=None, updated_since=None), after=None, limit=500) if ids else []
    return (resources, await queries.list_services(site.id, include_disabled=True), bookings,
            await time_off_store.overlapping(ids, start, end), await day_store.live_holds(ids, start, end, now=now))


async def test_the_day_sheet_answers_what_the_piccolo_queries_answer(client, clock):
    await book(client, "2026-11-24T09:00:00+01:00", name="Erika Muster")
    await book(client, "2026-11-24T10:00:00+01:00", service="assessment", name="Jonas <b>Weber</b>")
    await book(client, "2026-11-25T09:00:00+01:00", name="Next Day")  # another day: not shown
    cancelled = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T15:00:00+01:00",
        "customer": {"name": "Gone Again", "email": "gone@example.com"}})
    assert cancelled.status_code == 201
    row = await BookingTable.select(BookingTable.id).order_by(BookingTable.id, ascending=False).first()
    await booking_store.cancel(row["id"], reason="test", now=clock())  # cancelled: not shown
    held = await client.post("/api/v1/sites/test-physio/holds", json={"service": "quick",
                                                                      "start": "2026-11-24T11:00:00+01:00"})
    assert held.status_code == 201, held.text
    site = await get_site("test-physio")
    await time_off_service.add_time_off(site, "anna", start=datetime.fromisoformat("2026-11-24T14:00:00+01:00"),
                                        end=datetime.fromisoformat("2026-11-24T16:00:00+01:00"), reason="Dentist",
                                        actor=APPLIER, now=clock())
    start = datetime.fromisoformat("2026-11-24T00:00:00+01:00")
    end = start + timedelta(days=1)
    for visible in (None, frozenset({"anna"}), frozenset({"room-1"}), frozenset()):
        for now in (clock(), clock() + timedelta(hours=3)):  # the hold alive, then expired
            sheet = await day_sheet(site, DAY, visible=visible, now=now)
            resources, services, bookings, time_off, holds = await _piccolo_sheet(site, visible, start, end, now)
            assert sheet.resources == resources
            assert list(sheet.services.values()) == services
            # What the grid shows of each: the same bookings, in the same order, on the same resources.
            shown = frozenset(r.key for r in resources)
            assert sheet.bookings == [day_store.DayBooking.of(b, shown) for b in bookings]
            assert sheet.time_off == time_off
            keys = {r.id: r.key for r in resources}
            assert [(h.resource, h.start, h.end) for h in sheet.holds] == [
                (keys[h.resource_id], h.start, h.end) for h in holds]
    everything = await day_sheet(site, DAY, visible=None, now=clock())
    assert [b.customer for b in everything.bookings] == ["Erika Muster", "Jonas <b>Weber</b>"]
    assert [b.service for b in everything.bookings] == ["quick", "assessment"]
    assert len(everything.bookings[1].resources) == 2 and "room-1" in everything.bookings[1].resources
    assert all(b.id.startswith("bkg_") and len(b.id) == 36 for b in everything.bookings)
    assert len(everything.time_off) == 1 and len(everything.holds) == 1


async def test_the_session_read_answers_what_the_three_queries_answer(client, settings, clock):
    await member(settings, clock, "both@example.com", Role.STAFF, resource="anna")
    await member(settings, clock, "both@example.com", Role.MANAGER, site="other-studio")
    token = await signed_in(client, "both@example.com")
    found = await account_store.find_current(tokens.hash_token(token))
    assert found is not None
    session, account, memberships, site = found
    assert session == await account_store.find_session(tokens.hash_token(token))
    assert account == await account_store.load_account(session.account_id)
    assert memberships == await account_store.memberships_of([account.id])
    assert [m.site_slug for m in memberships] == ["other-studio", "test-physio"]
    assert site is None  # none asked for
    # The site a page names comes with the session, as queries.find_site reads it; an unknown one is None.
    for slug in ("test-physio", "other-studio", "no-such-site"):
        found = await account_store.find_current(tokens.hash_token(token), slug)
        assert found is not None and found[:3] == (session, account, memberships)
        assert found[3] == await queries.find_site(slug)
    assert await account_store.find_current(tokens.hash_token("not-a-session")) is None
    assert await account_store.find_current(tokens.hash_token("not-a-session"), "test-physio") is None


async def test_a_changed_role_and_a_revoke_count_on_the_very_next_page(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert 'id="col-ben"' in page.text
    # Made staff bound to anna: the next page already shows anna's column only.
    await accounts.add_member("owner@example.com", site_slug="test-physio", role=Role.STAFF, resource="anna",
                              actor=APPLIER, now=clock(), config=ServiceConfig.from_settings(settings),
                              send_invitation=False)
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert page.status_code == 200 and 'id="col-anna"' in page.text and 'id="col-ben"' not in page.text
    account = await account_store.find_account("owner@example.com")
    await accounts.sign_out_everywhere(account.public_id, actor=APPLIER, now=clock())
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert page.status_code in (302, 303) and "/admin/login" in page.headers["location"]


def counting(monkeypatch) -> list[str]:
    """Every statement asyncpg is asked to run from now on (until ``monkeypatch.undo()``)."""
    sent: list[str] = []
    fetch, execute = asyncpg.Connection.fetch, asyncpg.Connection.execute

    async def counted_fetch(self, query, *args, **kwargs):
        sent.append(query)
        return await fetch(self, query, *args, **kwargs)

    async def counted_execute(self, query, *args, **kwargs):
        sent.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "fetch", counted_fetch)
    monkeypatch.setattr(asyncpg.Connection, "execute", counted_execute)
    return sent


@pytest.mark.postgres_only
async def test_the_day_view_costs_two_statements_on_postgresql_and_none_while_nothing_changed(
        client, settings, clock, database, monkeypatch):
    assert await change_feed.start(database.engine)
    await member(settings, clock, "owner@example.com")
    await book(client, "2026-11-24T09:00:00+01:00")
    await signed_in(client, "owner@example.com")
    await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})  # last_seen_at written now
    change_feed.forget_all()
    sent = counting(monkeypatch)
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    # The session (with account, memberships and the site), the day: nothing else.
    assert page.status_code == 200 and "Erika Muster" in page.text
    assert len(sent) == 2, sent
    # Both kept until their tables change, once the notices of this test's
    # own writes (sign-in, last_seen_at) are all in: no statement at all.
    monkeypatch.undo()
    await change_feed.catch_up(database.engine)
    sent = counting(monkeypatch)
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    monkeypatch.undo()
    assert page.status_code == 200 and "Erika Muster" in page.text
    assert sent == []
    # A booking changed elsewhere: the day is read again, the session stays kept.
    other = await asyncpg.connect(**database.engine.config)
    try:
        await other.execute("NOTIFY slotwise_changed, 'booking'")
    finally:
        await other.close()
    await change_feed.catch_up(database.engine)
    sent = counting(monkeypatch)
    page = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    monkeypatch.undo()
    assert page.status_code == 200 and "Erika Muster" in page.text
    assert len(sent) == 1, sent


@pytest.mark.postgres_only
async def test_a_kept_session_ends_when_another_process_revokes_it(client, settings, clock, database):
    """Another process is played by a connection of its own: only PostgreSQL's notice tells this one."""
    assert await change_feed.start(database.engine)
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    assert (await client.get("/admin/sites/test-physio")).status_code == 200
    assert (await client.get("/admin/sites/test-physio")).status_code == 200  # kept now
    other = await asyncpg.connect(**database.engine.config)
    try:
        await other.execute("UPDATE account_session SET revoked_at = $1", clock())
    finally:
        await other.close()
    await change_feed.catch_up(database.engine)  # the notice is in
    page = await client.get("/admin/sites/test-physio")
    assert page.status_code in (302, 303) and "/admin/login" in page.headers["location"]


async def test_the_days_links_open_the_panel_in_place_and_the_weeks_are_plain_links(client, settings, clock):
    """The grid boosts its booking links into the panel (target, swap, history inherited from it);
    freeing time off is a page of its own, and the week's links are plain."""
    import re

    await member(settings, clock, "owner@example.com")
    await book(client, "2026-11-24T09:00:00+01:00")
    site = await get_site("test-physio")
    await time_off_service.add_time_off(site, "anna", start=datetime.fromisoformat("2026-11-24T14:00:00+01:00"),
                                        end=datetime.fromisoformat("2026-11-24T15:00:00+01:00"), reason="Dentist",
                                        actor=APPLIER, now=clock())
    await signed_in(client, "owner@example.com")
    day = (await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})).text
    assert re.search(r'<div class="grid" data-rows="\d+" hx-boost="true" hx-target="#panel" hx-swap="innerHTML" '
                     r'hx-push-url="true">', day)
    [link] = re.findall(r'<a class="b-link" id="b-(bkg_[0-9a-f]{32})-anna" href="([^"]+)">Erika Muster<', day)
    assert link[1] == f"/admin/sites/test-physio/bookings/{link[0]}"
    assert re.search(r'<a class="off-remove" href="[^"]+/remove\?[^"]+" hx-boost="false">Remove<', day)
    week = (await client.get("/admin/sites/test-physio/week", params={"resource": "anna", "day": "2026-11-24"})).text
    assert "hx-boost" not in week and f'id="b-{link[0]}-2026-11-24" href="{link[1]}">' in week


async def test_what_people_typed_is_escaped_in_the_grid(client, settings, clock):
    """The grid's busiest loop escapes by hand (templates/admin/_grid.html): customer and service names."""
    await apply_site(parse_test_site(TEST_SITE.replace('name = "Quick check"', 'name = "Quick <i>check</i>"')),
                     actor=APPLIER, now=clock())
    await member(settings, clock, "owner@example.com")
    await book(client, "2026-11-24T09:00:00+01:00", name='Erika <script>alert("x")</script>')
    await signed_in(client, "owner@example.com")
    day = await client.get("/admin/sites/test-physio", params={"day": "2026-11-24"})
    assert day.status_code == 200
    assert 'Erika &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;' in day.text and "<script>alert" not in day.text
    assert "Quick &lt;i&gt;check&lt;/i&gt;" in day.text and "<i>check" not in day.text


@pytest.mark.postgres_only
async def test_a_drawn_day_is_kept_until_another_process_changes_it(client, settings, clock, database):
    """services.day_sheet.shown_day: the day is read and drawn again only after a change notice."""
    await member(settings, clock, "owner@example.com")
    await book(client, "2026-11-24T09:00:00+01:00", name="Erika Muster")
    await signed_in(client, "owner@example.com")
    await change_feed.catch_up(database.engine)
    url = "/admin/sites/test-physio?day=2026-11-24"
    assert "Erika Muster" in (await client.get(url)).text
    other = await asyncpg.connect(**database.engine.config)
    try:
        # A write that sends no notice (triggers off for this session) is not seen: the drawn day is kept...
        await other.execute("SET session_replication_role = replica")
        await other.execute("UPDATE booking SET customer_name = 'Renamed Quietly'")
        assert "Erika Muster" in (await client.get(url)).text
        # ...until a change of one of its tables is announced, as every other write does.
        await other.execute("SET session_replication_role = DEFAULT")
        await other.execute("UPDATE booking SET customer_name = 'Renamed Elsewhere'")
    finally:
        await other.close()
    await change_feed.catch_up(database.engine)
    page = (await client.get(url)).text
    assert "Renamed Elsewhere" in page and "Erika Muster" not in page


@pytest.mark.postgres_only
async def test_a_kept_day_drops_a_hold_the_moment_it_expires(client, settings, clock, database):
    """A hold vanishes by the clock, not by a change: the kept day ends at its expiry, even within
    the five minutes the line for now stays on one row."""
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    await change_feed.catch_up(database.engine)
    # Held at 07:52:30 UTC for 10 minutes: it expires at 08:02:30, inside the row of 08:00-08:05.
    clock.now = datetime.fromisoformat("2026-11-23T07:52:30+00:00")
    held = await client.post("/api/v1/sites/test-physio/holds", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00"})
    assert held.status_code == 201, held.text
    url = "/admin/sites/test-physio?day=2026-11-24"
    # Views within a minute of each other (the session's last_seen_at, a write, waits a minute).
    clock.now = datetime.fromisoformat("2026-11-23T08:02:00+00:00")
    assert 'class="block held' in (await client.get(url)).text
    clock.now = datetime.fromisoformat("2026-11-23T08:02:20+00:00")
    assert 'class="block held' in (await client.get(url)).text
    clock.now = datetime.fromisoformat("2026-11-23T08:02:50+00:00")
    assert 'class="block held' not in (await client.get(url)).text


async def test_a_week_read_at_once_is_the_seven_days_read_one_by_one(client, settings, clock):
    """services.day_sheet.day_sheets: one read cut into days answers what seven reads of a day answer."""
    from slotwise.services.day_sheet import day_sheets

    await book(client, "2026-11-24T09:00:00+01:00", name="Dienstag Kunde")
    await book(client, "2026-11-25T10:00:00+01:00", name="Mittwoch Kunde")
    held = await client.post("/api/v1/sites/test-physio/holds", json={
        "service": "quick", "start": "2026-11-25T11:00:00+01:00"})
    assert held.status_code == 201, held.text
    site = await get_site("test-physio")
    # Time off across midnight: on both days it touches.
    await time_off_service.add_time_off(site, "anna", start=datetime.fromisoformat("2026-11-24T20:00:00+01:00"),
                                        end=datetime.fromisoformat("2026-11-25T08:30:00+01:00"), reason="Night",
                                        actor=APPLIER, now=clock())
    monday = date(2026, 11, 23)
    week = await day_sheets(site, monday, days=7, visible=None, now=clock())
    one_by_one = [await day_sheet(site, monday + timedelta(days=n), visible=None, now=clock()) for n in range(7)]
    assert week == one_by_one
    assert [len(sheet.bookings) for sheet in week] == [0, 1, 1, 0, 0, 0, 0]
    assert [len(sheet.time_off) for sheet in week] == [0, 1, 1, 0, 0, 0, 0]
    assert [len(sheet.holds) for sheet in week] == [0, 0, 1, 0, 0, 0, 0]


@pytest.mark.postgres_only
async def test_a_resources_week_costs_one_statement_for_its_seven_days(client, settings, clock, database, monkeypatch):
    assert await change_feed.start(database.engine)
    await member(settings, clock, "owner@example.com")
    await book(client, "2026-11-24T09:00:00+01:00")
    await signed_in(client, "owner@example.com")
    week = "/admin/sites/test-physio/week?resource=anna&day=2026-11-24"
    await client.get(week)  # last_seen_at written now
    await change_feed.catch_up(database.engine)
    sent = counting(monkeypatch)
    page = await client.get(week)
    monkeypatch.undo()
    assert page.status_code == 200 and "Erika Muster" in page.text
    # The seven days in one sheet statement (it was seven), beside the resource picker's list.
    assert len([query for query in sent if "FROM booking AS b" in query]) == 1, sent
    assert len(sent) <= 4, sent
