"""A clean browser console: no CSP violation, no script error, no request to another origin.

The booking flow inside the widget (htmx swapping steps under a CSP without
'unsafe-inline' styles: htmx's indicator styles are off in its meta config)
and the API documentation at /schema (Swagger UI served by us, under the same
page policy) are watched from the first byte: a listener for
``securitypolicyviolation`` in every frame, console errors and page errors.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from e2e.harness import SITE, snippet

WATCH_CSP_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + location.pathname);
});
"""


class Console:
    """Everything a page and its frames complained about."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        context.add_init_script(WATCH_CSP_JS)
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        # A failed load says only "404" in the console: name the URL.
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        where = message.location.get("url", "")
        # The test's own host page has no favicon; Chromium asks for one anyway. Not ours.
        if where.endswith("/favicon.ico") and "127.0.0.1" not in where:
            return
        self.errors.append(f"console {message.type}: {message.text} ({where})")

    def violations(self) -> list[str]:
        found = []
        for frame in self.page.frames:
            try:
                found += frame.evaluate("() => window.__csp || []")
            except Exception:  # a frame that navigated away meanwhile
                continue
        return found


def test_booking_in_the_widget_and_managing_it_leave_the_console_clean(context, page, slotwise, host_site):
    console = Console(context, page)
    url = host_site.add_page(f"console-{uuid.uuid4().hex[:8]}", snippet(slotwise.base, SITE, service="assessment",
                                                                       resource="anna"))
    page.goto(url)
    frame = page.frame_locator("iframe")

    expect(frame.locator('#sw-step[data-sw-step="calendar"]')).to_be_visible()
    frame.locator("button.sw-day[name='date']").first.click()
    frame.locator("#sw-slots button[name='start']").first.click()
    details = frame.locator('#sw-step[data-sw-step="details"]')
    expect(details).to_be_visible()
    details.get_by_label("Name", exact=True).fill("Erika Mustermann")
    details.get_by_label("Email", exact=True).fill(f"erika.{uuid.uuid4().hex[:8]}@example.org")
    details.get_by_label("Phone", exact=True).fill("+49 30 1234567")  # the demo's assessment asks for it
    details.get_by_role("button", name="Confirm booking").click()
    confirmation = frame.locator('#sw-step[data-sw-step="confirmation"]')
    expect(confirmation).to_be_visible()
    assert console.violations() == []
    assert console.errors == []

    # The manage link's page and its move and cancel steps, swapped in by htmx as well.
    manage_url = confirmation.locator("a.sw-link-text").get_attribute("href")
    page.goto(manage_url or "")
    expect(page.locator('#sw-step[data-sw-step="booking"]')).to_be_visible()
    page.locator("a[data-sw-action='reschedule']").click()
    expect(page.locator("#sw-slots button[name='start']").first).to_be_visible()
    page.go_back()
    page.locator("a[data-sw-action='cancel']").click()
    expect(page.locator('#sw-step[data-sw-step="cancel"]')).to_be_visible()
    assert console.violations() == []
    assert console.errors == []


def test_the_api_documentation_comes_from_us_and_leaves_the_console_clean(context, page, slotwise):
    console = Console(context, page)

    response = page.goto(slotwise.base + "/schema")

    assert response is not None and response.status == 200
    # Swagger UI ran and read our document (its title and an operation of ours).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Slotwise")
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/v1/sites/{site}/availability")
           .first).to_be_visible()
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert [u for u in console.requests if not u.startswith((slotwise.base, "data:"))] == []
    assert console.violations() == []
    assert console.errors == []
