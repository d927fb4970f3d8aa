"""The back office's catalog pages over HTTP: services and resources as forms through services/catalog.py,
inline site-file messages, the "changed meanwhile" answer, disable/retire and back, the site file and the
audit log, and who may do what."""

from __future__ import annotations

import re

from slotwise.domain.access import Role
from slotwise.persistence.tables import AuditEntry as AuditTable
from slotwise.services import catalog as catalog_service
from slotwise.persistence import queries

from tests.integration.test_back_office import csrf_of, member, signed_in, sites  # noqa: F401  (fixture)

BASE = "/admin/sites/test-physio/catalog"


def service_form(csrf: str, html: str, **changes: str) -> dict[str, str | list[str]]:
    """The edit form as the browser would send it: its fields as shown, with ``changes`` over them."""
    fields: dict[str, str | list[str]] = {"csrf": csrf}
    for name, value in re.findall(r'<input id="[^"]*" name="([^"]+)" type="text" value="([^"]*)"', html):
        fields[name] = value.replace("&#34;", '"').replace("&amp;", "&")
    for name, value in re.findall(r'type="hidden" name="(etag|groups)" value="([^"]*)"', html):
        fields[name] = value.replace("&#34;", '"')
    groups: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="checkbox" name="(group-\d+)" value="([^"]+)" checked', html):
        groups.setdefault(name, []).append(value)
    fields.update(groups)
    if 'name="enabled" value="1" checked' in html:
        fields["enabled"] = "1"
    fields["phone"] = "optional"
    fields.update(changes)
    return fields


async def _site():
    return await queries.find_site("test-physio")


