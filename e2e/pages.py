"""Page objects: a host page with embedded widgets, and the booking page inside one.

Elements are found by role and accessible name where the markup offers them
(what a keyboard or screen-reader user relies on), and by ``data-testid``
only where no role names the element.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect


def axe_violations(frame: Frame | Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations for the document in ``frame`` (injected once per document).

    Injected through the DevTools protocol rather than a <script> tag, so the
    page's CSP (no inline scripts) stays on while we check it.
    """
    if not frame.evaluate("() => typeof window.axe === 'object'"):
        frame.evaluate(axe_source)
    return frame.evaluate(
        """() => axe.run(document, {iframes: false, resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)})))"""
    )


def assert_accessible(frame: Frame | Page, axe_source: str, step: str) -> None:
    violations = axe_violations(frame, axe_source)
    assert violations == [], f"axe-core at step {step!r}:\n" + json.dumps(violations, indent=2, ensure_ascii=False)


class Widget:
    """One embedded booking iframe, seen from the host page."""

    def __init__(self, host: HostPage, iframe: Locator) -> None:
        self.host = host
        self.iframe = iframe

    @property
    def src(self) -> str:
        return self.iframe.get_attribute("src") or ""

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.src).query).items()}

    @property
    def wid(self) -> str:
        return self.params["wid"]

    @property
    def frame(self) -> Frame:
        handle = self.iframe.element_handle()
        frame = handle.content_frame() if handle else None
        assert frame is not None, "the widget iframe has no document"
        return frame

    def height(self) -> int:
        return self.iframe.evaluate("f => f.clientHeight")

    def assert_no_inner_scrollbar(self) -> None:
        """The iframe is exactly as tall as its document: no inner scrollbar, no blank space.

        Waits for the loader to apply the last reported height (the frame's
        viewport *is* the iframe's box), then checks the host page agrees.
        """
        # Chromium defers layout of off-screen cross-origin frames (their viewport
        # size lags): look at the widget as a visitor would.
        self.iframe.scroll_into_view_if_needed()
        frame = self.frame
        frame.wait_for_function(
            """() => {
                const root = document.documentElement;
                const content = Math.ceil(root.getBoundingClientRect().height);
                return Math.abs(content - innerHeight) <= 1
                    && root.scrollHeight <= innerHeight && root.scrollWidth <= innerWidth;
            }"""
        )
        assert frame.evaluate("() => window.innerHeight") == self.height()


