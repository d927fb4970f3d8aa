"""A customer books inside the widget on a foreign page, with the keyboard only.

At every step: the iframe fits its content (no inner scrollbar) and axe-core
finds nothing. Afterwards the booking is in the database and the host page
got ``slotwise:booked`` with the same id, service and times.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Response, expect

from e2e.harness import SITE, snippet
from e2e.pages import BookingFrame, HostPage, Widget, assert_accessible


def _check_step(widget: Widget, axe_source: str, step: str) -> None:
    widget.assert_no_inner_scrollbar()
    assert_accessible(widget.frame, axe_source, step)


def _booking_row(database, email: str) -> dict:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT b.uid, b.status, b.start_at, b.end_at, b.customer_name, b.timezone, s.slug AS service "
            "FROM booking b JOIN service s ON s.id = b.service WHERE b.customer_email = ?", (email,),
        ).fetchall()
    assert len(rows) == 1, f"expected one booking for {email}, found {len(rows)}"
    return dict(rows[0])


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace(" ", "T"))


def book_with_keyboard_only(browser: Browser, slotwise, host_site, axe_source) -> tuple[dict, dict, list]:
    """The whole flow on a fresh page.

    Returns the ``slotwise:booked`` event, the booking's database row, and
    (URL, Set-Cookie header) of every response from Slotwise.
    """
    context = browser.new_context(viewport={"width": 900, "height": 800}, locale="en-GB", timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        responses: list[Response] = []
        page.on("response", lambda response: responses.append(response))
        url = host_site.add_page(f"flow-{uuid.uuid4().hex[:8]}", snippet(slotwise.base, SITE), title="Physio booking")
        host = HostPage(page).open(url)
        host.wait_for_event("slotwise:ready")
        widget = host.widget()
        booking = BookingFrame(widget)

        booking.step("services")
        _check_step(widget, axe_source, "services")
        booking.choose_service("Folgebehandlung")

        # The follow-up treatment can be given by Anna or Ben: the resource step comes first.
        booking.step("resources")
        _check_step(widget, axe_source, "resources")
        booking.choose_first_resource_option()

        booking.step("calendar")
        _check_step(widget, axe_source, "calendar")
        booking.choose_first_free_day()
        _check_step(widget, axe_source, "day's free times")

        booking.choose_first_slot()
        booking.step("details")
        [selected] = host.wait_for_event("slotwise:slot-selected")
        assert selected["detail"]["service"] == "follow-up"
        _check_step(widget, axe_source, "details")

        email = f"erika.{uuid.uuid4().hex[:8]}@example.org"
        booking.fill_details_and_confirm({"Name": "Erika Mustermann", "Email": email})

        confirmation = booking.step("confirmation")
        expect(confirmation.get_by_role("heading", level=2)).to_have_text("Your booking is confirmed")
        _check_step(widget, axe_source, "confirmation")
        [booked] = host.wait_for_event("slotwise:booked")

        # Nothing was kept in the browser: state travelled in the page.
        frame = widget.frame
        assert frame.evaluate("() => document.cookie") == ""
        # (Chromium denies third-party frames storage outright; either way nothing is kept.)
        assert frame.evaluate("""() => { try { return [localStorage.length, sessionStorage.length]; }
                                       catch (e) { return "unavailable"; } }""") in ([0, 0], "unavailable")
        assert context.cookies() == []
        ours = [(r.url, r.header_value("set-cookie")) for r in responses if r.url.startswith(slotwise.base)]
        return booked, _booking_row(slotwise.database, email), ours
    finally:
        context.close()


def _assert_booked_matches_database(booked: dict, row: dict) -> None:
    detail = booked["detail"]
    assert set(detail) >= {"id", "service", "start", "end"}
    assert detail["id"] == str(row["uid"])
    assert detail["service"] == row["service"] == "follow-up"
    assert row["status"] == "confirmed" and row["customer_name"] == "Erika Mustermann"
    assert _instant(detail["start"]) == _instant(row["start_at"])
    assert _instant(detail["end"]) == _instant(row["end_at"])
    assert (_instant(detail["end"]) - _instant(detail["start"])).total_seconds() == 30 * 60
    # Times in the event are in the customer's zone (the browser's).
    assert row["timezone"] == "America/New_York"
    start = _instant(detail["start"])
    assert start.utcoffset() == start.astimezone(ZoneInfo("America/New_York")).utcoffset()


def test_a_customer_books_with_the_keyboard_only(browser, slotwise, host_site, axe_source):
    booked, row, _ = book_with_keyboard_only(browser, slotwise, host_site, axe_source)
    _assert_booked_matches_database(booked, row)


def test_booking_works_with_third_party_cookies_blocked(cookieless_browser, slotwise, host_site, axe_source):
    booked, row, responses = book_with_keyboard_only(cookieless_browser, slotwise, host_site, axe_source)
    _assert_booked_matches_database(booked, row)
    assert len(responses) >= 6  # loader, page, assets, fragments
    assert [url for url, set_cookie in responses if set_cookie] == []


def test_the_calendar_moves_by_arrow_keys_and_pages_months(page, slotwise, host_site):
    url = host_site.add_page("calendar-keys", snippet(slotwise.base, SITE, service="assessment", resource="anna"))
    host = HostPage(page).open(url)
    booking = BookingFrame(host.widget())
    grid = booking.step("calendar").get_by_role("grid")
    month = booking.root.locator("#sw-cal-month")
    first_month = month.inner_text()
    booking.tab_to(grid.locator("button[tabindex='0']"))
    start = booking.focused_day().get_attribute("aria-label")
    page.keyboard.press("ArrowDown")  # a week later: another day has the focus
    expect(booking.focused_day()).not_to_have_attribute("aria-label", start or "")
    page.keyboard.press("PageDown")  # the next month, focus stays in the grid
    expect(month).not_to_have_text(first_month)
    expect(booking.focused_day()).to_have_count(1)
    page.keyboard.press("PageUp")
    expect(month).to_have_text(first_month)
    expect(booking.focused_day()).to_have_count(1)