async def test_an_owner_edits_a_services_price_and_the_widget_offers_it(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    listing = await client.get(BASE)
    assert listing.status_code == 200 and "Quick check" in listing.text
    # The price as the page's language writes it (as the list shows it); sent back untouched it stays.
    german = await client.get(f"{BASE}/services/quick", params={"locale": "de"})
    assert german.status_code == 200 and 'value="25,00\xa0€"' in german.text
    kept = await client.post(f"{BASE}/services/quick", data={
        **service_form(csrf, german.text), "price_locale": "de"})  # sent without ?locale: the form says
    assert kept.status_code == 303, kept.text
    assert (await catalog_service.get_service(await _site(), "quick")).table["price"] == "25.00 EUR"
    form = await client.get(f"{BASE}/services/quick")
    assert form.status_code == 200 and 'value="€25.00"' in form.text
    saved = await client.post(f"{BASE}/services/quick", data=service_form(csrf, form.text, price="31.50 EUR"))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("?notice=service-saved")
    stored = await catalog_service.get_service(await _site(), "quick")
    assert stored.table["price"] == "31.50 EUR"
    assert stored.table["duration"] == 30 and stored.table["resources"] == [["anna"]]  # the rest untouched
    widget = await client.get("/api/v1/sites/test-physio/services")
    assert "31.50" in widget.text
    rows = await AuditTable.select().where(AuditTable.object_ref == "quick")
    assert any("31.50 EUR" in str(row) for row in rows)


async def test_site_file_messages_come_back_next_to_their_field_and_nothing_is_saved(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    form = await client.get(f"{BASE}/services/quick")
    sent = await client.post(f"{BASE}/services/quick",
                             data=service_form(csrf, form.text, price="lots", duration="-5"))
    assert sent.status_code == 422
    price_error = re.search(r'id="f-price-error">([^<]+)<', sent.text)
    duration_error = re.search(r'id="f-duration-error">([^<]+)<', sent.text)
    assert price_error and duration_error, sent.text
    assert 'aria-invalid="true" aria-describedby="f-price-error' in sent.text
    assert 'value="lots"' in sent.text  # what was typed stays
    assert (await catalog_service.get_service(await _site(), "quick")).table["price"] == "25.00 EUR"


async def test_a_form_saved_over_someone_elses_change_says_reload_and_keeps_their_change(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    form = await client.get(f"{BASE}/services/quick")
    site = await _site()
    from slotwise.domain.actors import Actor
    await catalog_service.update_service(site, "quick", {"seats": 2}, if_match=None, actor=Actor.system("other"),
                                         now=clock())
    sent = await client.post(f"{BASE}/services/quick", data=service_form(csrf, form.text, price="99.00 EUR"))
    assert sent.status_code == 409
    assert "Someone else saved a change while you were editing" in sent.text
    stored = (await catalog_service.get_service(site, "quick")).table
    assert stored["price"] == "25.00 EUR" and stored["seats"] == 2


async def test_a_resources_weekly_hours_and_closures_with_inline_problems_per_day(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    page = await client.get(f"{BASE}/resources/ben")
    assert page.status_code == 200 and 'value="10:00-14:00"' in page.text
    etag = re.search(r'name="etag" value="([^"]+)"', page.text).group(1).replace("&#34;", '"')
    body = {"csrf": csrf, "etag": etag, "name.en": "Ben Petersen", "kind": "person", "own_hours": "1",
            "hours.mon": "09:00-12:00, 13:00-17:00", "hours.tue": "10:00-14:00", "closed": "2026-12-24\n"}
    bad = await client.post(f"{BASE}/resources/ben", data={**body, "hours.mon": "09:00-12:00, 17:00-13:00",
                                                          "closed": "2026-12-24\nnot a day"})
    assert bad.status_code == 422
    assert re.search(r'id="f-hours-mon-error">[^<]+<', bad.text), bad.text
    assert re.search(r'id="f-closed-error">[^<]+<', bad.text)
    assert not re.search(r'id="f-hours-tue-error"', bad.text)
    good = await client.post(f"{BASE}/resources/ben", data={**body, "name.de": "Ben P."})
    assert good.status_code == 303, good.text
    stored = (await catalog_service.get_resource(await _site(), "ben")).table
    assert stored["hours"] == {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["10:00-14:00"]}
    assert stored["closed"] == ["2026-12-24"]
    assert stored["name"] == {"en": "Ben Petersen", "de": "Ben P."}


async def test_create_disable_enable_a_service_and_retire_a_resource_in_use_is_refused(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    created = await client.post(f"{BASE}/services/new", data={
        "csrf": csrf, "slug": "massage", "name.en": "Massage <b>60</b>", "duration": "60", "seats": "1",
        "price": "60.00 EUR", "enabled": "1", "group-0": ["anna", "ben"], "phone": "optional"})
    assert created.status_code == 303, created.text
    site = await _site()
    massage = await catalog_service.get_service(site, "massage")
    assert massage.table["resources"] == [["anna", "ben"]]
    listing = await client.get(BASE)
    assert "Massage &lt;b&gt;60&lt;/b&gt;" in listing.text and "<b>60</b>" not in listing.text
    off = await client.post(f"{BASE}/services/massage/enabled", data={"csrf": csrf, "etag": massage.etag})
    assert off.status_code == 303
    assert (await catalog_service.get_service(site, "massage")).table["enabled"] is False
    etag = (await catalog_service.get_service(site, "massage")).etag
    on = await client.post(f"{BASE}/services/massage/enabled", data={"csrf": csrf, "etag": etag, "enabled": "1"})
    assert on.status_code == 303
    assert (await catalog_service.get_service(site, "massage")).table["enabled"] is True
    anna = await catalog_service.get_resource(site, "anna")
    refused = await client.post(f"{BASE}/resources/anna/active", data={"csrf": csrf, "etag": anna.etag})
    assert refused.status_code == 409 and "still offered by" in refused.text
    assert (await catalog_service.get_resource(site, "anna")).active
    room = await catalog_service.get_resource(site, "room-1")
    # room-1 is in "assessment": disable it first, then the room can go, and come back.
    await client.post("/admin/sites/test-physio/catalog/services/assessment/enabled",
                      data={"csrf": csrf, "etag": (await catalog_service.get_service(site, "assessment")).etag})
    retired = await client.post(f"{BASE}/resources/room-1/active", data={"csrf": csrf, "etag": room.etag})
    assert retired.status_code == 303
    assert not (await catalog_service.get_resource(site, "room-1")).active
    back = await client.post(f"{BASE}/resources/room-1/active", data={
        "csrf": csrf, "etag": (await catalog_service.get_resource(site, "room-1")).etag, "active": "1"})
    assert back.status_code == 303 and (await catalog_service.get_resource(site, "room-1")).active


async def test_a_new_resource_with_a_bad_key_shows_the_message_at_the_key(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    sent = await client.post(f"{BASE}/resources/new", data={"csrf": csrf, "key": "Room 2!", "name.en": "Room 2",
                                                            "kind": "room"})
    assert sent.status_code == 422 and re.search(r'id="f-key-error">[^<]+<', sent.text), sent.text
    duplicate = await client.post(f"{BASE}/resources/new", data={"csrf": csrf, "key": "anna", "name.en": "A",
                                                                 "kind": "person"})
    assert duplicate.status_code == 422 and re.search(r'id="f-key-error">[^<]*duplicate', duplicate.text)
    made = await client.post(f"{BASE}/resources/new", data={"csrf": csrf, "key": "room-2", "name.en": "Room 2",
                                                            "name.de": "Raum 2", "kind": "room"})
    assert made.status_code == 303
    assert (await catalog_service.get_resource(await _site(), "room-2")).table["name"] == {"en": "Room 2",
                                                                                           "de": "Raum 2"}


async def test_the_site_file_view_and_download_are_the_apis_document(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    page = await client.get("/admin/sites/test-physio/site-file")
    assert page.status_code == 200 and "slug = &#34;test-physio&#34;" in page.text
    download = await client.get("/admin/sites/test-physio/site-file.toml")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/toml")
    assert 'attachment; filename="test-physio.toml"' == download.headers["content-disposition"]
    from slotwise.services import sites as site_service
    current = await site_service.site_document(await _site())
    assert download.text == site_service.document_as_toml(current.document)


async def test_the_audit_log_shows_the_back_offices_change_to_owners_and_managers_only(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "manager@example.com", role=Role.MANAGER)
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    csrf = await signed_in(client, "owner@example.com")
    form = await client.get(f"{BASE}/services/quick")
    await client.post(f"{BASE}/services/quick", data=service_form(csrf, form.text, price="27.00 EUR"))
    await signed_in(client, "manager@example.com")
    log = await client.get("/admin/sites/test-physio/audit")
    assert log.status_code == 200 and "27.00 EUR" in log.text and "owner@example.com" in log.text
    assert 'href="/admin/sites/test-physio/audit"' in log.text  # the nav links it for them
    assert "(back-office)" in log.text
    await signed_in(client, "viewer@example.com")
    assert (await client.get("/admin/sites/test-physio/audit")).status_code == 403
    assert 'href="/admin/sites/test-physio/audit"' not in (await client.get(BASE)).text  # nor links it


async def test_roles_viewer_and_staff_read_the_list_but_cannot_edit_another_site_is_404(client, settings, clock):
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    await member(settings, clock, "staff@example.com", role=Role.STAFF, resource="anna")
    await member(settings, clock, "other@example.com", site="other-studio")
    for email in ("viewer@example.com", "staff@example.com"):
        csrf = await signed_in(client, email)
        listing = await client.get(BASE)
        assert listing.status_code == 200 and "Quick check" in listing.text
        assert "/catalog/services/quick\"" not in listing.text  # no edit links
        assert (await client.get(f"{BASE}/services/quick")).status_code == 403
        assert (await client.get(f"{BASE}/resources/new")).status_code == 403
        sent = await client.post(f"{BASE}/services/quick", data={"csrf": csrf, "price": "1.00 EUR"})
        assert sent.status_code == 403
        sent = await client.post(f"{BASE}/resources/anna/active", data={"csrf": csrf})
        assert sent.status_code == 403
    assert (await catalog_service.get_service(await _site(), "quick")).table["price"] == "25.00 EUR"
    csrf = await signed_in_elsewhere(client)
    for path in (BASE, f"{BASE}/services/quick", "/admin/sites/test-physio/site-file",
                 "/admin/sites/test-physio/audit", "/admin/sites/test-physio/site-file.toml"):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.post(f"{BASE}/services/quick", data={"csrf": csrf, "price": "1.00 EUR"})).status_code == 404


async def signed_in_elsewhere(client) -> str:
    client.cookies.clear()
    page = await client.get("/admin/login")
    await client.post("/admin/login", data={"email": "other@example.com", "password": "correct horse battery",
                                            "next": "/admin", "csrf": csrf_of(page.text)})
    day = await client.get("/admin/sites/other-studio")
    return csrf_of(day.text)


async def test_unknown_objects_and_missing_csrf(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    assert (await client.get(f"{BASE}/services/nope")).status_code == 404
    assert (await client.post(f"{BASE}/resources/nope", data={"csrf": csrf})).status_code == 404
    assert (await client.post(f"{BASE}/services/quick", data={"price": "1.00 EUR"})).status_code == 403
    assert (await client.get("/admin/sites/test-physio/audit?cursor=garbage")).status_code == 200


async def test_questions_are_added_reordered_removed_and_their_problems_pinned_to_their_row(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    site = await _site()

    async def send(**questions: str):
        form = await client.get(f"{BASE}/services/quick")
        body = service_form(csrf, form.text)
        body = {k: v for k, v in body.items() if not k.startswith("questions.")}
        return await client.post(f"{BASE}/services/quick", data={**body, "questions_shown": "1", **questions})

    added = await send(**{
        "questions.0.key": "reason", "questions.0.label.en": "Why?", "questions.0.label.de": "Warum?",
        "questions.0.type": "text", "questions.0.required": "1", "questions.0.position": "2",
        "questions.1.key": "source", "questions.1.label.en": "How did you hear of us?", "questions.1.type": "select",
        "questions.1.options.en": "Friend\nInternet", "questions.1.position": "1"})
    assert added.status_code == 303, added.text
    questions = (await catalog_service.get_service(site, "quick")).table["questions"]
    assert [q["key"] for q in questions] == ["source", "reason"]
    assert questions[0]["options"] == ["Friend", "Internet"] and questions[0]["required"] is False
    assert questions[1]["label"] == {"en": "Why?", "de": "Warum?"} and questions[1]["required"] is True

    form = await client.get(f"{BASE}/services/quick")
    assert 'value="source"' in form.text and "Friend\nInternet</textarea>" in form.text

    # A choice without options: the message sits at that row (row 1 in the form, the body's first).
    bad = await send(**{
        "questions.0.key": "reason", "questions.0.label.en": "Why?", "questions.0.type": "text",
        "questions.0.position": "2",
        "questions.1.key": "source", "questions.1.label.en": "How?", "questions.1.type": "select",
        "questions.1.position": "1"})
    assert bad.status_code == 422
    assert re.search(r'id="f-questions-1-[a-z-]+-error">[^<]+<', bad.text) or \
        re.search(r'id="f-questions-1-options-error">[^<]+<', bad.text), bad.text
    assert not re.search(r'id="f-questions-0-[a-z.-]+-error"', bad.text)

    removed = await send(**{
        "questions.0.key": "source", "questions.0.label.en": "How?", "questions.0.type": "select",
        "questions.0.options.en": "Friend", "questions.0.remove": "1",
        "questions.1.key": "reason", "questions.1.label.en": "Why?", "questions.1.type": "text"})
    assert removed.status_code == 303
    assert [q["key"] for q in (await catalog_service.get_service(site, "quick")).table["questions"]] == ["reason"]


async def test_a_resources_time_zone_extra_opening_and_metadata(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    page = await client.get(f"{BASE}/resources/studio")
    etag = re.search(r'name="etag" value="([^"]+)"', page.text).group(1).replace("&#34;", '"')
    body = {"csrf": csrf, "etag": etag, "name.en": "Studio", "kind": "room", "own_hours": "1",
            "hours.wed": "18:00-19:00", "timezone": "Mars/Olympus", "extra_open": "2026-12-19: 10:00-14:00",
            "metadata": "floor = 2\ncode = \"007\""}
    bad = await client.post(f"{BASE}/resources/studio", data=body)
    assert bad.status_code == 422 and re.search(r'id="f-timezone-error">[^<]+<', bad.text), bad.text
    good = await client.post(f"{BASE}/resources/studio", data={**body, "timezone": "Europe/Berlin"})
    assert good.status_code == 303, good.text
    stored = (await catalog_service.get_resource(await _site(), "studio")).table
    assert stored["timezone"] == "Europe/Berlin" and stored["extra_open"] == {"2026-12-19": ["10:00-14:00"]}
    assert stored["metadata"] == {"floor": 2, "code": "007"}
    again = await client.get(f"{BASE}/resources/studio")
    assert "code = &#34;007&#34;" in again.text and "2026-12-19: 10:00-14:00" in again.text


async def test_a_german_page_takes_a_price_as_german_writes_it(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    csrf = await signed_in(client, "owner@example.com")
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    form = await client.get(f"{BASE}/services/quick", headers=german)
    saved = await client.post(f"{BASE}/services/quick", headers=german,
                              data=service_form(csrf, form.text, price="31,50 €"))
    assert saved.status_code == 303, saved.text
    assert (await catalog_service.get_service(await _site(), "quick")).table["price"] == "31.50 EUR"
    # Strict: an English-looking amount on a German page is the parser's to refuse, never read as 3150.
    form = await client.get(f"{BASE}/services/quick", headers=german)
    refused = await client.post(f"{BASE}/services/quick", headers=german,
                                data=service_form(csrf, form.text, price="31.50 €"))
    assert refused.status_code == 422 and 'id="f-price-error"' in refused.text
    assert 'value="31.50 €"' in refused.text  # what was typed, shown again
    assert (await catalog_service.get_service(await _site(), "quick")).table["price"] == "31.50 EUR"
