"""Connected calendars against real peers on loopback: an HTTP server serving ICS files, and Radicale (CalDAV).

Busy events block slots in availability and in the booking transaction; a
failing source keeps its last good blocks, shows its error and emails the
owner after three failures; with write-back, bookings land in Radicale under
their own UID. The suite's app refuses loopback targets (the default); the
tests that talk to the peers use an app with SLOTWISE_WEBHOOK_ALLOW_PRIVATE on.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar
from slotwise.adapters.dev_outbox import DevSmsSender
from slotwise.adapters.smtp import SmtpMailer
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import AuditEntry, CalendarBusy, CalendarConnection, OutboxMessage
from slotwise.services import calendars, keys
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.calendar_peers import IcsServer, RadicaleServer
from tests.support.config import SECRET_KEY
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")
SITE = TEST_SITE.replace('contact_phone = "+49 40 1111111"',
                         'contact_phone = "+49 40 1111111"\nnotify_email = "owner@test-physio.example"')
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"')
ADMIN = "/api/v1/admin/sites/test-physio"
CALENDARS = f"{ADMIN}/resources/anna/calendars"
PUBLIC = "/api/v1/sites/test-physio"
TUESDAY = "2026-11-24"
OUTBOUND = calendars.Outbound(secret_key=SECRET_KEY, allow_private=True)


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\nDTSTAMP:20261101T000000Z\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n{body}END:VCALENDAR\r\n".encode()


# Tuesday 10:00-11:00 Berlin (09:00-10:00 UTC), written with its zone.
MEETING = ("UID:meeting-1\r\nDTSTART;TZID=Europe/Berlin:20261124T100000\r\n"
           "DTEND;TZID=Europe/Berlin:20261124T110000\r\nSUMMARY:Team meeting")


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


@pytest.fixture
async def owner(clock) -> dict[str, str]:
    created = await keys.create_key("test-physio", name="Reception", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


@pytest.fixture
async def private_client(settings, database, clock, schema):
    """An app that may call loopback peers (SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1)."""
    app = create_app(dataclasses.replace(settings, allow_private_targets=True), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
async def strict_client(settings, database, clock, schema):
    """An app with the default: outbound calls only to public addresses (the suite's settings allow private)."""
    app = create_app(dataclasses.replace(settings, allow_private_targets=False), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        yield http


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    with RadicaleServer(tmp_path_factory.mktemp("radicale")) as server:
        yield server


async def free_starts(client, day: str = TUESDAY, service: str = "quick") -> list[str]:
    response = await client.get(f"{PUBLIC}/availability", params={"service": service, "start": day, "end": day})
    assert response.status_code == 200, response.text
    return [slot["start"][11:16] for slot in response.json()["slots"]]


async def book(client, start: str, service: str = "quick"):
    return await client.post(f"{PUBLIC}/bookings", json={
        "service": service, "start": start, "customer": {"name": "Erika", "email": "erika@example.com"}})


async def connect(client, owner, **body) -> dict:
    response = await client.post(CALENDARS, headers=owner, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def sync(client, owner, calendar_id: str) -> dict:
    response = await client.post(f"{CALENDARS}/{calendar_id}/sync", headers=owner)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_ics_busy_event_removes_its_slots_and_a_booking_there_gets_409(private_client, owner, clock):
    client = private_client
    assert {"10:00", "10:30"} <= set(await free_starts(client))
    with IcsServer(ics(MEETING)) as peer:
        created = await connect(client, owner, kind="ics", url=peer.url)
        assert created["id"].startswith("cal_") and created["state"] == "pending"
        assert created["last_synced_at"] is None

        synced = await sync(client, owner, created["id"])

        assert synced["state"] == "ok" and synced["last_error"] is None and synced["last_synced_at"]
        starts = await free_starts(client)
        assert "10:00" not in starts and "10:30" not in starts
        assert "09:30" in starts and "11:00" in starts  # [start, end): the edges stay free
        assert (await book(client, f"{TUESDAY}T10:30:00+01:00")).status_code == 409
        assert (await book(client, f"{TUESDAY}T11:00:00+01:00")).status_code == 201

        # The next sync asks conditionally; the 304 keeps the blocks.
        again = await sync(client, owner, created["id"])
        assert peer.requests[-1]["if_none_match"] is not None
        assert again["state"] == "ok"
        assert "10:00" not in await free_starts(client)
        # The first sync of a new day fetches in full: the window has moved on.
        clock.now += timedelta(days=1)
        await sync(client, owner, created["id"])
        assert peer.requests[-1]["if_none_match"] is None

    listed = await client.get(CALENDARS, headers=owner)
    assert [c["id"] for c in listed.json()["data"]] == [created["id"]]
    removed = await client.delete(f"{CALENDARS}/{created['id']}", headers=owner)
    assert removed.status_code == 204
    assert "10:00" in await free_starts(client)


async def test_a_busy_event_blocks_a_slot_whose_buffer_overlaps_it(private_client, owner):
    # "assessment" has 15 minutes of buffer after: 09:00-09:45 (+15) ends at 10:00 and is fine;
    # 09:15-10:00 (+15 until 10:15) overlaps the meeting and is gone.
    with IcsServer(ics(MEETING)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        await sync(private_client, owner, created["id"])
    starts = await free_starts(private_client, service="assessment")
    assert "09:00" in starts and "09:15" not in starts


async def test_weekly_all_day_and_transparent_events(private_client, owner):
    weekly = ("UID:weekly\r\nDTSTART;TZID=Europe/Berlin:20261124T140000\r\n"
              "DTEND;TZID=Europe/Berlin:20261124T150000\r\nRRULE:FREQ=WEEKLY")
    all_day = "UID:away\r\nDTSTART;VALUE=DATE:20261125\r\nDTEND;VALUE=DATE:20261126"
    transparent = ("UID:fyi\r\nDTSTART:20261126T090000Z\r\nDTEND:20261126T110000Z\r\nTRANSP:TRANSPARENT")
    with IcsServer(ics(weekly, all_day, transparent)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        assert (await sync(private_client, owner, created["id"]))["state"] == "ok"

    for tuesday in (TUESDAY, "2026-12-01", "2027-01-12"):
        starts = await free_starts(private_client, tuesday)
        assert "14:00" not in starts and "14:30" not in starts and "13:30" in starts, tuesday
    assert await free_starts(private_client, "2026-11-25") == []  # the whole day, in Berlin
    assert "09:00" in await free_starts(private_client, "2026-11-26")  # transparent: free
    assert "10:00" in await free_starts(private_client, "2026-11-26")


async def test_a_failing_source_keeps_its_last_blocks_records_the_error_and_emails_the_owner_at_three(
        private_client, owner, clock):
    with SmtpServer() as smtp, IcsServer(ics(MEETING)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        good = await sync(private_client, owner, created["id"])
        peer.status = 500
        for failure in (1, 2, 3, 4):
            clock.now += timedelta(minutes=5)
            failed = await sync(private_client, owner, created["id"])
            assert failed["state"] == "error" and "HTTP 500" in failed["last_error"]
            assert failed["failures"] == failure and failed["last_synced_at"] == good["last_synced_at"]
            assert "10:00" not in await free_starts(private_client)  # the last good copy keeps blocking
            assert (await book(private_client, f"{TUESDAY}T10:00:00+01:00")).status_code == 409

        alerts = await OutboxMessage.select().where(OutboxMessage.event == "calendar-failing")
        assert len(alerts) == 1  # once, at the third failure
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=DevSmsSender(), clock=clock,
                              jitter=lambda: 0.0)
        await deliverer.deliver_due()
        [email] = smtp.inbox.wait_for(lambda m: m["To"] == "owner@test-physio.example")
        assert "cannot be read" in email["Subject"]
        assert "HTTP 500" in email.get_body(("plain",)).get_content()

        peer.status = 200  # back: the error clears, the count starts again
        peer.body = ics()
        clock.now += timedelta(minutes=5)
        recovered = await sync(private_client, owner, created["id"])
        assert recovered["state"] == "ok" and recovered["failures"] == 0
        assert "10:00" in await free_starts(private_client)


async def test_an_unreachable_source_records_its_error(private_client, owner):
    with IcsServer(ics(MEETING)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        await sync(private_client, owner, created["id"])
    failed = await sync(private_client, owner, created["id"])  # the server is gone now
    assert failed["state"] == "error" and "cannot be reached" in failed["last_error"]
    assert "10:00" not in await free_starts(private_client)


async def test_redirects_are_not_followed(private_client, owner):
    with IcsServer(ics(MEETING)) as peer:
        peer.status = 302
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        failed = await sync(private_client, owner, created["id"])
        assert [r["path"] for r in peer.requests] == ["/staff/anna.ics"]
    assert failed["state"] == "error" and "HTTP 302" in failed["last_error"]


async def test_a_broken_file_is_an_error_and_blocks_nothing_new(private_client, owner):
    with IcsServer(b"this is not a calendar") as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        failed = await sync(private_client, owner, created["id"])
    assert failed["state"] == "error" and "iCalendar" in failed["last_error"]
    assert "10:00" in await free_starts(private_client)


async def test_an_oversized_file_is_cut_off_and_is_an_error(private_client, owner):
    from slotwise.adapters.calendar_sources import MAX_ICS_BYTES

    huge = ics(MEETING)[:-len(b"END:VCALENDAR\r\n")] + b"X-PAD:" + b"x" * MAX_ICS_BYTES + b"\r\nEND:VCALENDAR\r\n"
    with IcsServer(huge) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        failed = await sync(private_client, owner, created["id"])
    assert failed["state"] == "error" and "larger than 10 MB" in failed["last_error"]
    assert "10:00" in await free_starts(private_client)


async def test_loopback_and_private_targets_are_refused_without_the_setting(client, strict_client, owner, clock):
    for url in ("http://127.0.0.1:9/cal.ics", "http://10.1.2.3/cal.ics", "http://[::1]/cal.ics"):
        refused = await strict_client.post(CALENDARS, headers=owner, json={"kind": "ics", "url": url})
        assert refused.status_code == 422, url
        [error] = refused.json()["errors"]
        assert error["name"] == "url" and "SLOTWISE_WEBHOOK_ALLOW_PRIVATE" in error["detail"]
    # Checked again at call time, on the resolved address (the host may have moved since).
    with IcsServer(ics(MEETING)) as peer:
        site = await calendars.queries.find_site("test-physio")
        connection = await calendars.connect_calendar(
            site, "anna", kind="ics", url=peer.url, username=None, password=None, write_bookings=None,
            actor=APPLIER, now=clock(), outbound=OUTBOUND)
        await calendars.sync_connection(connection.id, outbound=dataclasses.replace(OUTBOUND, allow_private=False),
                                        now=clock())
        assert peer.requests == []
    listed = (await client.get(CALENDARS, headers=owner)).json()["data"]
    assert listed[0]["state"] == "error" and "private or loopback" in listed[0]["last_error"]


async def test_bad_bodies_get_problems_per_field(client, owner):
    response = await client.post(CALENDARS, headers=owner, json={"kind": "outlook", "url": "ftp://x",
                                                                   "write_bookings": True})
    assert response.status_code == 422
    assert {e["name"] for e in response.json()["errors"]} == {"kind", "url", "write_bookings"}
    for url in ("http://[::1", "http://calendar.example.com:99999/a.ics", "https://", 42):
        broken = await client.post(CALENDARS, headers=owner, json={"kind": "ics", "url": url})
        assert broken.status_code == 422, url
        assert [e["name"] for e in broken.json()["errors"]] == ["url"]


async def test_other_sites_keys_see_nothing_and_read_keys_cannot_connect(client, owner, clock):
    other = await keys.create_key("other-studio", name="Other", scopes=list(Scope), expires_at=None,
                                  actor=APPLIER, now=clock())
    assert (await client.get(CALENDARS, headers={"Authorization": f"Bearer {other.secret}"})).status_code == 404
    reader = await keys.create_key("test-physio", name="Reader", scopes=[Scope.CATALOG_READ], expires_at=None,
                                   actor=APPLIER, now=clock())
    headers = {"Authorization": f"Bearer {reader.secret}"}
    assert (await client.get(CALENDARS, headers=headers)).status_code == 200
    refused = await client.post(CALENDARS, headers=headers, json={"kind": "ics", "url": "https://example.com/a.ics"})
    assert refused.status_code == 403


# --- CalDAV (Radicale) ---


async def test_a_caldav_busy_event_blocks_and_the_password_is_stored_encrypted(private_client, owner, radicale):
    radicale.calendar.save_event(ics(
        "UID:caldav-busy\r\nDTSTART;TZID=Europe/Berlin:20261124T150000\r\n"
        "DTEND;TZID=Europe/Berlin:20261124T160000\r\nSUMMARY:Dentist").decode())
    created = await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                            username=radicale.USER, password=radicale.PASSWORD)

    synced = await sync(private_client, owner, created["id"])

    assert synced["state"] == "ok", synced
    starts = await free_starts(private_client)
    assert "15:00" not in starts and "15:30" not in starts and "16:00" in starts
    row = await CalendarConnection.select().where(CalendarConnection.public_id == created["id"]).first()
    assert row["password_encrypted"] and radicale.PASSWORD not in row["password_encrypted"]
    assert "password" not in created


async def test_a_recurring_caldav_event_blocks_every_week(private_client, owner, radicale):
    radicale.calendar.save_event(ics(
        "UID:caldav-weekly\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\n"
        "DTEND;TZID=Europe/Berlin:20261123T100000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Planning").decode())
    created = await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                            username=radicale.USER, password=radicale.PASSWORD)
    assert (await sync(private_client, owner, created["id"]))["state"] == "ok"
    for monday in ("2026-11-30", "2026-12-07", "2027-01-04"):
        starts = await free_starts(private_client, monday)
        assert "09:00" not in starts and "09:30" not in starts and "10:00" in starts, monday


async def test_a_wrong_caldav_password_is_an_error(private_client, owner, radicale):
    created = await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                            username=radicale.USER, password="wrong")
    failed = await sync(private_client, owner, created["id"])
    assert failed["state"] == "error" and "CalDAV" in failed["last_error"]


def event_of(radicale: RadicaleServer, uid: str):
    for text in radicale.events():
        for event in Calendar.from_ical(text).walk("VEVENT"):
            if str(event["UID"]) == uid:
                return event
    return None


async def test_write_back_creates_moves_and_removes_the_booking_in_radicale(private_client, owner, radicale, clock):
    created = await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                            username=radicale.USER, password=radicale.PASSWORD, write_bookings=True)
    booked = await book(private_client, "2026-11-27T09:00:00+01:00")
    assert booked.status_code == 201, booked.text
    uid = f"{booked.json()['id']}@slotwise"
    admin_id = "bkg_" + booked.json()["id"].replace("-", "")

    assert await calendars.write_due(outbound=OUTBOUND, now=clock()) == 1
    event = event_of(radicale, uid)
    assert event is not None and event.decoded("DTSTART") == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert "Erika" in str(event["SUMMARY"])

    # Synced back in, our own event does not block its own booking (nor anything else).
    assert (await sync(private_client, owner, created["id"]))["state"] == "ok"
    assert not await CalendarBusy.select().where(CalendarBusy.uid == uid)

    moved = await private_client.post(f"{ADMIN}/bookings/{admin_id}/reschedule", headers=owner,
                                      json={"start": "2026-11-27T11:00:00+01:00"})
    assert moved.status_code == 200, moved.text
    await calendars.write_due(outbound=OUTBOUND, now=clock())
    event = event_of(radicale, uid)
    assert event.decoded("DTSTART") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert len([e for e in radicale.events() if uid in e]) == 1  # moved, not copied

    cancelled = await private_client.post(f"{ADMIN}/bookings/{admin_id}/cancel", headers=owner, json={})
    assert cancelled.status_code == 200, cancelled.text
    await calendars.write_due(outbound=OUTBOUND, now=clock())
    assert event_of(radicale, uid) is None


async def test_a_failed_write_is_retried_later(private_client, owner, clock, tmp_path):
    with RadicaleServer(tmp_path) as down:
        url = down.calendar_url
    created = await connect(private_client, owner, kind="caldav", url=url, username="anna", password="pw",
                            write_bookings=True)
    assert created["write_bookings"]
    assert (await book(private_client, "2026-11-27T09:00:00+01:00")).status_code == 201

    assert await calendars.write_due(outbound=OUTBOUND, now=clock(), jitter=lambda: 0.0) == 1
    assert await calendars.write_due(outbound=OUTBOUND, now=clock()) == 0  # not due again yet
    assert await calendars.write_due(outbound=OUTBOUND, now=clock() + timedelta(seconds=31)) == 1


async def test_the_worker_inside_serve_syncs_a_new_connection_at_once(server_environment, owner):
    import asyncio

    from tests.support.servers import ServerProcess

    # The server's clock is the real one: an event next week, so it lies inside the horizon.
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    event = (f"UID:soon\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
             f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}")
    env = {**server_environment, "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "1"}
    with IcsServer(ics(event)) as peer, ServerProcess(env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            created = await connect(http, owner, kind="ics", url=peer.url)
            for _ in range(100):
                listed = (await http.get(CALENDARS, headers=owner)).json()["data"]
                if listed[0]["state"] != "pending":
                    break
                await asyncio.sleep(0.1)
    assert listed[0]["id"] == created["id"] and listed[0]["state"] == "ok", listed
    [busy] = await CalendarBusy.select(CalendarBusy.start_at)
    assert busy["start_at"] == start


async def test_connecting_twice_with_one_idempotency_key_connects_once_and_is_audited(client, owner):
    headers = {**owner, "Idempotency-Key": "connect-anna-1"}
    body = {"kind": "ics", "url": "https://calendar.example.com/anna.ics"}
    first = await client.post(CALENDARS, headers=headers, json=body)
    again = await client.post(CALENDARS, headers=headers, json=body)

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len((await client.get(CALENDARS, headers=owner)).json()["data"]) == 1
    other = await client.post(CALENDARS, headers=headers, json={**body, "url": "https://calendar.example.com/b.ics"})
    assert other.status_code == 422
    await client.delete(f"{CALENDARS}/{first.json()['id']}", headers=owner)
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.object_ref).where(
        AuditEntry.object_kind == "calendar").order_by(AuditEntry.id)
    assert [(e["action"], e["object_ref"]) for e in entries] == [("created", first.json()["id"]),
                                                               ("removed", first.json()["id"])]


async def test_credentials_in_the_url_are_never_shown(client, owner):
    created = await client.post(CALENDARS, headers=owner, json={
        "kind": "ics", "url": "https://anna:topsecret@calendar.example.com/anna.ics"})
    assert created.status_code == 201
    assert "topsecret" not in created.text
    assert "topsecret" not in (await client.get(CALENDARS, headers=owner)).text


async def test_a_multi_day_event_blocks_every_day_to_its_end(private_client, owner):
    # Stored in pieces of a day (the busy query bounds its scan by that); all of them block.
    away = "UID:trip\r\nDTSTART;VALUE=DATE:20261125\r\nDTEND;VALUE=DATE:20261128"
    long_meeting = ("UID:offsite\r\nDTSTART;TZID=Europe/Berlin:20261130T150000\r\n"
                    "DTEND;TZID=Europe/Berlin:20261202T100000")
    with IcsServer(ics(away, long_meeting)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        assert (await sync(private_client, owner, created["id"]))["state"] == "ok"

    for day in ("2026-11-25", "2026-11-26", "2026-11-27", "2026-12-01"):
        assert await free_starts(private_client, day) == [], day
    assert "16:30" in await free_starts(private_client, TUESDAY)
    assert await free_starts(private_client, "2026-11-30") == [t for t in await free_starts(
        private_client, "2026-11-30") if t < "15:00"]
    assert "14:30" in await free_starts(private_client, "2026-11-30")
    assert "10:00" in await free_starts(private_client, "2026-12-02")
    assert "09:30" not in await free_starts(private_client, "2026-12-02")


async def test_a_busy_event_over_an_existing_booking_leaves_the_booking_alone(private_client, owner):
    booked = await book(private_client, f"{TUESDAY}T10:00:00+01:00")
    assert booked.status_code == 201
    with IcsServer(ics(MEETING)) as peer:
        created = await connect(private_client, owner, kind="ics", url=peer.url)
        assert (await sync(private_client, owner, created["id"]))["state"] == "ok"
    admin_id = "bkg_" + booked.json()["id"].replace("-", "")
    found = await private_client.get(f"{ADMIN}/bookings/{admin_id}", headers=owner)
    assert found.json()["status"] == "confirmed" and found.json()["start"] == f"{TUESDAY}T10:00:00+01:00"


async def test_a_booking_moved_to_another_resource_leaves_the_first_ones_calendar(
        private_client, owner, radicale, clock):
    await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                  username=radicale.USER, password=radicale.PASSWORD, write_bookings=True)
    booked = await private_client.post(f"{PUBLIC}/bookings", json={
        "service": "assessment", "start": "2026-12-03T09:00:00+01:00", "resource": "anna",
        "customer": {"name": "Jonas", "email": "jonas@example.com"}})
    assert booked.status_code == 201, booked.text
    uid = f"{booked.json()['id']}@slotwise"
    await calendars.write_due(outbound=OUTBOUND, now=clock())
    assert event_of(radicale, uid) is not None

    admin_id = "bkg_" + booked.json()["id"].replace("-", "")
    moved = await private_client.post(f"{ADMIN}/bookings/{admin_id}/reschedule", headers=owner,
                                      json={"start": "2026-12-01T10:00:00+01:00", "resource": "ben"})
    assert moved.status_code == 200, moved.text
    await calendars.write_due(outbound=OUTBOUND, now=clock())
    assert event_of(radicale, uid) is None  # ben has no calendar; anna's no longer shows it


async def test_turning_write_back_on_writes_the_bookings_already_there(private_client, owner, radicale, clock):
    booked = await book(private_client, "2026-11-26T15:00:00+01:00")
    assert booked.status_code == 201
    await connect(private_client, owner, kind="caldav", url=radicale.calendar_url,
                  username=radicale.USER, password=radicale.PASSWORD, write_bookings=True)

    assert await calendars.write_due(outbound=OUTBOUND, now=clock()) == 1
    event = event_of(radicale, f"{booked.json()['id']}@slotwise")
    assert event is not None and event.decoded("DTSTART") == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
