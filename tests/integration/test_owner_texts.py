"""Owner text per language, custom fields, and the listed duration, category and address,
through HTTP: the widget, the manage page, the email on a real SMTP peer, the admin API."""

from __future__ import annotations

import re

import pytest
from slotwise.adapters.dev_outbox import DevSmsSender
from slotwise.adapters.smtp import SmtpMailer
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Booking
from slotwise.services import keys
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site
from slotwise.sitefile import parse_site

from tests.integration.test_booking_pages import HTMX, Forms, step_of
from tests.support.config import SECRET_KEY
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")
PAGE = "/book/bilingual"
ADMIN = "/api/v1/admin/sites/bilingual"
NINE = "2026-11-24T09:00:00+01:00"  # Tuesday; the tests' clock stands at Monday 08:00 CET

SITE = """
[site]
slug = "bilingual"
name = "Harbour Physio"
timezone = "Europe/Berlin"
locale = "en"
contact_email = "praxis@bilingual.example"
notify_email = "team@bilingual.example"

[site.hours]
tue = ["09:00-17:00"]

[[resources]]
key = "anna"
name = { en = "Anna (physio)", de = "Anna (Physiotherapeutin)" }
kind = "person"
metadata = { staff_no = 17 }

[[services]]
slug = "massage"
name = { en = "Massage", de = "Massagebehandlung" }
description = { en = "Loosens the back.", de = "Lockert den Rücken." }
category = { en = "Treatments", de = "Behandlungen" }
duration = 60
listed_duration = 50
ask_address = true
resources = ["anna"]
metadata = { erp_id = "M-100", taxable = true }

[[services.questions]]
key = "area"
label = { en = "Which area?", de = "Welcher Bereich?" }
type = "select"
options = [{ en = "Back", de = "Rücken" }, "Neck"]
required = true

[[services]]
slug = "talk"
name = "First talk"
duration = 30
resources = ["anna"]
"""


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_site(SITE, source="bilingual.toml"), actor=APPLIER, now=clock())


