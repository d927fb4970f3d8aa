"""The back office's webhooks, calendar feeds and connected calendars over HTTP: who may, bad input, secrets once."""

from __future__ import annotations

import re

from slotwise.domain.access import Role
from slotwise.services import calendars as calendar_service
from slotwise.services import webhooks as webhook_service
from slotwise.services.availability import get_site

from tests.integration.test_back_office import book, csrf_of, member, signed_in
from tests.integration.test_back_office import sites  # noqa: F401  (autouse fixture: both test sites)

BASE = "/admin/sites/test-physio"
HOOK = "https://hooks.example.com/slotwise"


async def _site():
    return await get_site("test-physio")


async def _subscribe(client, csrf: str, **extra) -> str:
    data = {"csrf": csrf, "url": HOOK, "events": ["booking.created", "booking.cancelled"], "description": "", **extra}
    response = await client.post(f"{BASE}/webhooks", data=data)
    assert response.status_code == 201, response.text
    return response.text


# --- webhooks ----------------------------------------------------------------------------------


async def test_an_owner_subscribes_an_endpoint_and_sees_its_secret_once_not_stored_by_caches(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    page = await _subscribe(client, csrf, description="<script>alert(1)</script> Praxis")
    secret = re.search(r'value="(whsec_[^"]+)"', page).group(1)
    endpoints = await webhook_service.list_endpoints(await _site(), now=clock())
    assert [(e.url, e.events, e.description) for e in endpoints] == [
        (HOOK, ["booking.created", "booking.cancelled"], "<script>alert(1)</script> Praxis")]
    # The secret is the one that signs: the stored (sealed) secret opens to it.
    listing = await client.get(f"{BASE}/webhooks")
    assert listing.headers["cache-control"] == "no-store" and f'href="{BASE}/webhooks" aria-current="page"' in listing.text
    assert secret not in listing.text and "whsec_" not in listing.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Praxis" in listing.text and "<script>alert" not in listing.text
    detail = await client.get(f"{BASE}/webhooks/{endpoints[0].id}")
    assert detail.status_code == 200 and "whsec_" not in detail.text


async def test_bad_webhook_input_is_shown_beside_its_field_and_nothing_is_created(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    response = await client.post(f"{BASE}/webhooks", data={"csrf": csrf, "url": "ftp://x", "description": "a\x07b"})
    assert response.status_code == 422
    assert 'id="e-url"' in response.text and 'id="e-events"' in response.text and 'id="e-description"' in response.text
    assert 'value="ftp://x"' in response.text
    credentials = await client.post(f"{BASE}/webhooks", data={"csrf": csrf, "url": "https://u:p@hooks.example.com/x",
                                                              "events": "booking.created"})
    assert credentials.status_code == 422 and 'id="e-url"' in credentials.text
    assert await webhook_service.list_endpoints(await _site(), now=clock()) == []
    unknown = await client.post(f"{BASE}/webhooks", data={"csrf": csrf, "url": HOOK, "events": "booking.exploded"})
    assert unknown.status_code == 422 and 'id="e-events"' in unknown.text


async def test_edit_disable_enable_rotate_test_and_delete_an_endpoint(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    first = re.search(r'value="(whsec_[^"]+)"', await _subscribe(client, csrf)).group(1)
    site = await _site()
    [endpoint] = await webhook_service.list_endpoints(site, now=clock())
    url = f"{BASE}/webhooks/{endpoint.id}"

    saved = await client.post(url, data={"csrf": csrf, "url": HOOK + "/v2", "events": ["booking.rescheduled"],
                                         "description": "Desk"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?notice=saved")
    changed = await webhook_service.get_endpoint(site, endpoint.id, now=clock())
    assert (changed.url, changed.events, changed.description) == (HOOK + "/v2", ["booking.rescheduled"], "Desk")
    bad = await client.post(url, data={"csrf": csrf, "url": "", "events": []})
    assert bad.status_code == 422 and 'id="e-url"' in bad.text

    assert (await client.post(f"{url}/enabled", data={"csrf": csrf, "enabled": "0"})).status_code == 303
    assert not (await webhook_service.get_endpoint(site, endpoint.id, now=clock())).enabled
    assert (await client.post(f"{url}/enabled", data={"csrf": csrf, "enabled": "1"})).status_code == 303
    assert (await webhook_service.get_endpoint(site, endpoint.id, now=clock())).enabled

    confirm = await client.get(f"{url}/rotate")
    assert confirm.status_code == 200 and f'action="{url}/rotate"' in confirm.text
    rotated = await client.post(f"{url}/rotate", data={"csrf": csrf})
    second = re.search(r'value="(whsec_[^"]+)"', rotated.text).group(1)
    assert rotated.status_code == 200 and second != first and rotated.headers["cache-control"] == "no-store"

    ping = await client.post(f"{url}/test", data={"csrf": csrf})
    assert ping.status_code == 303
    log = await webhook_service.deliveries(site, endpoint.id, limit=None, cursor=None)
    assert [d["event_type"] for d in log.deliveries] == ["webhook.test"]
    page = await client.get(url)
    assert "webhook.test" in page.text

    retry_all = await client.post(f"{url}/retry-failed", data={"csrf": csrf})
    assert retry_all.status_code == 303 and "n=0" in retry_all.headers["location"]
    assert (await client.post(f"{url}/deliveries/whd_nope/retry", data={"csrf": csrf})).status_code == 404

    asked = await client.get(f"{url}/delete")
    assert asked.status_code == 200 and "confirm-title" in asked.text
    assert len(await webhook_service.list_endpoints(site, now=clock())) == 1
    gone = await client.post(f"{url}/delete", data={"csrf": csrf})
    assert gone.status_code == 303 and await webhook_service.list_endpoints(site, now=clock()) == []
    assert (await client.get(url)).status_code == 404


async def test_webhooks_are_for_owners_and_another_sites_are_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    await _subscribe(client, csrf)
    [endpoint] = await webhook_service.list_endpoints(await _site(), now=clock())
    await member(settings, clock, "manager@example.com", role=Role.MANAGER)
    csrf = await signed_in(client, "manager@example.com")
    assert (await client.get(f"{BASE}/webhooks")).status_code == 403
    assert (await client.post(f"{BASE}/webhooks", data={"csrf": csrf, "url": HOOK,
                                                        "events": "booking.created"})).status_code == 403
    assert (await client.post(f"{BASE}/webhooks/{endpoint.id}/delete", data={"csrf": csrf})).status_code == 403
    for role, resource in ((Role.VIEWER, None), (Role.STAFF, "ben")):
        await member(settings, clock, f"{role}@example.com", role=role, resource=resource)
        csrf = await signed_in(client, f"{role}@example.com")
        assert (await client.get(f"{BASE}/webhooks")).status_code == 403
        assert (await client.post(f"{BASE}/webhooks/{endpoint.id}/test", data={"csrf": csrf})).status_code == 403
        assert f'href="{BASE}/webhooks"' not in (await client.get(BASE)).text  # the nav offers it to owners only
    await member(settings, clock, "other@example.com", site="other-studio")
    csrf = await signed_in_to(client, "other@example.com", "other-studio")
    assert (await client.get(f"{BASE}/webhooks")).status_code == 404
    assert (await client.get(f"/admin/sites/other-studio/webhooks/{endpoint.id}")).status_code == 404
    assert (await client.post(f"/admin/sites/other-studio/webhooks/{endpoint.id}/delete",
                              data={"csrf": csrf})).status_code == 404
    assert len(await webhook_service.list_endpoints(await _site(), now=clock())) == 1
    # Without the CSRF token nothing happens.
    assert (await client.post("/admin/sites/other-studio/webhooks",
                              data={"url": HOOK, "events": "booking.created"})).status_code == 403


async def signed_in_to(client, email: str, site: str) -> str:
    client.cookies.clear()
    page = await client.get("/admin/login")
    response = await client.post("/admin/login", data={
        "email": email, "password": "correct horse battery", "next": "/admin", "csrf": csrf_of(page.text)})
    assert response.status_code == 303
    return csrf_of((await client.get(f"/admin/sites/{site}")).text)


# --- feeds -----------------------------------------------------------------------------------


async def test_a_feed_url_is_shown_once_and_a_new_one_after_a_confirm_step_kills_the_old(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    await book(client)
    listing = await client.get(f"{BASE}/feeds")
    assert listing.status_code == 200 and "Get the feed URL" in listing.text
    made = await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf})
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    first = re.search(r'value="(http[^"]+\.ics)"', made.text).group(1)
    path = first.removeprefix(settings.base_url)
    assert (await client.get(path)).status_code == 200
    assert "Make a new URL" in (await client.get(f"{BASE}/feeds")).text

    asked = await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf})
    assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.text and ".ics" not in asked.text
    assert (await client.get(path)).status_code == 200  # not replaced before the confirmation
    again = await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf, "confirm": "1"})
    second = re.search(r'value="(http[^"]+\.ics)"', again.text).group(1)
    assert second != first and (await client.get(path)).status_code == 404
    calendar = await client.get(second.removeprefix(settings.base_url))
    assert calendar.status_code == 200 and b"BEGIN:VEVENT" in calendar.content

    site_feed = await client.post(f"{BASE}/feeds/site", data={"csrf": csrf})
    assert site_feed.status_code == 201
    assert (await client.post(f"{BASE}/feeds/nobody", data={"csrf": csrf})).status_code == 404


