"""The back office in Chromium: the demo owner signs in, finds the demo's bookings, opens one by keyboard
and cancels it with the confirm step. axe-core checks every page; screenshots at 1280 and 390 px, in
English and German, go to ``SLOTWISE_SCREENSHOTS`` (default /tmp/slotwise-screenshots/back-office)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import SITE
from e2e.pages import assert_accessible, back_office_nav, sign_out
from tests.support.servers import ServerProcess, free_port

SHOTS = Path(os.environ.get("SLOTWISE_SCREENSHOTS", "/tmp/slotwise-screenshots/back-office"))


@dataclass(frozen=True)
class Demo:
    base: str
    database: Path
    email: str
    password: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``slotwise demo`` (owner, password, this week's bookings), then ``slotwise serve`` on its database."""
    data_dir = tmp_path_factory.mktemp("back-office")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SLOTWISE_DATA_DIR": str(data_dir),
           "SLOTWISE_DATABASE_URL": f"sqlite:///{data_dir / 'slotwise.sqlite'}", "SLOTWISE_BASE_URL": base,
           "SLOTWISE_SECRET_KEY": "browser-tests-secret-key-not-for-production-0123456789",
           "SLOTWISE_DEV_OUTBOX": "1"}
    ran = subprocess.run([sys.executable, "-m", "slotwise.cli", "demo", "--no-serve"], env=env,
                         capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert f"{base}/admin" in ran.stdout
    owner = re.search(r"Demo owner:\s+(\S+) / (\S+)", ran.stdout)
    assert owner, ran.stdout
    with ServerProcess(env, port=port, log=data_dir / "server.log"):
        yield Demo(base, data_dir / "slotwise.sqlite", owner.group(1), owner.group(2))


def sign_in(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/admin")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label(re.compile("Email|E-Mail")).fill(demo.email)
    page.get_by_label(re.compile("^(Password|Passwort)$")).fill(demo.password)
    page.get_by_label(re.compile("^(Password|Passwort)$")).press("Enter")
    expect(page).to_have_url(re.compile(rf"/admin/sites/{SITE}"))


def to_a_day_with_bookings(page: Page) -> None:
    """From today, → until a day shows bookings (the demo books the coming days)."""
    for _ in range(8):
        if page.locator("a.b-link").count():
            return
        page.locator("body").press("ArrowRight")
        page.wait_for_load_state()
    raise AssertionError("no demo bookings in the coming week")


def booking_row(database: Path, uid_hex: str) -> dict:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT id, uid, status, cancel_reason FROM booking")]
        [row] = [r for r in rows if r["uid"].replace("-", "") == uid_hex]
        history = db.execute("SELECT kind, actor_kind FROM booking_event WHERE booking = ?",
                             (row["id"],)).fetchall()
    return {**row, "history": [tuple(h) for h in history]}


def test_the_owner_signs_in_opens_a_booking_by_keyboard_and_cancels_it(page: Page, demo: Demo, axe_source: str):
    page.goto(f"{demo.base}/admin/login")
    assert_accessible(page, axe_source, "sign-in")
    sign_in(page, demo)
    to_a_day_with_bookings(page)
    assert_accessible(page, axe_source, "day view")
    columns = page.locator(".col-head[id^=col-]")
    expect(columns).to_have_count(5)  # anna, ben, room-1, room-2, studio

    # ↓ focuses the first booking, Enter opens its panel (htmx) and the address follows it.
    page.locator("body").press("ArrowDown")
    focused = page.locator("a.b-link:focus")
    expect(focused).to_have_count(1)
    customer = focused.inner_text().split(",")[0].strip()
    focused.press("Enter")
    expect(page).to_have_url(re.compile(r"/bookings/bkg_[0-9a-f]{32}$"))
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(customer)
    expect(page.locator("#panel-title")).to_be_focused()
    expect(panel.locator("a[href^='mailto:']")).to_have_count(1)
    assert_accessible(page, axe_source, "booking panel")
    uid_hex = page.url.rsplit("bkg_", 1)[1]

    # Cancel: a reason, no message to the customer, then the confirm step.
    cancel = panel.get_by_role("link", name="Cancel booking")
    cancel.focus()
    cancel.press("Enter")
    expect(panel.get_by_role("heading", name="Cancel this booking")).to_be_focused()
    assert_accessible(page, axe_source, "cancel form")
    panel.get_by_label("Reason").fill("Therapist <b>ill</b>")
    panel.get_by_label("Tell the customer").uncheck()
    panel.get_by_role("button", name="Continue").press("Enter")
    expect(panel.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    expect(panel).to_contain_text("Therapist <b>ill</b>")
    expect(panel).to_contain_text("The customer will not be told.")
    assert booking_row(demo.database, uid_hex)["status"] == "confirmed"  # nothing happened before confirming
    assert_accessible(page, axe_source, "cancel confirmation")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "cancel-confirm-en-1024.png", full_page=True)
    panel.get_by_role("button", name="Yes, cancel it").press("Enter")
    expect(page.locator("#panel")).to_contain_text("The booking has been cancelled.")
    assert_accessible(page, axe_source, "cancelled")

    row = booking_row(demo.database, uid_hex)
    assert row["status"] == "cancelled" and row["cancel_reason"] == "Therapist <b>ill</b>"
    assert ("cancelled", "account") in row["history"]


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_screenshots_of_each_page(new_context, demo: Demo, axe_source: str, locale: str, width: int):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{demo.base}/admin/login")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.screenshot(path=SHOTS / f"login-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    sign_in(page, demo)
    to_a_day_with_bookings(page)
    assert_accessible(page, axe_source, f"day view {lang} {width}")
    page.screenshot(path=SHOTS / f"day-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    first = page.locator("a.b-link").first
    page.goto(demo.base + first.get_attribute("href"))
    expect(page.locator("#panel-title")).to_be_visible()
    assert_accessible(page, axe_source, f"panel {lang} {width}")
    page.screenshot(path=SHOTS / f"panel-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    nav = back_office_nav(page)
    if width < 1120:  # the groups fold into the menu: every page one tap away, axe-clean while open
        assert_accessible(page, axe_source, f"menu {lang} {width}")
        page.screenshot(path=SHOTS / f"menu-{lang}-{width}.png")
    nav.get_by_role("link", name=re.compile("^(Bookings|Buchungen)$")).click()
    expect(page.locator("table.bookings tbody tr").first).to_be_visible()
    assert_accessible(page, axe_source, f"list {lang} {width}")
    page.screenshot(path=SHOTS / f"list-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.get_by_role("navigation", name=re.compile("^(Bookings|Buchungen)$")).get_by_role(
        "link", name=re.compile("^(Week|Woche)$")).click()
    expect(page.locator(".col-head[id^=col-]")).to_have_count(7)
    assert_accessible(page, axe_source, f"week {lang} {width}")
    page.screenshot(path=SHOTS / f"week-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    back_office_nav(page).get_by_role("link", name=re.compile("^(Catalog|Angebot)$")).click()
    expect(page.get_by_role("navigation", name=re.compile("^(Catalog|Angebot)$")).locator("[aria-current=page]")).to_have_text(
        re.compile("Services and resources|Leistungen und Ressourcen"))
    page.locator("details.account summary").click()
    expect(page.get_by_role("button", name=re.compile("^(Sign out everywhere|Überall abmelden)$"))).to_be_visible()
    assert_accessible(page, axe_source, f"catalog with the account menu {lang} {width}")
    page.screenshot(path=SHOTS / f"catalog-{lang}-{width}.png")
    assert_fits(page, width)


def test_on_a_phone_the_menu_and_the_account_menu_work_by_keyboard(new_context, demo: Demo, axe_source: str):
    """At 390 px the top bar is one row; the menu opens with Enter, its links follow in Tab order with a
    visible focus, Escape closes it and gives the focus back; the same for the account menu."""
    context = new_context(viewport={"width": 390, "height": 800}, locale="en-GB", timezone_id="Europe/Berlin")
    page = context.new_page()
    sign_in(page, demo)
    bar = page.locator("header.bar").bounding_box()
    assert bar and bar["height"] < 60  # one row: before the grouping the links alone took six
    nav = page.get_by_role("navigation", name="Back office")
    toggle = nav.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Catalog")).to_be_hidden()

    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    day = nav.get_by_role("link", name="Day", exact=True)
    expect(day).to_be_focused()
    expect(day).to_have_attribute("aria-current", "page")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert_accessible(page, axe_source, "menu open, by keyboard")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    # Any page is one tap past the menu: the export, second page of "Bookings".
    page.keyboard.press("Enter")
    nav.get_by_role("link", name="Export", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Export bookings")
    expect(page.get_by_role("navigation", name="Bookings").get_by_role("link", name="Export")).to_have_attribute(
        "aria-current", "page")

    # The account menu: a disclosure after the menu button in Tab order.
    page.get_by_role("navigation", name="Back office").get_by_role("button", name="Menu").focus()
    page.keyboard.press("Tab")
    summary = page.locator("details.account summary")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("details.account")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()


def first_free(base: str, service: str, days_ahead: int = 3, resource: str | None = None) -> str:
    """The first free start of ``service`` (with ``resource``, if named) from ``days_ahead`` days on
    (clear of notice and cut-offs)."""
    first = datetime.now(UTC).date() + timedelta(days=days_ahead)
    query = f"service={service}&start={first}&end={first + timedelta(days=30)}"
    if resource:
        query += f"&resource={resource}"
    with urllib.request.urlopen(f"{base}/api/v1/sites/{SITE}/availability?{query}", timeout=10) as response:
        return json.load(response)["slots"][0]["start"]


def post_booking(base: str, service: str, start: str, name: str, *, email: str = "walk.in@customer.example",
                 resource: str | None = None) -> dict:
    """A booking through the API, as the widget makes it; its answer."""
    payload: dict = {"service": service, "start": start, "customer": {
        "name": name, "email": email, "phone": "+49 40 555 0101"}}
    if resource:
        payload["resource"] = resource
    request = urllib.request.Request(f"{base}/api/v1/sites/{SITE}/bookings", data=json.dumps(payload).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)


def test_a_new_booking_appears_without_a_reload_and_the_owner_moves_it_by_keyboard(
        page: Page, demo: Demo, axe_source: str):
    start = first_free(demo.base, "follow-up")
    day = start[:10]
    page.clock.install()  # htmx's 30-second poll, fast-forwarded below
    sign_in(page, demo)
    page.goto(f"{demo.base}/admin/sites/{SITE}?day={day}")
    name = "Walk-in Kowalski"
    expect(page.get_by_role("link", name=re.compile(name))).to_have_count(0)
    post_booking(demo.base, "follow-up", start, name)
    page.clock.run_for(31_000)
    link = page.get_by_role("link", name=re.compile(name)).first
    expect(link).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?day={day}$"))  # the same page: no reload, no navigation

    link.focus()
    link.press("Enter")
    expect(page.locator("#panel-title")).to_have_text(name)
    uid_hex = page.url.rsplit("bkg_", 1)[1]
    move = page.locator("#panel").get_by_role("link", name="Move", exact=True)
    move.focus()
    move.press("Enter")
    expect(page.get_by_role("heading", name="Move to another time")).to_be_focused()
    assert_accessible(page, axe_source, "move: free times")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "move-times-en-1024.png", full_page=True)
    times = page.locator("#panel .times-list button")
    expect(times.first).to_be_visible()
    times.first.focus()
    page.keyboard.press("Tab")  # the second free time: any other than the booked one
    chosen = page.evaluate("() => document.activeElement.value")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Move this booking?")).to_be_visible()
    assert_accessible(page, axe_source, "move: confirm")
    assert booking_start(demo.database, uid_hex) == datetime.fromisoformat(start).astimezone(UTC)
    page.get_by_role("button", name="Yes, move it").press("Enter")
    expect(page.locator("#panel")).to_contain_text("The booking has been moved.")
    assert booking_start(demo.database, uid_hex) == datetime.fromisoformat(chosen).astimezone(UTC)
    assert ("rescheduled", "account") in booking_row(demo.database, uid_hex)["history"]


def booking_start(database: Path, uid_hex: str) -> datetime:
    with sqlite3.connect(database) as db:
        for uid, start_at in db.execute("SELECT uid, start_at FROM booking"):
            if uid.replace("-", "") == uid_hex:
                return datetime.fromisoformat(start_at.replace(" ", "T")).astimezone(UTC)
    raise AssertionError(uid_hex)


def assert_fits(page: Page, width: int) -> None:
    """Wide grids and tables scroll inside their box; the page itself never scrolls sideways."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, page.url


def test_an_invited_staff_member_sets_a_password_signs_in_sees_their_column_and_signs_out_everywhere(
        browser, page: Page, demo: Demo, axe_source: str):
    env = {**os.environ, "SLOTWISE_DATA_DIR": str(demo.database.parent),
           "SLOTWISE_DATABASE_URL": f"sqlite:///{demo.database}", "SLOTWISE_BASE_URL": demo.base,
           "SLOTWISE_SECRET_KEY": "browser-tests-secret-key-not-for-production-0123456789"}
    added = subprocess.run([sys.executable, "-m", "slotwise.cli", "account", "add", "ben@harbour-physio.example",
                            "--site", SITE, "--role", "staff", "--resource", "ben"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    link = added.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{demo.base}/admin/set-password/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome! Choose your password")
    assert_accessible(page, axe_source, "set password")
    page.get_by_label("New password").fill("ben-password-2026")
    page.get_by_label("The same again").fill("ben-password-2026")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_have_text("Your password is set. Sign in with it.")
    page.get_by_label("Email address").fill("ben@harbour-physio.example")
    page.get_by_label("Password").fill("ben-password-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/admin/sites/{SITE}$"))
    expect(page.locator(".col-head[id^=col-]")).to_have_count(1)
    expect(page.locator("#col-ben")).to_be_visible()

    # A second browser of Ben's; signing out everywhere from the first ends it too.
    other = browser.new_context()
    try:
        second = other.new_page()
        second.goto(f"{demo.base}/admin/login")
        second.get_by_label("Email address").fill("ben@harbour-physio.example")
        second.get_by_label("Password").fill("ben-password-2026")
        second.get_by_role("button", name="Sign in").click()
        expect(second).to_have_url(re.compile(rf"/admin/sites/{SITE}$"))
        sign_out(page, "Sign out everywhere")
        expect(page.get_by_role("status")).to_have_text("You are signed out on every device.")
        second.reload()
        expect(second).to_have_url(re.compile(r"/admin/login\?next="))
    finally:
        other.close()

    page.goto(f"{demo.base}/admin/reset")
    assert_accessible(page, axe_source, "reset")
    page.get_by_label("Email address").fill("ben@harbour-physio.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("If ben@harbour-physio.example belongs to an account")
    with sqlite3.connect(demo.database) as db:
        sent = db.execute("SELECT count(*) FROM outbox_message WHERE event = 'password-reset' AND recipient = ?",
                          ("ben@harbour-physio.example",)).fetchone()[0]
    assert sent == 1
