"""The back office's integrations in Chromium: the demo owner subscribes a local webhook receiver, a customer
books in the widget, and the signed ``booking.created`` arrives (verified with the ``standardwebhooks``
package) and shows in the delivery log; a feed URL is made and read; a calendar is connected and
disconnected. axe-core checks every page; screenshots at 1280 and 390 px, English and German, go to
``SLOTWISE_SCREENSHOTS`` (default /tmp/slotwise-screenshots/back-office)."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks.webhooks import Webhook

from e2e.harness import SITE
from e2e.pages import BookingFrame, HostPage, assert_accessible, open_back_office_page
from e2e.test_back_office import Demo, assert_fits, first_free, post_booking, sign_in
from tests.support.servers import ServerProcess, free_port
from tests.support.webhook_receiver import WebhookReceiver

SHOTS = Path(os.environ.get("SLOTWISE_SCREENSHOTS", "/tmp/slotwise-screenshots/back-office"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``slotwise demo`` then ``slotwise serve`` (with its worker), webhooks to loopback allowed."""
    data_dir = tmp_path_factory.mktemp("back-office-integrations")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SLOTWISE_DATA_DIR": str(data_dir),
           "SLOTWISE_DATABASE_URL": f"sqlite:///{data_dir / 'slotwise.sqlite'}", "SLOTWISE_BASE_URL": base,
           "SLOTWISE_SECRET_KEY": "browser-tests-secret-key-not-for-production-0123456789",
           "SLOTWISE_DEV_OUTBOX": "1", "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "1"}
    ran = subprocess.run([sys.executable, "-m", "slotwise.cli", "demo", "--no-serve"], env=env,
                         capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    owner = re.search(r"Demo owner:\s+(\S+) / (\S+)", ran.stdout)
    assert owner, ran.stdout
    with ServerProcess(env, port=port, log=data_dir / "server.log"):
        yield Demo(base, data_dir / "slotwise.sqlite", owner.group(1), owner.group(2))


class ThreadedReceiver:
    """tests/support/webhook_receiver.py's receiver, on an event loop of its own thread (Playwright here is sync)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.receiver: WebhookReceiver | None = None

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        self.receiver = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self.receiver

    async def _start(self) -> WebhookReceiver:
        return await WebhookReceiver().start()

    def stop(self) -> None:
        """Down: connections are refused (the port stays the receiver's)."""
        assert self.receiver is not None
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self.loop).result(10)

    def start(self) -> None:
        """Up again on the same port, keeping what it received."""
        assert self.receiver is not None
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self.loop).result(10)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def rows(database: Path, sql: str, *args) -> list[dict]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, args)]


