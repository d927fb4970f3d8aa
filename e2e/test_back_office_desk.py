"""The front desk in Chromium: the demo owner books a caller in (a past customer suggested while typing),
moves the booking with an override, blocks an afternoon and frees it again from the day view. Each step
checks the database; axe-core checks every page; screenshots at 1280 and 390 px in English and German go
to ``SLOTWISE_SCREENSHOTS`` (default /tmp/slotwise-screenshots/back-office)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import SITE
from e2e.pages import assert_accessible, open_back_office_page
from e2e.test_back_office import SHOTS, Demo, assert_fits, demo, first_free, sign_in, to_a_day_with_bookings

DEMO_FIXTURE = demo  # the module-scoped demo server of test_back_office, started again for this module


def rows(database: Path, sql: str, *args: object) -> list[dict]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, args)]


def test_the_owner_books_a_caller_in_and_moves_the_booking_with_an_override(page: Page, demo: Demo,
                                                                            axe_source: str):
    past = rows(demo.database, "SELECT customer_name, customer_email FROM booking ORDER BY id LIMIT 1")[0]
    day = first_free(demo.base, "follow-up", days_ahead=5)[:10]
    sign_in(page, demo)
    page.locator("#book-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book for a caller")
    page.get_by_label("Service").select_option("follow-up")
    page.get_by_label("Date").fill(day)
    page.get_by_role("button", name="Show free times").click()
    page.get_by_label("With").select_option("anna")
    page.get_by_role("button", name="Show free times").click()
    first_time = page.locator(".time-choice input[type=radio]").first
    expect(first_time).to_be_visible()
    start = first_time.get_attribute("value")
    first_time.check()

    # Typing part of a past customer's name offers them; picking one fills the fields.
    page.get_by_label("Name", exact=True).press_sequentially(past["customer_name"][:3], delay=40)
    suggestion = page.locator("button.suggestion", has_text=past["customer_name"]).first
    expect(suggestion).to_be_visible()
    assert_accessible(page, axe_source, "book form with suggestions")
    suggestion.click()
    expect(page.get_by_label("Email")).to_have_value(past["customer_email"])
    page.get_by_label("Send the customer a confirmation").uncheck()
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#panel")).to_contain_text("The booking is made.")
    assert_accessible(page, axe_source, "booked")
    uid_hex = page.url.split("bkg_", 1)[1].split("?", 1)[0]
    [made] = [r for r in rows(demo.database, "SELECT id, uid, start_at, customer_email FROM booking")
              if r["uid"].replace("-", "") == uid_hex]
    assert made["customer_email"] == past["customer_email"]
    history = rows(demo.database, "SELECT kind, actor_kind, data FROM booking_event WHERE booking = ?", made["id"])
    assert [(h["kind"], h["actor_kind"]) for h in history] == [("booked", "account")]
    assert datetime.fromisoformat(made["start_at"]) == datetime.fromisoformat(start)

    # Move with override: the whole day is offered, times outside the rules marked, a warning shown.
    panel = page.locator("#panel")
    panel.get_by_role("link", name="Move").click()
    expect(panel.get_by_role("heading", name="Move to another time")).to_be_visible()
    panel.get_by_role("checkbox", name=re.compile("Override")).check()
    panel.get_by_role("button", name="Show free times").click()
    expect(panel.locator("#override-warning")).to_be_visible()
    outside = panel.locator("button.outside").first
    expect(outside).to_be_visible()
    assert_accessible(page, axe_source, "move with override")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "desk-override-en-1280.png", full_page=True)
    outside.click()
    expect(panel.get_by_role("alert")).to_contain_text("set aside for this move")
    panel.get_by_role("button", name="Yes, move it").click()
    expect(panel).to_contain_text("The booking has been moved.")
    expect(panel.locator(".tag.override")).to_have_text("with override")
    history = rows(demo.database, "SELECT kind, data FROM booking_event WHERE booking = ?", made["id"])
    moved = [json.loads(h["data"]) for h in history if h["kind"] == "rescheduled"]
    assert len(moved) == 1 and moved[0].get("override") is True


def test_the_owner_blocks_an_afternoon_and_frees_it_from_the_day_view(page: Page, demo: Demo, axe_source: str):
    day = (date.today() + timedelta(days=22)).isoformat()
    sign_in(page, demo)
    open_back_office_page(page, "Catalog", "Block time")
    page.get_by_label("Resource").select_option("ben")
    page.get_by_role("button", name="Show").click()
    assert_accessible(page, axe_source, "block time")
    form = page.locator("form.block-form")
    form.get_by_role("group", name="From").get_by_label("Date").fill(day)
    form.get_by_role("group", name="From").get_by_label("Time").fill("13:00")
    form.get_by_role("group", name="Until").get_by_label("Date").fill(day)
    form.get_by_role("group", name="Until").get_by_label("Time").fill("17:00")
    form.get_by_label(re.compile("^Reason")).fill("Team <meeting>")
    form.get_by_role("button", name="Block this time").click()
    expect(page.get_by_role("status")).to_contain_text("The time is blocked.")
    assert_accessible(page, axe_source, "blocked")
    [blocked] = rows(demo.database, "SELECT t.public_id, t.reason, t.actor_kind, r.key FROM time_off t "
                                    "JOIN resource r ON r.id = t.resource WHERE t.reason = ?", "Team <meeting>")
    assert blocked["key"] == "ben" and blocked["actor_kind"] == "account"

    page.goto(f"{demo.base}/admin/sites/{SITE}?day={day}")
    column = page.locator("section.col", has=page.locator("#col-ben"))
    expect(column).to_contain_text("Team <meeting>")
    assert_accessible(page, axe_source, "day with time off")
    page.screenshot(path=SHOTS / "desk-day-time-off-en-1280.png", full_page=True)
    column.get_by_role("link", name=re.compile("^Remove")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Free this time?")
    assert_accessible(page, axe_source, "free confirm")
    assert rows(demo.database, "SELECT id FROM time_off WHERE public_id = ?", blocked["public_id"])
    page.get_by_role("button", name="Yes, free it").click()
    expect(page).to_have_url(re.compile(rf"\?day={day}$"))
    expect(page.locator("section.col", has=page.locator("#col-ben"))).not_to_contain_text("Team <meeting>")
    assert rows(demo.database, "SELECT id FROM time_off WHERE public_id = ?", blocked["public_id"]) == []


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_desk_pages(new_context, demo: Demo, axe_source: str, locale: str, width: int):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo)
    day = first_free(demo.base, "assessment", days_ahead=5)[:10]
    page.goto(f"{demo.base}/admin/sites/{SITE}/book?service=assessment&day={day}")
    expect(page.locator(".time-choice").first).to_be_visible()
    assert_accessible(page, axe_source, f"book {lang} {width}")
    page.screenshot(path=SHOTS / f"desk-book-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.goto(f"{demo.base}/admin/sites/{SITE}/blocks")
    expect(page.locator("form.block-form")).to_be_visible()
    assert_accessible(page, axe_source, f"blocks {lang} {width}")
    page.screenshot(path=SHOTS / f"desk-blocks-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    page.goto(f"{demo.base}/admin/sites/{SITE}")
    to_a_day_with_bookings(page)
    assert_accessible(page, axe_source, f"day with desk buttons {lang} {width}")
    page.screenshot(path=SHOTS / f"desk-day-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    booking = page.locator("a.b-link").first.get_attribute("href")
    page.goto(f"{demo.base}{booking}/move?override=1")
    expect(page.locator("#override-warning")).to_be_visible()
    assert_accessible(page, axe_source, f"move with override {lang} {width}")
    page.screenshot(path=SHOTS / f"desk-override-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)


def test_a_click_on_a_free_spot_of_a_column_opens_the_form_for_that_resource_and_time(page: Page, demo: Demo):
    when = date.today() + timedelta(days=40)  # a Tuesday clear of the holidays' closed dates
    when += timedelta(days=(1 - when.weekday()) % 7)
    day = when.isoformat()
    sign_in(page, demo)
    page.goto(f"{demo.base}/admin/sites/{SITE}?day={day}")
    column = page.locator(".rows[data-book*='resource=ben']")
    box = column.bounding_box()
    first_hour = int(column.get_attribute("data-first-hour"))
    rows = int(page.locator(".grid").get_attribute("data-rows"))
    # The spot a little below 10:00 (each row is 5 minutes).
    y = ((10 - first_hour) * 12 + 1.5) / rows * box["height"]
    column.click(position={"x": box["width"] / 2, "y": y})
    expect(page).to_have_url(re.compile(rf"/book\?resource=ben&day={day}&at=10:00$"))
    page.get_by_label("Service").select_option("follow-up")
    page.get_by_role("button", name="Show free times").click()
    expect(page.get_by_label("With")).to_have_value("ben")
    checked = page.locator(".time-choice input[type=radio]:checked")
    expect(checked).to_have_count(1)
    assert checked.get_attribute("value").startswith(f"{day}T10:00")