class HostPage:
    """A foreign web page carrying the snippet; records widget events in ``window.__events``."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, url: str) -> HostPage:
        self.page.goto(url)
        return self

    @property
    def iframes(self) -> Locator:
        return self.page.locator("iframe")

    def widget(self, index: int = 0) -> Widget:
        return Widget(self, self.iframes.nth(index))

    def widget_in(self, container_selector: str) -> Widget:
        return Widget(self, self.page.locator(f"{container_selector} iframe"))

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        events = self.page.evaluate("() => window.__events")
        return [e for e in events if type_ is None or e["type"] == type_]

    def wait_for_event(self, type_: str, count: int = 1) -> list[dict[str, Any]]:
        self.page.wait_for_function(
            "([t, n]) => window.__events.filter(e => e.type === t).length >= n", arg=[type_, count]
        )
        return self.events(type_)

    def expect_widgets(self, count: int) -> None:
        expect(self.iframes).to_have_count(count)


class KeyboardSteps:
    """The steps of a Slotwise page (booking or manage), driven with the keyboard only.

    Steps are recognised by the page's stable ``data-sw-step`` attribute
    (services, resources, calendar, details, confirmation, booking, cancel,
    cancelled); controls by role and accessible name. Every move is a key
    press: Tab, arrows, Enter, typing. ``root`` is the page itself, or the
    widget's frame.
    """

    TAB_LIMIT = 80  # more presses than any step has tab stops, so a missing control fails fast

    def __init__(self, page: Page, root: Page | FrameLocator) -> None:
        self.page = page
        self.root = root

    def step(self, name: str) -> Locator:
        """Waits until the step ``name`` is shown; returns it."""
        step = self.root.locator(f'#sw-step[data-sw-step="{name}"]')
        expect(step).to_be_visible()
        return step

    def is_focused(self, target: Locator) -> bool:
        return target.evaluate("el => el === document.activeElement")

    def tab_to(self, target: Locator, key: str = "Tab") -> None:
        """Presses Tab until ``target`` has the focus."""
        target.wait_for()
        for _ in range(self.TAB_LIMIT):
            if self.is_focused(target):
                return
            self.page.keyboard.press(key)
        raise AssertionError(f"{target} never got the focus after {self.TAB_LIMIT} × {key}")

    def press(self, target: Locator, key: str = "Enter") -> None:
        """Tabs to ``target`` and presses ``key`` on it."""
        self.tab_to(target)
        self.page.keyboard.press(key)

    def focused_day(self) -> Locator:
        return self.root.locator("button.sw-day:focus")

    def choose_first_free_day(self) -> str:
        """Tabs into the month grid (one tab stop), arrows right to a day with free times, Enter.

        Returns the chosen date (YYYY-MM-DD).
        """
        grid = self.step("calendar").get_by_role("grid")
        self.tab_to(grid.locator("button[tabindex='0']"))
        for _ in range(70):  # two months of days at most
            day = self.focused_day()
            expect(day).to_have_count(1)  # after a month change, focus lands on the new grid
            if day.get_attribute("name") == "date":  # a free day is a submit button named "date"
                break
            before = day.get_attribute("aria-label")
            self.page.keyboard.press("ArrowRight")
            expect(self.focused_day()).not_to_have_attribute("aria-label", before or "")
        else:
            raise AssertionError("no free day within two months")
        iso = self.focused_day().get_attribute("value") or ""
        self.page.keyboard.press("Enter")
        expect(self.root.locator(f'#sw-slots[data-sw-date="{iso}"]')).to_be_visible()
        return iso

    def choose_first_free_day_after(self, iso: str) -> str:
        """From the focused day, arrows right to the next free day after ``iso`` and presses Enter."""
        for _ in range(70):
            day = self.focused_day()
            expect(day).to_have_count(1)
            if day.get_attribute("name") == "date" and (day.get_attribute("value") or "") > iso:
                break
            before = day.get_attribute("aria-label")
            self.page.keyboard.press("ArrowRight")
            expect(self.focused_day()).not_to_have_attribute("aria-label", before or "")
        else:
            raise AssertionError(f"no free day after {iso} within two months")
        chosen = self.focused_day().get_attribute("value") or ""
        self.page.keyboard.press("Enter")
        expect(self.root.locator(f'#sw-slots[data-sw-date="{chosen}"]')).to_be_visible()
        return chosen

    def first_slot(self) -> Locator:
        """The first time on offer (a booking's own current time is shown, but not offered)."""
        return self.root.locator("#sw-slots").locator("button[name='start']").first

    def choose_first_slot(self) -> str:
        """Chooses the first time on offer; returns its value (an ISO instant)."""
        slot = self.first_slot()
        value = slot.get_attribute("value") or ""
        self.press(slot)
        return value


class BookingFrame(KeyboardSteps):
    """The hosted booking page inside a widget."""

    def __init__(self, widget: Widget) -> None:
        super().__init__(widget.host.page, widget.iframe.content_frame)
        self.widget = widget

    @property
    def frame(self) -> Frame:
        return self.widget.frame

    # --- steps -----------------------------------------------------------------------

    def choose_service(self, name: str) -> None:
        self.press(self.step("services").get_by_role("link", name=name))

    def choose_first_resource_option(self) -> None:
        self.press(self.step("resources").get_by_role("list").get_by_role("link").first)

    def fill_details_and_confirm(self, values: dict[str, str]) -> None:
        """``values``: accessible label → text, typed into each field in tab order."""
        step = self.step("details")
        for label, text in values.items():
            self.tab_to(step.get_by_label(label, exact=True))
            self.page.keyboard.type(text)
        self.press(step.get_by_role("button", name="Confirm booking"))


# --- the back office's nav -------------------------------------------------------------------------

BACK_OFFICE_NAV = re.compile("^(Back office|Verwaltung)$")


def back_office_nav(page: Page) -> Locator:
    """The back office's nav, its menu opened first where its groups fold into one (narrow screens)."""
    nav = page.get_by_role("navigation", name=BACK_OFFICE_NAV)
    toggle = nav.get_by_role("button", name=re.compile("^(Menu|Menü)$"))
    if toggle.is_visible():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    return nav


def open_back_office_page(page: Page, group: str, link: str | None = None) -> None:
    """A group of the top bar, then (on a wide screen) one of its pages in the group's own row."""
    back_office_nav(page).get_by_role("link", name=group, exact=True).click()
    if link is not None:
        page.get_by_role("navigation", name=group, exact=True).get_by_role("link", name=link, exact=True).click()


def sign_out(page: Page, button: str = "Sign out") -> None:
    """Sign out (or out everywhere) from the account menu in the top bar."""
    page.locator("details.account summary").click()
    page.get_by_role("button", name=button, exact=True).click()