def test_the_owner_subscribes_a_local_receiver_books_in_the_widget_and_the_signed_event_arrives(
        browser, page: Page, demo: Demo, axe_source: str):
    threaded = ThreadedReceiver()
    with threaded as receiver:
        sign_in(page, demo)
        open_back_office_page(page, "Integrations", "Webhooks")
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
        assert_accessible(page, axe_source, "webhooks: empty list")

        # A bad URL first: the error is beside the field, nothing is stored.
        form = page.locator("form[action$='/webhooks']")
        form.get_by_label("URL").fill("ftp://nowhere")
        form.get_by_role("button", name="Subscribe").click()
        expect(page.locator("#e-url")).to_be_visible()
        expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
        assert_accessible(page, axe_source, "webhooks: bad URL")
        assert rows(demo.database, "SELECT id FROM webhook_endpoint") == []

        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("Front desk <receiver>")
        page.get_by_role("checkbox", name="booking.rescheduled").uncheck()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Endpoint subscribed")
        secret = page.get_by_role("textbox", name="Signing secret").input_value()
        assert secret.startswith("whsec_")
        page.get_by_role("button", name="Copy").click()
        expect(page.locator(".copied")).to_have_text("Copied")
        assert_accessible(page, axe_source, "webhooks: secret shown once")
        [endpoint] = rows(demo.database, "SELECT public_id, url, events, description, enabled FROM webhook_endpoint")
        assert endpoint["url"] == receiver.url and endpoint["description"] == "Front desk <receiver>"
        assert "booking.created" in endpoint["events"] and "booking.rescheduled" not in endpoint["events"]
        receiver.secrets.append(secret)

        # A customer books in the widget on the demo page.
        customer = browser.new_context(viewport={"width": 900, "height": 900}, locale="en-GB",
                                       timezone_id="Europe/Berlin")
        try:
            shop = customer.new_page()
            host = HostPage(shop).open(f"{demo.base}/demo")
            expect(host.iframes.first).to_be_visible()
            booking = BookingFrame(host.widget())
            booking.choose_service("Folgebehandlung")
            booking.step("resources")
            booking.choose_first_resource_option()
            booking.step("calendar")
            booking.choose_first_free_day()
            booking.choose_first_slot()
            booking.step("details")
            booking.fill_details_and_confirm({"Name": "Hook Tester", "Email": "hook.tester@example.org"})
            expect(booking.step("confirmation").get_by_role("heading", level=2)).to_have_text(
                "Your booking is confirmed")
        finally:
            customer.close()
        [booked] = rows(demo.database, "SELECT uid FROM booking WHERE customer_email = ?", "hook.tester@example.org")

        arrived = wait_for(lambda: [r for r in receiver.received if r.json.get("type") == "booking.created"])
        [event] = arrived
        assert event.verified
        Webhook(secret).verify(event.body, event.headers)  # the package's own check, once more, here
        assert event.json["data"]["id"] == "bkg_" + booked["uid"].replace("-", "")
        assert "hook.tester@example.org" in event.body

        # The delivery log shows it.
        page.goto(f"{demo.base}/admin/sites/{SITE}/webhooks/{endpoint['public_id']}")
        log = page.locator("table.deliveries")
        expect(log).to_contain_text("booking.created")
        expect(log).to_contain_text("succeeded")

        # The receiver goes down, a second booking's delivery fails; back up, "Retry" sends it with the same id.
        threaded.stop()
        post_booking(demo.base, "follow-up", first_free(demo.base, "follow-up"), "Second Booker")
        failed = wait_for(lambda: [d for d in rows(
            demo.database, "SELECT public_id, message_id, status, attempts FROM webhook_delivery "
            "WHERE event_type = 'booking.created'") if d["attempts"] >= 1 and d["status"] != "succeeded"])
        [pending] = failed
        threaded.start()
        page.reload()
        row = page.locator(f"tr:has(form[action$='/deliveries/{pending['public_id']}/retry'])")
        assert_accessible(page, axe_source, "webhooks: a failed delivery")
        row.get_by_role("button", name=re.compile("^Retry")).click()
        expect(page.get_by_role("status").filter(has_text="queued again")).to_be_visible()
        again = wait_for(lambda: [r for r in receiver.received
                                  if r.json.get("type") == "booking.created" and r.id == pending["message_id"]])
        assert again[0].verified and "Second Booker" in again[0].body
        page.reload()
        expect(log.locator("tr.delivery-succeeded")).to_have_count(2)

        # A test ping arrives too.
        page.get_by_role("button", name="Send a test ping").click()
        expect(page.get_by_role("status").filter(has_text="test ping")).to_be_visible()
        wait_for(lambda: [r for r in receiver.received if r.json.get("type") == "webhook.test"])
        page.reload()
        expect(log).to_contain_text("webhook.test")
        assert_accessible(page, axe_source, "webhooks: endpoint and log")

        # Rotate with its confirm step: a new secret, shown once.
        page.get_by_role("link", name="Rotate the secret").click()
        expect(page.get_by_role("heading", name="Make a new signing secret?")).to_be_visible()
        page.get_by_role("button", name="Make a new secret").click()
        rotated = page.get_by_role("textbox", name="Signing secret").input_value()
        assert rotated.startswith("whsec_") and rotated != secret
        page.get_by_role("link", name="Go to the endpoint").click()

        # Disable, then delete with its confirm step.
        page.get_by_role("button", name="Disable").click()
        expect(page.get_by_role("status").filter(has_text="disabled")).to_be_visible()
        assert rows(demo.database, "SELECT enabled FROM webhook_endpoint")[0]["enabled"] in (0, False)
        page.get_by_role("link", name="Delete", exact=True).click()
        expect(page.get_by_role("heading", name="Delete this endpoint?")).to_be_visible()
        assert len(rows(demo.database, "SELECT id FROM webhook_endpoint")) == 1
        page.get_by_role("button", name="Delete the endpoint").click()
        expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
        assert rows(demo.database, "SELECT id FROM webhook_endpoint") == []


def test_the_owner_gets_a_feed_url_and_a_new_one_after_confirming(page: Page, demo: Demo, axe_source: str):
    sign_in(page, demo)
    open_back_office_page(page, "Integrations", "Calendar feeds")
    assert_accessible(page, axe_source, "feeds")
    page.get_by_role("button", name=re.compile("Get the feed URL.*Anna")).click()
    first = page.get_by_role("textbox", name="Feed URL").input_value()
    with urllib.request.urlopen(first, timeout=10) as answer:
        assert answer.status == 200 and b"BEGIN:VCALENDAR" in answer.read()
    assert_accessible(page, axe_source, "feed URL shown once")
    page.get_by_role("link", name="All feeds").click()
    page.get_by_role("button", name=re.compile("Make a new URL.*Anna")).click()
    expect(page.get_by_role("heading", name=re.compile("Make a new URL for"))).to_be_visible()
    assert_accessible(page, axe_source, "feed: confirm a new URL")
    page.get_by_role("button", name="Make a new URL").click()
    second = page.get_by_role("textbox", name="Feed URL").input_value()
    assert second != first
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(first, timeout=10)
    assert gone.value.code == 404
    assert len(rows(demo.database, "SELECT id FROM feed")) == 1


