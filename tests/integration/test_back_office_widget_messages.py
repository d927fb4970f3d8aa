"""The back office's widget page (snippet, preview, allowed origins) and messages pages (templates, preview,
test to oneself, delivery log and retry) over HTTP: who may do what, bad input inline, never a 500."""

from __future__ import annotations

import re
from html import unescape

import pytest
from slotwise.domain.access import Role
from slotwise.persistence.tables import AuditEntry, OutboxMessage, Site as SiteTable

from tests.integration.test_back_office import book, member, signed_in, sites  # noqa: F401  (the autouse fixture)

WIDGET = "/admin/sites/test-physio/widget"
MESSAGES = "/admin/sites/test-physio/messages"
LOG = "/admin/sites/test-physio/messages/log"


def etag_of(html: str) -> str:
    found = re.search(r'name="etag" value="([^"]*)"', html)
    assert found, html[:500]
    return unescape(found.group(1))


async def origins_of(slug: str = "test-physio") -> list[str]:
    return (await SiteTable.select(SiteTable.allowed_origins).where(SiteTable.slug == slug).first()
            .output(load_json=True))["allowed_origins"]


# --- the widget ---------------------------------------------------------------------------------


async def test_the_snippet_carries_the_chosen_options_and_the_preview_frames_our_booking_page(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    page = await client.get(WIDGET, params={"service": "quick", "lang": "de", "accent": "#AA3300"})
    assert page.status_code == 200
    text = unescape(page.text)
    assert (f'<script async src="{settings.base_url.rstrip("/")}/widget.js" data-site="test-physio" '
            'data-service="quick" data-locale="de" data-accent="#aa3300"></script>') in text
    assert 'src="/book/test-physio?embed=1&service=quick&locale=de&accent=aa3300"' in text
    assert f'<a href="{settings.base_url.rstrip("/")}/book/test-physio">Termin buchen</a></noscript>' in text
    # The booking page lets our own origin frame it (the preview); the back office allows framing 'self'.
    framed = await client.get("/book/test-physio?embed=1&service=quick")
    assert settings.base_url.rstrip("/") in framed.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_the_snippet_fragment_leaves_out_what_does_not_exist(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    fragment = await client.get(WIDGET, params={"service": "<nope>", "resource": "x", "accent": "red"},
                                headers={"HX-Request": "true", "HX-Target": "snippet"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="snippet"')
    assert "data-service" not in fragment.text and "data-accent" not in fragment.text
    assert "<nope>" not in fragment.text


async def test_an_owner_saves_origins_normalised_and_audited(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    page = await client.get(WIDGET)
    saved = await client.post(f"{WIDGET}/origins", data={
        "csrf": token, "etag": etag_of(page.text),
        "origins": "HTTPS://Shop.Example.COM:443/\n\nhttp://localhost:8000\nhttps://shop.example.com"})
    assert saved.status_code == 303
    assert await origins_of() == ["https://shop.example.com", "http://localhost:8000"]
    entries = await AuditEntry.select(AuditEntry.actor_kind, AuditEntry.via).where(AuditEntry.actor_kind == "account")
    assert entries and all(e["via"] == "site-document" for e in entries)
    # The booking page now lets the new origin frame it.
    framed = await client.get("/book/test-physio?embed=1")
    assert "https://shop.example.com" in framed.headers["content-security-policy"]


async def test_a_bad_origin_is_named_on_its_line_and_nothing_changes(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    before = await origins_of()
    page = await client.get(WIDGET)
    refused = await client.post(f"{WIDGET}/origins", data={
        "csrf": token, "etag": etag_of(page.text), "origins": "https://ok.example\nhttps://x.example/path"})
    assert refused.status_code == 422
    assert "Line 2" in refused.text and "has a path" in unescape(refused.text)
    assert "https://x.example/path" in refused.text  # the typed text stays to be corrected
    assert await origins_of() == before


async def test_a_stale_origins_form_is_a_412_not_an_overwrite(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    page = await client.get(WIDGET)
    await client.post(f"{WIDGET}/origins", data={"csrf": token, "etag": etag_of(page.text),
                                                  "origins": "https://a.example"})
    stale = await client.post(f"{WIDGET}/origins", data={"csrf": token, "etag": etag_of(page.text),
                                                          "origins": "https://b.example"})
    assert stale.status_code == 412
    assert await origins_of() == ["https://a.example"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
async def test_who_may_not_write_the_site_gets_403_on_origins(client, settings, clock, role):
    await member(settings, clock, "someone@example.com", role=role)
    token = await signed_in(client, "someone@example.com")
    before = await origins_of()
    page = await client.get(WIDGET)
    assert page.status_code == 200
    answer = await client.post(f"{WIDGET}/origins", data={"csrf": token, "origins": "https://a.example"})
    if role is Role.MANAGER:
        assert answer.status_code == 303
    else:
        assert answer.status_code == 403 and 'name="origins"' not in page.text
        assert await origins_of() == before


async def test_another_sites_widget_and_messages_pages_are_404(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    before = await origins_of("other-studio")
    for url in ("/admin/sites/other-studio/widget", "/admin/sites/other-studio/messages",
                "/admin/sites/other-studio/messages/log"):
        assert (await client.get(url)).status_code == 404
    answer = await client.post("/admin/sites/other-studio/widget/origins",
                               data={"csrf": token, "origins": "https://a.example"})
    assert answer.status_code == 404
    assert await origins_of("other-studio") == before


# --- templates ------------------------------------------------------------------------------------


async def test_the_editor_shows_the_default_marked_with_its_variables_and_a_preview(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    page = await client.get(MESSAGES, params={"event": "confirmed", "channel": "email", "template_lang": "de"})
    assert page.status_code == 200
    assert "Default template" in page.text
    assert "customer.name" in page.text and "Alex Sample" in page.text


async def test_the_live_preview_renders_the_typed_source_escaped_or_names_the_part_and_line(
        client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    base = {"event": "confirmed", "channel": "email", "template_lang": "en", "subject": "Hi {{ customer.name }}"}
    good = await client.post(f"{MESSAGES}/preview", headers={"X-CSRF-Token": token, "HX-Request": "true"},
                             data={**base, "text": "Dear {{ customer.name }}\n<b>{{ site.name }}</b>"})
    assert good.status_code == 200 and "Hi Alex Sample" in good.text
    assert "&lt;b&gt;Test Physio&lt;/b&gt;" in good.text  # the text part shown as text, never as markup
    bad = await client.post(f"{MESSAGES}/preview", headers={"X-CSRF-Token": token, "HX-Request": "true"},
                            data={**base, "text": "line one\n{% if %}"})
    assert bad.status_code == 200 and "<strong>text</strong>" in bad.text and "line 2" in bad.text


async def test_save_then_reset_a_confirmation_template(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    which = {"event": "confirmed", "channel": "email", "template_lang": "en"}
    page = await client.get(MESSAGES, params=which)
    saved = await client.post(f"{MESSAGES}/save", data={
        **which, "csrf": token, "etag": etag_of(page.text), "action": "save",
        "subject": "Booked: {{ service.name }}", "text": "See you, {{ customer.name }}!"})
    assert saved.status_code == 303 and "notice=saved" in saved.headers["location"]
    after = await client.get(MESSAGES, params=which)
    assert "Your own template" in after.text and "See you, Alex Sample!" in after.text
    stored = (await SiteTable.select(SiteTable.message_templates).where(SiteTable.slug == "test-physio").first()
              .output(load_json=True))["message_templates"]
    assert stored["email"]["confirmed.en.txt"] == "See you, {{ customer.name }}!"
    reset = await client.post(f"{MESSAGES}/save", data={**which, "csrf": token, "etag": etag_of(after.text),
                                                         "action": "reset"})
    assert reset.status_code == 303
    assert "Default template" in (await client.get(MESSAGES, params=which)).text


async def test_an_invalid_template_is_not_saved_and_the_error_stands_by_its_part(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    which = {"event": "confirmed", "channel": "sms", "template_lang": "de"}
    page = await client.get(MESSAGES, params=which)
    refused = await client.post(f"{MESSAGES}/save", data={**which, "csrf": token, "etag": etag_of(page.text),
                                                           "action": "save", "body": "Hallo\n{{ customer.name"})
    assert refused.status_code == 422
    assert 'id="err-body"' in refused.text and "line 2" in refused.text
    assert "{{ customer.name" in refused.text
    assert "Default template" in (await client.get(MESSAGES, params=which)).text


async def test_a_stale_template_form_is_a_412(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    which = {"event": "reminder", "channel": "email", "template_lang": "en"}
    page = await client.get(MESSAGES, params=which)
    first = {**which, "csrf": token, "etag": etag_of(page.text), "action": "save", "text": "One"}
    assert (await client.post(f"{MESSAGES}/save", data=first)).status_code == 303
    again = await client.post(f"{MESSAGES}/save", data={**first, "text": "Two"})
    assert again.status_code == 412


@pytest.mark.parametrize("role", [Role.VIEWER, Role.STAFF])
async def test_viewers_and_staff_read_templates_but_may_not_change_or_test_them(client, settings, clock, role):
    await member(settings, clock, "someone@example.com", role=role, resource="anna" if role is Role.STAFF else None)
    token = await signed_in(client, "someone@example.com")
    page = await client.get(MESSAGES)
    assert page.status_code == 200 and "Send a test to me" not in page.text
    for action in ("save", "test", "reset"):
        answer = await client.post(f"{MESSAGES}/save", data={
            "csrf": token, "event": "confirmed", "channel": "email", "template_lang": "en", "action": action,
            "text": "x"})
        assert answer.status_code == 403
    assert await OutboxMessage.count() == 0


async def test_send_a_test_goes_to_the_signed_in_person_through_the_outbox(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    await book(client)  # a customer exists; the test must not go to them
    before = await OutboxMessage.count()
    page = await client.get(MESSAGES)
    sent = await client.post(f"{MESSAGES}/save", data={
        "csrf": token, "etag": etag_of(page.text), "event": "confirmed", "channel": "email", "template_lang": "en",
        "action": "test", "subject": "Trial {{ customer.name }}"})
    assert sent.status_code == 303 and "notice=test-sent" in sent.headers["location"]
    rows = await OutboxMessage.select().where(OutboxMessage.event == "test").output(load_json=True)
    assert len(rows) == 1 and await OutboxMessage.count() == before + 1
    assert rows[0]["recipient"] == "owner@example.com" and rows[0]["booking"] is None
    assert rows[0]["content"]["subject"] == "[Test] Trial Alex Sample"


# --- the delivery log --------------------------------------------------------------------------------


async def test_the_log_filters_and_a_failed_message_is_retried_once(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    await book(client)
    rows = await OutboxMessage.select(OutboxMessage.uid, OutboxMessage.channel).where(
        OutboxMessage.event == "confirmed")
    uid = rows[0]["uid"]
    await OutboxMessage.update({OutboxMessage.status: "failed", OutboxMessage.last_error: "550 <no such user>"}
                               ).where(OutboxMessage.uid == uid)
    failed = await client.get(LOG, params={"status": "failed"})
    assert failed.status_code == 200 and f"message-{uid}" in failed.text
    assert "550 &lt;no such user&gt;" in failed.text
    assert f"message-{uid}" not in (await client.get(LOG, params={"status": "sent"})).text
    assert f"message-{uid}" not in (await client.get(LOG, params={"channel": "sms"})).text
    retried = await client.post(f"{LOG}/{uid}/retry", data={"csrf": token})
    assert retried.status_code == 303 and retried.headers["location"].endswith("notice=retried")
    row = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.next_attempt_at).where(
        OutboxMessage.uid == uid).first()
    assert row["status"] == "queued" and row["next_attempt_at"] <= clock()
    again = await client.post(f"{LOG}/{uid}/retry", data={"csrf": token})
    assert again.headers["location"].endswith("notice=not-failed")


async def test_the_log_pages_back_through_older_messages_keeping_its_filters(client, settings, clock, monkeypatch):
    from slotwise.services import message_log

    monkeypatch.setattr(message_log, "LOG_LIMIT", 2)
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    for hour in ("09", "10", "11"):
        await book(client, start=f"2026-11-24T{hour}:00:00+01:00", name=f"Kunde {hour}")
    emails = [str(row["uid"]) for row in await OutboxMessage.select(OutboxMessage.uid).where(
        OutboxMessage.channel == "email").order_by(OutboxMessage.id, ascending=False)]
    assert len(emails) >= 3
    seen: list[str] = []
    page = await client.get(LOG, params={"channel": "email"})
    while True:
        assert page.status_code == 200, page.text
        seen += re.findall(r'data-testid="message-([0-9a-f-]+)"', page.text)
        older = re.search(r'<a href="([^"]+)" rel="next">Older messages</a>', page.text)
        if not older:
            break
        assert "channel=email" in unescape(older.group(1))
        page = await client.get(unescape(older.group(1)))
        assert "Newest messages" in page.text
    assert seen == emails  # every email once, newest first, no SMS
    # An edited page link shows the newest page, not an error.
    edited = await client.get(LOG, params={"channel": "email", "cursor": "not-a-cursor"})
    assert edited.status_code == 200 and re.findall(r'data-testid="message-([0-9a-f-]+)"', edited.text) == emails[:2]


async def test_bad_log_filters_are_inline_errors_not_a_500(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    answer = await client.get(LOG, params={"status": "lost", "from": "yesterday"})
    assert answer.status_code == 422
    assert 'id="e-status"' in answer.text and 'id="e-from"' in answer.text


async def test_staff_do_not_see_the_sites_delivery_log_and_viewers_cannot_retry(client, settings, clock):
    await member(settings, clock, "staff@example.com", role=Role.STAFF, resource="anna")
    await member(settings, clock, "viewer@example.com", role=Role.VIEWER)
    await signed_in(client, "staff@example.com")
    assert (await client.get(LOG)).status_code == 403
    token = await signed_in(client, "viewer@example.com")
    await book(client)
    uid = (await OutboxMessage.select(OutboxMessage.uid).first())["uid"]
    await OutboxMessage.update({OutboxMessage.status: "failed"}).where(OutboxMessage.uid == uid)
    page = await client.get(LOG)
    assert page.status_code == 200 and ">Retry<" not in page.text
    assert (await client.post(f"{LOG}/{uid}/retry", data={"csrf": token})).status_code == 403
    assert (await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.uid == uid).first())["status"] \
        == "failed"


async def test_retrying_another_sites_or_a_made_up_message_is_404(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    await book(client, site="other-studio")
    uid = (await OutboxMessage.select(OutboxMessage.uid).first())["uid"]
    await OutboxMessage.update({OutboxMessage.status: "failed"}).where(OutboxMessage.uid == uid)
    assert (await client.post(f"{LOG}/{uid}/retry", data={"csrf": token})).status_code == 404
    assert (await client.post(f"{LOG}/not-a-uuid/retry", data={"csrf": token})).status_code == 404
    assert (await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.uid == uid).first())["status"] \
        == "failed"


# --- through the worker to a real SMTP peer -------------------------------------------------------


async def test_a_retried_message_and_a_test_to_me_are_delivered_by_the_worker(client, settings, clock):
    from slotwise.adapters.smtp import SmtpMailer
    from slotwise.adapters.twilio_sms import TwilioTexter
    from slotwise.services.delivery import Deliverer

    from tests.support.config import SECRET_KEY
    from tests.support.smtp import SmtpServer

    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    await book(client, name="Erika Muster")
    [row] = await OutboxMessage.select(OutboxMessage.uid, OutboxMessage.content).where(
        (OutboxMessage.event == "confirmed") & (OutboxMessage.channel == "email")).output(load_json=True)
    uid = row["uid"]
    await OutboxMessage.update({OutboxMessage.status: "failed", OutboxMessage.last_error: "550 mailbox full"}
                               ).where(OutboxMessage.uid == uid)
    assert (await client.post(f"{LOG}/{uid}/retry", data={"csrf": token})).status_code == 303
    page = await client.get(MESSAGES)
    await client.post(f"{MESSAGES}/save", data={
        "csrf": token, "etag": etag_of(page.text), "event": "confirmed", "channel": "email", "template_lang": "en",
        "action": "test"})
    with SmtpServer() as smtp:
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=TwilioTexter("AC" + "1" * 32, "t"),
                              clock=clock, jitter=lambda: 0.0)
        await deliverer.deliver_due()
        [again] = smtp.inbox.wait_for(lambda m: m["To"] == "erika.muster@example.com")
        [test] = smtp.inbox.wait_for(lambda m: m["To"] == "owner@example.com")
    assert again["Message-ID"] == row["content"]["message_id"]  # the same message, not a copy
    assert test["Subject"].startswith("[Test] ") and "Alex Sample" in test.get_body(("plain",)).get_content()
    assert "placeholder" not in test.get_body(("plain",)).get_content()
    status = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.uid == uid).first()
    assert status["status"] == "sent"


async def test_a_test_of_an_sms_template_is_refused_inline_not_a_500(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    which = {"event": "confirmed", "channel": "sms", "template_lang": "en"}
    page = await client.get(MESSAGES, params=which)
    assert "Send a test to me" not in page.text
    answer = await client.post(f"{MESSAGES}/save", data={**which, "csrf": token, "etag": etag_of(page.text),
                                                          "action": "test", "body": "Hi"})
    assert answer.status_code == 422
    assert await OutboxMessage.count() == 0


async def test_the_editor_opens_on_the_set_in_the_pages_language(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    chosen = re.compile(r'<option value="(\w+)" selected>(?:English|Deutsch)</option>')
    german = await client.get(MESSAGES, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code == 200 and chosen.findall(german.text) == ["de"]
    assert "Guten Tag Alex Sample" in german.text
    english = await client.get(MESSAGES, headers={"Accept-Language": "en-GB"})
    assert chosen.findall(english.text) == ["en"] and "Hello Alex Sample" in english.text
    named = await client.get(MESSAGES, params={"template_lang": "en"}, headers={"Accept-Language": "de"})
    assert chosen.findall(named.text) == ["en"]  # a set named in the address wins
