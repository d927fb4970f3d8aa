"""Message templates and one's own messages through the admin API, with real keys and real SMTP/Twilio peers."""

from __future__ import annotations

import pytest
from slotwise.adapters.smtp import SmtpMailer
from slotwise.adapters.twilio_sms import TwilioTexter
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import OutboxMessage
from slotwise.services import keys
from slotwise.services.delivery import Deliverer, email_from_json
from slotwise.services.sites import apply_site

from tests.support.config import SECRET_KEY
from tests.support.fake_twilio import FakeTwilio
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
SITE = TEST_SITE.replace('contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\nsms_enabled = true')
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"')
EVERY_SCOPE = list(Scope)
SID, TOKEN = "AC" + "3" * 32, "test-token"


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock, scopes=EVERY_SCOPE, site: str = "test-physio") -> dict[str, str]:
    created = await keys.create_key(site, name="Messages", scopes=scopes, expires_at=None, actor=APPLIER,
                                    now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def book(client, auth, *, name: str = "Erika Muster", phone: str | None = None,
               start: str = "2026-11-24T09:00:00+01:00") -> str:
    customer = {"name": name, "email": "erika@example.com", **({"phone": phone} if phone else {})}
    response = await client.post(f"{ADMIN}/test-physio/bookings", headers=auth, json={
        "service": "quick", "start": start, "customer": customer, "notify": False})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# --- templates ----------------------------------------------------------------------------


async def test_the_listing_shows_every_event_channel_and_language_with_defaults_and_variables(client, clock):
    auth = await new_key(clock, [Scope.CATALOG_READ])
    response = await client.get(f"{ADMIN}/test-physio/templates", headers=auth)

    assert response.status_code == 200, response.text
    assert response.headers["etag"].startswith('"')
    data = response.json()["data"]
    assert len(data) == 4 * 2 * 2
    confirmed_de = next(t for t in data if (t["event"], t["channel"], t["locale"]) == ("confirmed", "email", "de"))
    assert set(confirmed_de["parts"]) == {"subject", "text", "html"}
    assert confirmed_de["parts"]["text"]["origin"] == "default"
    assert confirmed_de["parts"]["text"]["name"] == "confirmed.de.txt"
    assert "Guten Tag" in confirmed_de["parts"]["text"]["source"] or "Hallo" in confirmed_de["parts"]["text"]["source"]
    assert {"customer.name", "booking.when", "manage_url", "custom.<name>"} <= set(confirmed_de["variables"])
    sms = next(t for t in data if (t["event"], t["channel"], t["locale"]) == ("reminder", "sms", "en"))
    assert set(sms["parts"]) == {"body"} and {"when", "place", "custom.<name>"} <= set(sms["variables"])


async def test_an_invalid_template_is_a_422_naming_the_part_and_the_line(client, clock):
    auth = await new_key(clock)
    response = await client.put(f"{ADMIN}/test-physio/templates/confirmed/email/de", headers=auth, json={
        "subject": "Bis bald", "text": "Hallo {{ customer.name }},\nIhr Termin:\n{% endif %}\n"})

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["name"] == "text" and error["code"] == "template-invalid"
    assert error["detail"].startswith("template error on line 3:")
    # Unknown parts and channels are named too; nothing was stored.
    unknown = await client.put(f"{ADMIN}/test-physio/templates/confirmed/sms/de", headers=auth,
                               json={"body": "ok", "subject": "x"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["name"] == "subject"
    assert (await client.put(f"{ADMIN}/test-physio/templates/confirmd/email/de", headers=auth,
                             json={"text": "x"})).status_code == 404
    document = (await client.get(f"{ADMIN}/test-physio/", headers=auth)).json()
    assert "templates" not in document


async def test_an_override_is_in_effect_in_the_site_document_and_in_the_next_booking_email(client, clock):
    auth = await new_key(clock)
    etag = (await client.get(f"{ADMIN}/test-physio/templates", headers=auth)).headers["etag"]

    put = await client.put(f"{ADMIN}/test-physio/templates/confirmed/email/en", headers={**auth, "If-Match": etag},
                           json={"subject": "See you, {{ customer.name }}"})

    assert put.status_code == 200, put.text
    assert put.json()["parts"]["subject"] == {"source": "See you, {{ customer.name }}", "origin": "site",
                                              "name": "confirmed.en.subject.txt"}
    assert put.json()["parts"]["text"]["origin"] == "default"
    assert put.headers["etag"] != etag
    stale = await client.put(f"{ADMIN}/test-physio/templates/confirmed/email/en",
                             headers={**auth, "If-Match": etag}, json={"subject": "Other"})
    assert stale.status_code == 412

    # The site document holds it, as a site file would, and applying that document changes nothing.
    document = await client.get(f"{ADMIN}/test-physio/", headers=auth)
    assert document.json()["templates"]["email"] == {"confirmed.en.subject.txt": "See you, {{ customer.name }}"}
    back = await client.put(f"{ADMIN}/test-physio/", headers={**auth, "If-Match": document.headers["etag"]},
                            json=document.json())
    assert back.status_code == 200 and back.json()["changed"] is False
    toml = await client.get(f"{ADMIN}/test-physio/", headers={**auth, "Accept": "application/toml"})
    assert '"confirmed.en.subject.txt" = "See you, {{ customer.name }}"' in toml.text

    booked = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00", "locale": "en",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    assert booked.status_code == 201, booked.text
    row = await OutboxMessage.select().where(OutboxMessage.event == "confirmed").first().output(load_json=True)
    assert email_from_json(row["content"]).subject == "See you, Erika"

    # DELETE returns to the default; the document has no templates left.
    removed = await client.delete(f"{ADMIN}/test-physio/templates/confirmed/email/en",
                                  headers={**auth, "If-Match": put.headers["etag"]})
    assert removed.status_code == 204, removed.text
    listing = (await client.get(f"{ADMIN}/test-physio/templates", headers=auth)).json()["data"]
    entry = next(t for t in listing if (t["event"], t["channel"], t["locale"]) == ("confirmed", "email", "en"))
    assert entry["parts"]["subject"]["origin"] == "default"
    assert (await client.get(f"{ADMIN}/test-physio/", headers=auth)).json().get("templates", {"email": {}}) \
        in ({"email": {}, "sms": {}}, {"email": {}})


async def test_a_template_for_any_language_applies_where_a_language_has_none_of_its_own(client, clock):
    auth = await new_key(clock)
    await client.put(f"{ADMIN}/test-physio/templates/reminder/sms/any", headers=auth,
                     json={"body": "Bis gleich / see you: {{ when }}"})
    own = await client.put(f"{ADMIN}/test-physio/templates/reminder/sms/de", headers=auth,
                           json={"body": "Bis gleich: {{ when }}"})
    assert own.status_code == 200, own.text

    listing = (await client.get(f"{ADMIN}/test-physio/templates", headers=auth)).json()["data"]
    origins = {t["locale"]: t["parts"]["body"]["origin"] for t in listing
               if (t["event"], t["channel"]) == ("reminder", "sms")}
    assert origins == {"en": "site-any-language", "de": "site"}
    document = (await client.get(f"{ADMIN}/test-physio/", headers=auth)).json()
    assert document["templates"]["sms"] == {"reminder": "Bis gleich / see you: {{ when }}",
                                            "reminder.de": "Bis gleich: {{ when }}"}


async def test_a_preview_renders_against_a_real_booking_or_a_sample_and_reports_errors_with_their_line(
        client, clock):
    auth = await new_key(clock)
    booking = await book(client, auth, name="<b>Erika</b>")

    real = await client.post(f"{ADMIN}/test-physio/templates/preview", headers=auth, json={
        "event": "confirmed", "channel": "email", "booking_id": booking,
        "source": {"html": "<p>Hi {{ customer.name }}, {{ custom.room }}</p>"}, "variables": {"room": "R<1>"}})
    assert real.status_code == 200, real.text
    assert real.json()["html"] == "<p>Hi &lt;b&gt;Erika&lt;/b&gt;, R&lt;1&gt;</p>"
    assert real.json()["subject"]  # the default subject, rendered for the same booking
    assert "Quick check" in real.json()["text"]

    sample = await client.post(f"{ADMIN}/test-physio/templates/preview", headers=auth, json={
        "event": "reminder", "channel": "sms", "locale": "de"})
    assert sample.status_code == 200, sample.text
    assert "Test Physio" in sample.json()["body"] and sample.json()["segments"] >= 1
    # The sample is made for the site's first service, price included, as a real booking would be.
    priced = await client.post(f"{ADMIN}/test-physio/templates/preview", headers=auth, json={
        "event": "confirmed", "channel": "email", "source": {"text": "{{ service.name }}: {{ booking.price }}"}})
    assert priced.status_code == 200, priced.text
    assert priced.json()["text"] == "Quick check: €25.00"

    broken = await client.post(f"{ADMIN}/test-physio/templates/preview", headers=auth, json={
        "event": "confirmed", "channel": "email", "source": {"text": "Hello\n\n{{ custmer.name }}"}})
    assert broken.status_code == 422, broken.text
    [error] = broken.json()["errors"]
    assert (error["name"], error["code"]) == ("source.text", "template-invalid")
    assert "line 3" in error["detail"] and "custmer" in error["detail"]
    sandboxed = await client.post(f"{ADMIN}/test-physio/templates/preview", headers=auth, json={
        "event": "confirmed", "channel": "sms", "source": {"body": "{{ place.__class__.__mro__ }}"}})
    assert sandboxed.status_code == 422, sandboxed.text


async def test_template_routes_need_their_scopes_and_another_sites_key_finds_nothing(client, clock):
    reader = await new_key(clock, [Scope.CATALOG_READ])
    bookings_only = await new_key(clock, [Scope.BOOKINGS_READ, Scope.BOOKINGS_WRITE])
    theirs = await new_key(clock, site="other-studio")
    booking = await book(client, await new_key(clock))

    assert (await client.put(f"{ADMIN}/test-physio/templates/confirmed/sms/en", headers=reader,
                             json={"body": "x"})).status_code == 403
    assert (await client.delete(f"{ADMIN}/test-physio/templates/confirmed/sms/en",
                                headers=reader)).status_code == 403
    assert (await client.get(f"{ADMIN}/test-physio/templates", headers=bookings_only)).status_code == 403
    # A preview against a real booking shows its customer: bookings:read is needed as well.
    assert (await client.post(f"{ADMIN}/test-physio/templates/preview", headers=reader, json={
        "event": "confirmed", "channel": "email", "booking_id": booking})).status_code == 403
    assert (await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=reader,
                              json={"text": "Hi"})).status_code == 403
    for method, path, body in [
        ("GET", "templates", None), ("PUT", "templates/confirmed/sms/en", {"body": "x"}),
        ("DELETE", "templates/confirmed/sms/en", None),
        ("POST", "templates/preview", {"event": "confirmed", "channel": "sms"}),
        ("POST", f"bookings/{booking}/messages", {"text": "Hi"}),
    ]:
        response = await client.request(method, f"{ADMIN}/test-physio/{path}", headers=theirs, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert await OutboxMessage.count() == 0


# --- messages to a customer --------------------------------------------------------------------


async def test_a_template_message_with_custom_variables_reaches_the_smtp_peer_escaped(client, clock):
    auth = await new_key(clock)
    await client.put(f"{ADMIN}/test-physio/templates/reminder/email/en", headers=auth, json={
        "subject": "Room {{ custom.room }}",
        "text": "Room: {{ custom.room }} ({{ custom.floor }})\n",
        "html": "<p>Room: {{ custom.room }}</p>"})
    booking = await book(client, auth)

    sent = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={
        "template": {"event": "reminder", "channel": "email"},
        "variables": {"room": "<script>alert(1)</script>\nBcc: x@evil.example", "floor": 2}})

    assert sent.status_code == 202, sent.text
    message = sent.json()
    assert message["id"].startswith("msg_") and message["status"] == "queued"
    assert (message["event"], message["channel"], message["recipient"]) == ("message", "email", "erika@example.com")
    with SmtpServer() as smtp:
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=TwilioTexter(SID, TOKEN),
                              clock=clock, jitter=lambda: 0.0)
        await deliverer.deliver_due()
        [email] = smtp.inbox.wait_for(lambda m: m["To"] == "erika@example.com")
    assert email["Subject"] == "Room <script>alert(1)</script> Bcc: x@evil.example"
    assert email["Bcc"] is None
    html = email.get_body(("html",)).get_content()
    text = email.get_body(("plain",)).get_content()
    assert "<p>Room: &lt;script&gt;alert(1)&lt;/script&gt; Bcc: x@evil.example</p>" in html
    assert "<script>" not in html
    assert "Room: <script>alert(1)</script> Bcc: x@evil.example (2)" in text

    detail = (await client.get(f"{ADMIN}/test-physio/bookings/{booking}", headers=auth)).json()
    [shown] = [m for m in detail["messages"] if m["id"] == message["id"]]
    assert shown["status"] == "sent"
    [entry] = [h for h in detail["history"] if h["kind"] == "message"]
    assert entry["data"] == {"message": message["id"], "channel": "email", "template": "reminder"}
    assert entry["actor"]["kind"] == "api_key" and entry["actor"]["label"] == "Messages"


async def test_ones_own_text_goes_out_by_sms_through_twilio_and_by_email_with_its_lines_kept(client, clock):
    auth = await new_key(clock)
    booking = await book(client, auth, phone="+4915100000009")
    texted = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={
        "text": "Your room moved to 2.14 – see you at nine", "channel": "sms"})
    mailed = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={
        "text": "First line\nsecond <line>\n\nNew paragraph", "subject": "About tomorrow"})
    await client.put(f"{ADMIN}/test-physio/templates/reminder/sms/any", headers=auth,
                     json={"body": "{{ place }}: room {{ custom.room }} at {{ time }}"})
    templated = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={
        "template": {"event": "reminder", "channel": "sms"}, "variables": {"room": "2.14\n{{ place }}"}})
    assert (texted.status_code, mailed.status_code, templated.status_code) == (202, 202, 202), (
        texted.text, mailed.text, templated.text)

    with SmtpServer() as smtp:
        async with FakeTwilio() as twilio:
            texter = TwilioTexter(SID, TOKEN, api_base=twilio.base_url)
            deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=texter, clock=clock,
                                  jitter=lambda: 0.0)
            await deliverer.deliver_due()
            await texter.aclose()
            [email] = smtp.inbox.wait_for(lambda m: m["To"] == "erika@example.com")
            assert sorted((m.to, m.body) for m in twilio.messages) == [
                ("+4915100000009", "Test Physio: room 2.14 {{ place }} at 09:00"),
                ("+4915100000009", "Your room moved to 2.14 - see you at nine")]
    assert email["Subject"] == "About tomorrow"
    plain_text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "First line\nsecond <line>\n\nNew paragraph" in plain_text
    html = email.get_body(("html",)).get_content()
    assert "First line<br>second &lt;line&gt;</p>" in html and ">New paragraph</p>" in html
    # The customer's working manage link, filled in at sending as in every message.
    assert "/manage/" in email.get_body(("plain",)).get_content()


