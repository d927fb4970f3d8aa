"""Finding one's way in the widget: keys of the calendar, the place on a phone, long days, live errors.

Issue 13, item 7. Each test drives Chromium as a customer would and checks
what they would notice: where the focus goes, what is on screen, what is read
out.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from e2e.harness import SITE, snippet
from e2e.pages import BookingFrame, HostPage, KeyboardSteps, assert_accessible

PHONE = {"width": 390, "height": 844}


def a_full_weekday() -> str:
    """A working day at least three days ahead and outside the demo's Christmas closure."""
    day = date.today() + timedelta(days=3)
    while day.weekday() > 4 or (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 1):
        day += timedelta(days=1)
    return day.isoformat()


def test_the_calendar_explains_its_keys_and_tab_reaches_the_chosen_day_then_its_times(
        page: Page, slotwise, host_site, axe_source):
    url = host_site.add_page("cal-tab", snippet(slotwise.base, SITE, service="assessment", resource="ben",
                                                locale="en"))
    booking = BookingFrame(HostPage(page).open(url).widget())
    step = booking.step("calendar")
    grid = step.get_by_role("grid")

    # Instructions tied to the grid (read with it) and visible under it.
    hint = booking.root.locator("#" + (grid.get_attribute("aria-describedby") or "missing"))
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Arrow keys move between days")

    # One Tab stop in the grid: the chosen day (the first free one, whose times are shown) ...
    chosen = grid.locator("td[aria-selected='true'] button")
    booking.tab_to(grid.locator("button[tabindex='0']"))
    assert booking.is_focused(chosen), "Tab into the grid should land on the chosen day"
    # ... and the next Tab is its first time.
    page.keyboard.press("Tab")
    assert booking.is_focused(booking.first_slot()), "Tab after the chosen day should reach its times"

    # Another day by arrows and Enter: Tab from it goes to that day's times.
    page.keyboard.press("Shift+Tab")
    chosen_iso = booking.choose_first_free_day_after(chosen.get_attribute("value") or "")
    page.keyboard.press("Tab")
    expect(booking.root.locator(f'#sw-slots[data-sw-date="{chosen_iso}"]')).to_be_visible()
    assert booking.is_focused(booking.first_slot())
    assert_accessible(booking.frame, axe_source, "calendar with hint")


def test_each_new_step_is_brought_into_view_on_a_phone_host_page(new_context, slotwise, host_site):
    # The widget sits below a long article and above a long footer, on a phone.
    body = ('<div style="height:1400px">Article</div>'
            + snippet(slotwise.base, SITE, service="assessment", resource="ben", locale="en")
            + '<div style="height:2400px">Footer</div>')
    url = host_site.add_page(f"phone-scroll-{uuid.uuid4().hex[:6]}", body)
    page = new_context(viewport=PHONE).new_page()
    widget = HostPage(page).open(url).widget()
    booking = BookingFrame(widget)
    booking.step("calendar")
    widget.iframe.scroll_into_view_if_needed()  # Chromium lays out off-screen frames lazily
    last = booking.root.locator("#sw-slots button[name='start']").last
    last.scroll_into_view_if_needed()
    # Far down the frame: the step's heading is above the screen now.
    assert booking.root.locator("#sw-step-title").bounding_box()["y"] < 0
    last.click()

    title = booking.step("details").locator("#sw-step-title")

    # The heading of the new step is on screen: the host page scrolled to it.
    page.wait_for_function(
        """() => {
            const f = document.querySelector('iframe').getBoundingClientRect();
            return f.top > -innerHeight && f.top < innerHeight;
        }""")
    box = title.bounding_box()
    assert box is not None and 0 <= box["y"] <= PHONE["height"] - box["height"], box


def test_a_long_day_is_grouped_and_fits_a_phone_screen(new_context, slotwise, axe_source):
    page = new_context(viewport=PHONE, locale="en-GB").new_page()
    page.goto(f"{slotwise.base}/book/{SITE}?service=assessment&resource=ben&locale=en&date={a_full_weekday()}&month={a_full_weekday()[:7]}")
    steps = KeyboardSteps(page, page)
    slots = steps.step("calendar").locator("#sw-slots")
    times = slots.locator("button[name='start']")
    assert times.count() > 20, times.count()

    expect(slots.get_by_role("heading", name="Morning", exact=True)).to_be_visible()
    expect(slots.get_by_role("heading", name="Afternoon", exact=True)).to_be_visible()
    # Each part is its own list, named by its heading.
    expect(slots.get_by_role("list", name="Morning")).to_be_visible()
    # The times, headings included, take less than one phone screen.
    box = slots.locator("form").bounding_box()
    assert box is not None and box["height"] < PHONE["height"], box
    assert_accessible(page, axe_source, "grouped times")


def test_a_fields_error_goes_once_the_field_is_fixed(page: Page, slotwise):
    page.goto(f"{slotwise.base}/book/{SITE}?service=follow-up&resource=ben&locale=en")
    steps = KeyboardSteps(page, page)
    steps.step("calendar")
    steps.press(steps.first_slot())
    details = steps.step("details")
    with_row = details.locator(".sw-summary").inner_text()
    details.get_by_label("Email", exact=True).fill("erika@")
    details.get_by_role("button", name="Confirm booking").click()
    expect(details.locator(".sw-errors")).to_be_visible()
    name, email = details.get_by_label("Name", exact=True), details.get_by_label("Email", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-invalid", "true")
    assert details.locator(".sw-summary").inner_text() == with_row  # the summary did not change

    name.fill("Erika Mustermann")

    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(details.locator("#f-customer-name-error")).to_have_count(0)
    expect(details.locator('.sw-errors a[href="#f-customer-name"]')).to_have_count(0)
    expect(email).to_have_attribute("aria-invalid", "true")  # still wrong: still marked

    email.fill("erika@example.com")
    email.blur()

    expect(details.locator("#f-customer-email-error")).to_have_count(0)
    expect(details.locator(".sw-errors")).to_have_count(0)