async def test_staff_make_their_own_resources_feed_only(client, settings, clock):
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    csrf = await signed_in(client, "ben@example.com")
    listing = await client.get(f"{BASE}/feeds")
    assert listing.status_code == 200
    assert f'action="{BASE}/feeds/ben"' in listing.text and f'action="{BASE}/feeds/anna"' not in listing.text
    assert f'action="{BASE}/feeds/site"' not in listing.text
    assert (await client.post(f"{BASE}/feeds/ben", data={"csrf": csrf})).status_code == 201
    assert (await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf})).status_code in {403, 404}
    assert (await client.post(f"{BASE}/feeds/site", data={"csrf": csrf})).status_code == 403
    assert (await client.get("/admin/sites/other-studio/feeds")).status_code == 404


# --- connected calendars ---------------------------------------------------------------------


async def test_connect_list_and_disconnect_a_calendar_with_a_confirm_step(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    url = "https://calendar.example.com/anna/busy.ics"
    connected = await client.post(f"{BASE}/calendars/anna", data={"csrf": csrf, "kind": "ics", "url": url})
    assert connected.status_code == 303 and "notice=connected" in connected.headers["location"]
    site = await _site()
    [connection] = await calendar_service.calendars_of(site, "anna")
    assert (connection.kind, connection.url) == ("ics", url)
    page = await client.get(f"{BASE}/calendars?resource=anna")
    assert url in page.text and "Waiting for its first sync" in page.text

    dav = await client.post(f"{BASE}/calendars/anna", data={
        "csrf": csrf, "kind": "caldav", "url": "https://dav.example.com/cal/anna/", "username": "anna",
        "password": "s3cret-pass", "write_bookings": "1"})
    assert dav.status_code == 303
    listed = (await client.get(f"{BASE}/calendars?resource=anna")).text
    assert "s3cret-pass" not in listed and "Bookings are written into this calendar" in listed

    asked = await client.get(f"{BASE}/calendars/anna/{connection.public_id}/disconnect")
    assert asked.status_code == 200 and "Disconnect this calendar?" in asked.text
    assert len(await calendar_service.calendars_of(site, "anna")) == 2
    gone = await client.post(f"{BASE}/calendars/anna/{connection.public_id}/disconnect", data={"csrf": csrf})
    assert gone.status_code == 303
    assert [c.kind for c in await calendar_service.calendars_of(site, "anna")] == ["caldav"]
    assert (await client.get(f"{BASE}/calendars/anna/cal_nope/disconnect")).status_code == 404


async def test_bad_calendar_input_is_shown_inline_and_the_password_is_not_sent_back(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    bad = await client.post(f"{BASE}/calendars/anna", data={"csrf": csrf, "kind": "ics", "url": "not a url"})
    assert bad.status_code == 422 and 'id="e-url"' in bad.text and 'value="not a url"' in bad.text
    private = await client.post(f"{BASE}/calendars/anna", data={
        "csrf": csrf, "kind": "caldav", "url": "ftp://dav.example.com/x/", "username": "u", "password": "pw-123456"})
    assert private.status_code == 422 and 'id="e-url"' in private.text and "pw-123456" not in private.text
    odd = await client.post(f"{BASE}/calendars/anna", data={"csrf": csrf, "kind": "gopher", "url": "https://a.example/"})
    assert odd.status_code == 422 and 'id="e-kind"' in odd.text
    assert await calendar_service.calendars_of(await _site(), "anna") == []
    assert (await client.post(f"{BASE}/calendars/nobody", data={"csrf": csrf, "kind": "ics",
                                                                "url": "https://a.example/x.ics"})).status_code == 404


async def test_calendars_staff_see_their_own_viewers_cannot_change_and_another_site_is_not_found(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    await client.post(f"{BASE}/calendars/anna", data={"csrf": csrf, "kind": "ics",
                                                      "url": "https://calendar.example.com/a.ics"})
    [connection] = await calendar_service.calendars_of(await _site(), "anna")

    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    csrf = await signed_in(client, "viewer@example.com")
    page = await client.get(f"{BASE}/calendars?resource=anna")
    assert page.status_code == 200 and "calendar.example.com" in page.text and "Connect a calendar" not in page.text
    assert (await client.post(f"{BASE}/calendars/anna/{connection.public_id}/disconnect",
                              data={"csrf": csrf})).status_code == 403

    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    csrf = await signed_in(client, "ben@example.com")
    assert (await client.get(f"{BASE}/calendars?resource=anna")).status_code == 404
    assert (await client.post(f"{BASE}/calendars/anna/{connection.public_id}/disconnect",
                              data={"csrf": csrf})).status_code == 404
    assert (await client.post(f"{BASE}/calendars/ben", data={"csrf": csrf, "kind": "ics",
                                                             "url": "https://a.example/x.ics"})).status_code == 403

    await member(settings, clock, "other@example.com", site="other-studio")
    csrf = await signed_in_to(client, "other@example.com", "other-studio")
    assert (await client.get(f"{BASE}/calendars?resource=anna")).status_code == 404
    assert (await client.post(f"{BASE}/calendars/anna/{connection.public_id}/sync",
                              data={"csrf": csrf})).status_code == 404
    assert len(await calendar_service.calendars_of(await _site(), "anna")) == 1


async def test_sync_now_reads_the_calendar_and_a_broken_one_shows_its_error(client, settings, clock):
    from tests.integration.test_calendars import MEETING, ics
    from tests.support.calendar_peers import IcsServer

    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    site = await _site()
    with IcsServer(ics(MEETING)) as good, IcsServer(b"<b>this is not a calendar</b>") as broken:
        for url in (good.url, broken.url):
            connected = await client.post(f"{BASE}/calendars/anna", data={"csrf": csrf, "kind": "ics", "url": url})
            assert connected.status_code == 303, connected.text
        by_url = {c.url: c for c in await calendar_service.calendars_of(site, "anna")}
        for url in (good.url, broken.url):
            synced = await client.post(f"{BASE}/calendars/anna/{by_url[url].public_id}/sync", data={"csrf": csrf})
            assert synced.status_code == 303 and "notice=synced" in synced.headers["location"]
        assert good.requests and broken.requests  # synced in the request, from the page
    states = {c.url: c.state for c in await calendar_service.calendars_of(site, "anna")}
    assert states == {good.url: "ok", broken.url: "error"}
    page = (await client.get(f"{BASE}/calendars?resource=anna&notice=synced")).text
    assert "In sync" in page and "Failing" in page and "Last error" in page
    assert "The calendar has been synced." in page
    assert "<b>this" not in page
    assert (await client.post(f"{BASE}/calendars/anna/cal_nope/sync", data={"csrf": csrf})).status_code == 404


async def test_a_form_sent_twice_subscribes_once_and_shows_the_same_secret_and_feed_url(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    page = (await client.get(f"{BASE}/webhooks")).text
    key = re.search(r'name="idem" value="([^"]+)"', page).group(1)
    data = {"csrf": csrf, "idem": key, "url": HOOK, "events": "booking.created"}
    first, second = [await client.post(f"{BASE}/webhooks", data=data) for _ in range(2)]
    secrets = [re.search(r'value="(whsec_[^"]+)"', r.text).group(1) for r in (first, second)]
    assert secrets[0] == secrets[1]
    assert len(await webhook_service.list_endpoints(await _site(), now=clock())) == 1
    # The confirm step's form, sent twice: the second answer is the first URL, which keeps working.
    assert (await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf})).status_code == 201
    confirm = (await client.post(f"{BASE}/feeds/anna", data={"csrf": csrf})).text
    key = re.search(r'name="idem" value="([^"]+)"', confirm).group(1)
    urls = [re.search(r'value="(http[^"]+\.ics)"', (await client.post(
        f"{BASE}/feeds/anna", data={"csrf": csrf, "idem": key, "confirm": "1"})).text).group(1) for _ in range(2)]
    assert urls[0] == urls[1] and (await client.get(urls[0].removeprefix(settings.base_url))).status_code == 200
