"""Past the read budget, the widget shows a readable message in the customer's language, inside its frame."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from e2e.harness import SITE, RunningSlotwise, demo_slotwise, snippet
from e2e.pages import assert_accessible
from e2e.test_console import WATCH_CSP_JS

READ_LIMIT = 3


@pytest.fixture(scope="module")
def limited_slotwise(tmp_path_factory: pytest.TempPathFactory, host_site) -> Iterator[RunningSlotwise]:
    with demo_slotwise(tmp_path_factory.mktemp("limited"), [host_site.origin],
                       env={"SLOTWISE_READ_RATE_LIMIT": str(READ_LIMIT)}) as running:
        yield running


def test_clicking_days_past_the_budget_shows_how_long_to_wait_in_german(new_context, limited_slotwise, host_site,
                                                                       axe_source):
    context = new_context(locale="de-DE", timezone_id="Europe/Berlin")
    context.add_init_script(WATCH_CSP_JS)
    page = context.new_page()
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/book/" in r.url else None)
    url = host_site.add_page("limited-days", snippet(limited_slotwise.base, SITE, service="assessment",
                                                     resource="anna"))
    page.goto(url)
    frame = page.frame_locator("iframe")
    expect(frame.locator('#sw-step[data-sw-step="calendar"]')).to_be_visible()

    days = frame.locator("button.sw-day[name='date']:visible")
    limited = frame.locator('#sw-step[data-sw-step="limited"]')
    clicks = 0
    # The page itself was the first read; a few more days spend the budget. Each
    # click swaps the calendar, so wait for a day (or the message) before the next.
    # The budget counts per minute: a minute that turns mid-test starts it afresh,
    # hence room for a second round of clicks.
    while clicks < 2 * READ_LIMIT + 3:
        frame.locator('#sw-step[data-sw-step="limited"], button.sw-day[name="date"]').first.wait_for()
        if limited.count():
            break
        free = days.count()
        if free:
            days.nth(clicks % free).click()
            clicks += 1

    expect(limited).to_be_visible()
    expect(limited.get_by_role("heading")).to_have_text("Zu viele Anfragen")
    expect(limited).to_contain_text("Sekunden")
    assert 429 in statuses
    assert page.frames[1].evaluate("() => window.__csp") == []
    assert_accessible(page.frames[1], axe_source, "limited")