async def test_the_idempotency_key_answers_the_first_message_and_refuses_another_body(client, clock):
    auth = await new_key(clock)
    booking = await book(client, auth)
    path = f"{ADMIN}/test-physio/bookings/{booking}/messages"
    first = await client.post(path, headers={**auth, "Idempotency-Key": "msg-1"}, json={"text": "Hello"})
    again = await client.post(path, headers={**auth, "Idempotency-Key": "msg-1"}, json={"text": "Hello"})
    other = await client.post(path, headers={**auth, "Idempotency-Key": "msg-1"}, json={"text": "Bye"})

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert other.status_code == 422
    assert await OutboxMessage.count().where(OutboxMessage.event == "message") == 1


async def test_a_cancelled_booking_can_still_be_messaged(client, clock):
    auth = await new_key(clock)
    booking = await book(client, auth)
    cancelled = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/cancel", headers=auth,
                                  json={"notify": False})
    assert cancelled.status_code == 200

    sent = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={
        "template": {"event": "cancelled", "channel": "email"}})
    assert sent.status_code == 202, sent.text


async def test_bad_message_requests_are_422_per_field(client, clock):
    auth = await new_key(clock)
    booking = await book(client, auth)
    path = f"{ADMIN}/test-physio/bookings/{booking}/messages"
    cases = [
        ({"template": {"event": "birthday", "channel": "fax"}}, {"template.event", "template.channel"}),
        ({"template": {"event": "reminder"}, "variables": {f"v{i}": "x" for i in range(21)}}, {"variables"}),
        ({"template": {"event": "reminder"}, "variables": {"1st": "x", "ok": "y" * 501}},
         {"variables.1st", "variables.ok"}),
        # A value is text, a number or true/false.
        ({"template": {"event": "reminder"}, "variables": {"list": [1]}}, {"variables.list"}),
        ({"text": "Hi", "variables": {"a": "b"}}, {"variables"}),
        ({"text": ""}, {"text"}),
        ({"text": "Hi", "channel": "sms"}, {"channel"}),  # no phone on this booking
        ({"text": "Hi", "colour": "red"}, {"colour"}),
    ]
    for body, fields in cases:
        response = await client.post(path, headers=auth, json=body)
        assert response.status_code == 422, (body, response.text)
        assert {e["name"] for e in response.json()["errors"]} == fields, (body, response.json())
    assert await OutboxMessage.count().where(OutboxMessage.event == "message") == 0