def test_the_owner_connects_a_calendar_and_disconnects_it(page: Page, demo: Demo, axe_source: str):
    sign_in(page, demo)
    open_back_office_page(page, "Integrations", "Connected calendars")
    assert_accessible(page, axe_source, "calendars: none")
    page.get_by_role("textbox", name="URL").fill("not a url")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#e-url")).to_be_visible()
    assert_accessible(page, axe_source, "calendars: bad URL")
    page.get_by_role("textbox", name="URL").fill("https://calendar.example.com/anna/busy.ics")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="connected")).to_be_visible()
    [connection] = rows(demo.database, "SELECT public_id, kind, url FROM calendar_connection")
    assert connection["kind"] == "ics"
    expect(page.locator("ul.calendars")).to_contain_text("calendar.example.com")
    assert_accessible(page, axe_source, "calendars: one connected")
    page.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Disconnect this calendar?")).to_be_visible()
    assert_accessible(page, axe_source, "calendars: confirm disconnect")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status").filter(has_text="disconnected")).to_be_visible()
    assert rows(demo.database, "SELECT id FROM calendar_connection") == []


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_integration_pages(new_context, demo: Demo, axe_source: str, locale: str, width: int):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo)
    base = f"{demo.base}/admin/sites/{SITE}"
    page.goto(f"{base}/webhooks")
    form = page.locator("form[action$='/webhooks']")
    form.locator("input[name=url]").fill(f"https://hooks.example.com/{lang}-{width}/a-rather-long-path/to-wrap")
    form.locator("input[name=description]").fill("Praxis-Software <b>")
    form.locator("button[type=submit]").click()
    expect(page.locator("#secret")).to_be_visible()
    assert_accessible(page, axe_source, f"secret {lang} {width}")
    page.screenshot(path=SHOTS / f"webhook-secret-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.goto(f"{base}/webhooks")
    assert_accessible(page, axe_source, f"webhooks {lang} {width}")
    page.screenshot(path=SHOTS / f"webhooks-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.locator("table.endpoints a").last.click()
    expect(page.locator("table.deliveries, .card p").first).to_be_visible()
    assert_accessible(page, axe_source, f"webhook {lang} {width}")
    page.screenshot(path=SHOTS / f"webhook-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.goto(f"{base}/feeds")
    assert_accessible(page, axe_source, f"feeds {lang} {width}")
    page.screenshot(path=SHOTS / f"feeds-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.goto(f"{base}/calendars")
    assert_accessible(page, axe_source, f"calendars {lang} {width}")
    page.screenshot(path=SHOTS / f"calendars-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)


def test_with_write_back_on_a_booking_appears_in_the_staff_members_caldav_calendar(
        page: Page, demo: Demo, axe_source: str, tmp_path: Path):
    """Issue 12's done-when: Radicale (from PyPI) as the staff member's CalDAV server, connected in the
    back office with write-back; a booking of hers is written into it by the server's own worker."""
    from tests.support.calendar_peers import RadicaleServer

    with RadicaleServer(tmp_path) as radicale:
        sign_in(page, demo)
        open_back_office_page(page, "Integrations", "Connected calendars")
        page.get_by_label("Resource", exact=True).select_option("anna")
        page.get_by_role("button", name="Show").click()
        page.get_by_label("CalDAV calendar").check()
        page.get_by_role("textbox", name="URL").fill(radicale.calendar_url)
        page.get_by_label("Username (CalDAV)").fill(radicale.USER)
        page.get_by_label("Password (CalDAV)").fill(radicale.PASSWORD)
        page.get_by_label("Write this resource's bookings into the calendar (CalDAV)").check()
        page.get_by_role("button", name="Connect", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="connected")).to_be_visible()
        assert_accessible(page, axe_source, "calendars: CalDAV with write-back")
        [connection] = rows(demo.database, "SELECT kind, write_bookings, password_encrypted FROM calendar_connection")
        assert connection["kind"] == "caldav" and connection["write_bookings"] in (1, True)
        assert radicale.PASSWORD not in str(connection["password_encrypted"])  # sealed at rest

        # A customer books Anna (through the API, as the widget does).
        start = first_free(demo.base, "follow-up", resource="anna")
        booked = post_booking(demo.base, "follow-up", start, "Radicale Kundin", email="radicale.kundin@example.org",
                              resource="anna")
        uid = f"{booked['id']}@slotwise"

        # The worker writes it into her calendar: one event, the booking's UID (as in the emailed .ics).
        [event] = wait_for(lambda: [e for e in radicale.events() if uid in e])
        assert f"UID:{uid}" in event.replace("\r\n ", "") and "Radicale Kundin" in event

        # Disconnected again, for the module's other tests.
        page.reload()
        page.get_by_role("link", name="Disconnect").click()
        page.get_by_role("button", name="Disconnect").click()
        expect(page.get_by_role("status").filter(has_text="disconnected")).to_be_visible()