@pytest.fixture
async def owner(clock) -> dict[str, str]:
    created = await keys.create_key("bilingual", name="Sync", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def details_in(client, locale: str):
    return await client.post(f"{PAGE}/hold", headers=HTMX, data={
        "service": "massage", "start": NINE, "tz": "Europe/Berlin", "locale": locale})


async def book_in_german(client, address: str = "Hafenstraße 12\n20457 Hamburg", details=None):
    details = details or await details_in(client, "de")
    form = Forms(details.text).form("/confirm")
    return await client.post(form["action"], headers=HTMX, data={
        **form["fields"], "customer.name": "Erika Mustermann", "customer.email": "erika@example.com",
        "customer.address": address, "answers.area": "Back"})


async def test_a_german_customer_sees_the_german_names_grouped_by_category_with_the_listed_duration(client):
    german = await client.get(f"{PAGE}?locale=de", headers=HTMX)
    english = await client.get(f"{PAGE}?locale=en", headers=HTMX)

    assert step_of(german.text) == "services"
    assert "Massagebehandlung" in german.text and "Lockert den Rücken." in german.text
    assert "Massage<" not in german.text.replace("Massagebehandlung<", "")
    # Grouped: the category first, the service without one under "Other" ("Weitere").
    headings = re.findall(r'<h3 id="sw-group-\d+" class="sw-h3">([^<]+)</h3>', german.text)
    assert headings == ["Behandlungen", "Weitere"]
    assert "50 Min" in german.text and "60 Min" not in german.text
    assert re.findall(r'<h3 id="sw-group-\d+" class="sw-h3">([^<]+)</h3>', english.text) == ["Treatments", "Other"]
    assert "Massage" in english.text and "Massagebehandlung" not in english.text
    # A plain string is the site's language, and the fallback in any other.
    assert "First talk" in german.text

    day = await client.get(f"{PAGE}?service=massage&date=2026-11-24&locale=de&tz=Europe/Berlin")
    assert "bei Anna (Physiotherapeutin)" in day.text and "Anna (physio)" not in day.text
    assert "Massagebehandlung · 50 Min" in day.text


async def test_the_details_step_asks_the_address_and_the_questions_in_german(client):
    details = await details_in(client, "de")

    assert step_of(details.text) == "details"
    assert "Welcher Bereich?" in details.text
    assert '<option value="Back">Rücken</option>' in details.text
    assert '<option value="Neck">Neck</option>' in details.text
    assert re.search(r'<textarea id="f-customer-address" name="customer.address" required', details.text)
    assert "Anna (Physiotherapeutin)" in details.text

    missing = await book_in_german(client, address="  \n ", details=details)
    assert missing.status_code == 422
    assert "Bitte geben Sie Ihre Adresse ein." in missing.text
    assert await Booking.count() == 0


async def test_a_german_booking_keeps_its_address_and_its_email_and_manage_page_speak_german(client, clock):
    done = await book_in_german(client)
    assert done.status_code == 200, done.text
    assert step_of(done.text) == "confirmation"
    assert "Massagebehandlung · 50 Min" in done.text
    assert "Hafenstraße 12" in done.text
    row = await Booking.select().first().output(load_json=True)
    assert row["customer_address"] == "Hafenstraße 12\n20457 Hamburg"
    assert row["answers"] == {"area": "Back"}
    # Availability blocks the whole hour; the customer is told 50 minutes.
    assert (row["end_at"] - row["start_at"]).total_seconds() == 3600

    manage_url = re.search(r'href="http://testserver\.local(/manage/[A-Za-z0-9_-]{40,})"', done.text).group(1)
    page = await client.get(manage_url)
    assert page.status_code == 200
    assert "Massagebehandlung · 50 Min" in page.text and "Anna (Physiotherapeutin)" in page.text
    assert "Welcher Bereich?" in page.text and "Rücken" in page.text
    assert "Hafenstraße 12" in page.text

    smtp = SmtpServer()
    smtp.up()
    try:
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=DevSmsSender(),
                              clock=clock, jitter=lambda: 0.0)
        assert await deliverer.deliver_due() >= 1
    finally:
        smtp.down()
    [received] = [m for m in smtp.inbox.messages if m["To"] == "erika@example.com"]
    # The team's note is in the site's language, with the address on one line.
    [note] = [m for m in smtp.inbox.messages if m["To"] == "team@bilingual.example"]
    note_text = note.get_body(("plain",)).get_content()
    assert "Address: Hafenstraße 12, 20457 Hamburg" in note_text
    assert "Massage" in note_text and "Massagebehandlung" not in note_text
    assert "Massagebehandlung" in received["Subject"]
    text = received.get_body(("plain",)).get_content()
    assert "Massagebehandlung" in text and "Anna (Physiotherapeutin)" in text
    assert "09:00–09:50" in text  # the listed duration, not the hour blocked
    [ics] = [part for part in received.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = ics.get_payload(decode=True).decode()
    assert "SUMMARY:Massagebehandlung" in calendar
    assert "DTEND:20261124T085000Z" in calendar


async def test_the_admin_api_round_trips_the_per_language_document_and_apply_changes_nothing(
        client, owner, tmp_path, slotwise):
    read = await client.get(ADMIN + "/", headers=owner)
    assert read.status_code == 200
    massage = read.json()["services"][0]
    assert massage["name"] == {"en": "Massage", "de": "Massagebehandlung"}
    assert massage["category"] == {"en": "Treatments", "de": "Behandlungen"}
    assert massage["listed_duration"] == 50 and massage["ask_address"] is True
    assert massage["metadata"] == {"erp_id": "M-100", "taxable": True}
    assert massage["questions"][0]["options"] == [{"en": "Back", "de": "Rücken"}, "Neck"]
    assert read.json()["resources"][0]["metadata"] == {"staff_no": 17}

    put = await client.put(ADMIN + "/", json=read.json(), headers={**owner, "If-Match": read.headers["etag"]})
    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False

    exported = await client.get(ADMIN + "/", headers={**owner, "Accept": "application/toml"})
    (tmp_path / "export.toml").write_text(exported.text)
    again = slotwise("apply", str(tmp_path / "export.toml"))
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout

    one = await client.get(ADMIN + "/services/massage", headers=owner)
    assert one.json()["name"] == {"en": "Massage", "de": "Massagebehandlung"}
    changed = await client.patch(ADMIN + "/services/massage", headers=owner,
                                 json={"name": {"en": "Massage", "de": "Massage (Rücken)", "fr": "Massage"}})
    assert changed.status_code == 422
    assert [(e["name"], e["detail"]) for e in changed.json()["errors"]] == [
        ("name.fr", 'unknown language "fr"; use en, de')]
    empty = await client.patch(ADMIN + "/services/massage", headers=owner, json={"name": {"de": " "}})
    assert [e["name"] for e in empty.json()["errors"]] == ["name.de"]
    bad_put = await client.put(ADMIN + "/", headers=owner, json={
        **read.json(), "services": [{**massage, "description": {"de": "x" * 5001}}]})
    assert bad_put.status_code == 422
    assert [e["name"] for e in bad_put.json()["errors"]] == ["services[0].description.de"]


async def test_metadata_of_a_booking_is_set_on_create_changed_by_patch_and_checked_per_key(client, owner):
    created = await client.post(ADMIN + "/bookings", headers=owner, json={
        "service": "talk", "start": NINE, "customer": {"name": "Max", "email": "max@example.com"},
        "metadata": {"crm_id": "C-9", "visits": 3}})
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["metadata"] == {"crm_id": "C-9", "visits": 3}
    assert booking["address"] is None  # this service does not ask for it
    path = f"{ADMIN}/bookings/{booking['id']}"

    detail = await client.get(path, headers=owner)
    etag = detail.headers["etag"]
    patched = await client.patch(path, headers={**owner, "If-Match": etag},
                                 json={"metadata": {"crm_id": "C-10", "paid": False}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"] == {"crm_id": "C-10", "paid": False}
    assert patched.headers["etag"] != etag
    stale = await client.patch(path, headers={**owner, "If-Match": etag}, json={"metadata": {}})
    assert stale.status_code == 412
    listed = await client.get(ADMIN + "/bookings", headers=owner)
    assert listed.json()["data"][0]["metadata"] == {"crm_id": "C-10", "paid": False}

    too_many = {f"k{n}": n for n in range(51)}
    bad = await client.patch(path, headers=owner, json={"metadata": {
        "Bad-Key": 1, "long": "x" * 501, "nested": {"a": 1}, "ok": 1.5}})
    assert bad.status_code == 422
    assert {e["name"]: e["code"] for e in bad.json()["errors"]} == {
        "metadata.Bad-Key": "metadata-key", "metadata.long": "text-too-long", "metadata.nested": "metadata-value"}
    many = await client.patch(path, headers=owner, json={"metadata": too_many})
    assert [e["name"] for e in many.json()["errors"]] == ["metadata"]
    on_create = await client.post(ADMIN + "/bookings", headers=owner, json={
        "service": "talk", "start": "2026-11-24T10:00:00+01:00",
        "customer": {"name": "Max", "email": "max@example.com"}, "metadata": {"x": [1]}})
    assert on_create.status_code == 422
    assert [e["name"] for e in on_create.json()["errors"]] == ["metadata.x"]
    assert (await client.get(path, headers=owner)).json()["metadata"] == {"crm_id": "C-10", "paid": False}


async def test_the_address_is_in_the_detail_and_the_export_and_erase_wipes_it(client, owner):
    done = await book_in_german(client)
    assert done.status_code == 200, done.text
    listed = await client.get(ADMIN + "/bookings", headers=owner)
    [booking] = listed.json()["data"]
    assert booking["address"] == "Hafenstraße 12\n20457 Hamburg"

    exported = await client.get(ADMIN + "/customers/erika@example.com/export", headers=owner)
    assert exported.status_code == 200, exported.text
    assert exported.json()["bookings"][0]["address"] == "Hafenstraße 12\n20457 Hamburg"

    erased = await client.delete(ADMIN + "/customers/erika@example.com", headers=owner)
    assert erased.status_code == 200, erased.text
    row = await Booking.select().first()
    assert row["customer_address"] is None
    assert "Hafenstraße" not in str(row)


async def test_the_public_services_list_speaks_the_language_asked_for(client):
    german = await client.get("/api/v1/sites/bilingual/services", params={"locale": "de"})
    plain = await client.get("/api/v1/sites/bilingual/services")
    wrong = await client.get("/api/v1/sites/bilingual/services", params={"locale": "fr"})

    massage = german.json()["services"][0]
    assert massage["name"] == "Massagebehandlung" and massage["category"] == "Behandlungen"
    assert massage["listed_duration_minutes"] == 50 and massage["duration_minutes"] == 60
    assert massage["ask_address"] is True
    assert massage["questions"][0]["label"] == "Welcher Bereich?"
    assert massage["questions"][0]["options"] == ["Back", "Neck"]  # the values to send
    assert massage["questions"][0]["option_labels"] == ["Rücken", "Neck"]
    assert "metadata" not in massage  # never shown to customers
    assert plain.json()["services"][0]["name"] == "Massage"  # the site's language: English
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["name"] == "locale"


@pytest.mark.parametrize("body", [
    {}, {"metadata": None}, {"metadata": []}, {"metadata": "x"}, {"metadata": 1},
    {"metadata": {"a": 10**40}}, {"metadata": {"ä": 1}}, {"metadata": {"a": {"b": {"c": [1]}}}},
    {"metadata": {}, "status": "cancelled"}, [], "metadata",
])
async def test_odd_patch_bodies_are_422_never_500(client, owner, body):
    created = await client.post(ADMIN + "/bookings", headers=owner, json={
        "service": "talk", "start": NINE, "customer": {"name": "Max", "email": "max@example.com"}})
    path = f"{ADMIN}/bookings/{created.json()['id']}"

    answer = await client.patch(path, headers=owner, json=body)

    if body == {"metadata": {"a": 10**40}}:  # a number, however large, is a number
        assert answer.status_code == 200 and answer.json()["metadata"] == {"a": 10**40}
    else:
        assert answer.status_code == 422, answer.text


async def test_the_public_api_books_with_an_address_where_the_service_asks_for_one(client):
    body = {"service": "massage", "start": NINE, "locale": "de", "answers": {"area": "Neck"},
            "customer": {"name": "Max", "email": "max@example.com"}}
    missing = await client.post("/api/v1/sites/bilingual/bookings", json=body)
    assert missing.status_code == 422
    assert [(e["name"], e["code"]) for e in missing.json()["errors"]] == [("customer.address", "address-missing")]

    long = await client.post("/api/v1/sites/bilingual/bookings", json={
        **body, "customer": {**body["customer"], "address": "x" * 501}})
    assert [(e["name"], e["code"]) for e in long.json()["errors"]] == [("customer.address", "too-long")]

    booked = await client.post("/api/v1/sites/bilingual/bookings", json={
        **body, "customer": {**body["customer"], "address": " Deichstraße 1 \n\n  20459   Hamburg "}})
    assert booked.status_code == 201, booked.text
    assert booked.json()["address"] == "Deichstraße 1\n20459 Hamburg"


async def test_catalog_bodies_check_metadata_per_key(client, owner):
    bad = await client.post(ADMIN + "/resources", headers=owner, json={
        "key": "room", "name": {"de": "Raum", "en": "Room"}, "kind": "room", "metadata": {"Floor": 1}})
    assert bad.status_code == 422
    assert [e["name"] for e in bad.json()["errors"]] == ["metadata.Floor"]
    good = await client.post(ADMIN + "/resources", headers=owner, json={
        "key": "room", "name": {"de": "Raum", "en": "Room"}, "kind": "room", "metadata": {"floor": 1}})
    assert good.status_code == 201, good.text
    assert good.json()["name"] == {"de": "Raum", "en": "Room"}
    assert good.json()["metadata"] == {"floor": 1}


async def test_openapi_describes_the_booking_patch_and_the_new_fields(client):
    document = (await client.get("/schema/openapi.json")).json()

    patch = document["paths"]["/api/v1/admin/sites/{site}/bookings/{booking_id}"]["patch"]
    schemas = document["components"]["schemas"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    body = schemas[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
    assert set(body["properties"]) == {"metadata"} and body["additionalProperties"] is False
    assert {"address", "metadata"} <= set(schemas["AdminBookingOut"]["properties"])
    assert {"category", "listed_duration", "ask_address", "metadata"} <= set(schemas["CatalogServiceOut"]["properties"])