async def test_odd_bodies_are_refused_with_4xx_never_a_server_error(client, clock):
    auth = {**(await new_key(clock)), "Content-Type": "application/json"}
    booking = await book(client, auth)
    odd = ['{"text": "\\ud800 lone"}', '{"template": {"event": ["confirmed"]}, "variables": {"a": {"b": 1}}}',
           '{"template": "reminder"}', '{"text": 5, "subject": ["x"]}', '[]', '{"channel": {"a": 1}, "text": "x"}',
           '{"event": {}, "channel": [], "locale": ["de"], "source": "x"}',
           '{"event": "confirmed", "channel": "email", "source": {}, "booking_id": 7}',
           '{"event": "confirmed", "channel": "email", "booking_id": "bkg_nope"}',
           '{"event": "confirmed", "channel": "sms", "locale": "any", "variables": []}']
    for raw in odd:
        for path in (f"bookings/{booking}/messages", "templates/preview", "templates/confirmed/email/de"):
            method = "PUT" if path.startswith("templates/confirmed") else "POST"
            response = await client.request(method, f"{ADMIN}/test-physio/{path}", headers=auth,
                                            content=raw.encode())
            assert 400 <= response.status_code < 500, (path, raw, response.status_code, response.text)


async def test_the_customers_manage_page_lists_changes_not_the_messages_sent(client, clock):
    auth = await new_key(clock)
    booked = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    token = booked.json()["manage_url"].rsplit("/", 1)[1]
    booking = "bkg_" + booked.json()["id"].replace("-", "")
    sent = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/messages", headers=auth, json={"text": "Hi"})
    assert sent.status_code == 202, sent.text

    page = await client.get(f"/manage/{token}")
    assert page.status_code == 200
    assert 'data-sw-event="booked"' in page.text and 'data-sw-event="message"' not in page.text
