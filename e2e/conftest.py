"""Browser tests: the real app as a server, foreign host pages, Debian's Chromium.

Run apart from the other suites (sync Playwright and asyncio tests don't share
a process): ``.venv/bin/pytest e2e``.

Origins used (all loopback, so nothing leaves the machine):
  http://127.0.0.1:P  the Slotwise server (``slotwise serve``, SQLite in a temp dir)
  http://127.0.0.2:H  a customer's site, in the demo site's allowed_origins
  http://127.0.0.3:U  an unknown site, NOT allowed to frame the widget
  http://127.0.0.1:F  a fake Slotwise (real loader, fake booking page) for loader-only tests
127.0.0.x are different *sites* to the browser, not only different origins,
so third-party rules (cookies, storage partitioning) really apply.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from e2e.harness import (
    CHROMIUM, CHROMIUM_ARGS, REPO, FakeSlotwise, HostSite, RunningSlotwise, demo_slotwise,
)

AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
# Chromium's switch that blocks third-party cookies as the cookie phase-out does.
BLOCK_THIRD_PARTY_COOKIES = ["--test-third-party-cookie-phaseout"]


class Slotwise:
    """The running server, plus plain HTTP requests to it."""

    def __init__(self, running: RunningSlotwise) -> None:
        self.base = running.base
        self.database = running.database
        self.log = running.log

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    """A customer's site on 127.0.0.2, allowed to embed the widget."""
    with HostSite("127.0.0.2") as site:
        yield site


@pytest.fixture(scope="session")
def unknown_site() -> Iterator[HostSite]:
    """A site on 127.0.0.3 that the demo site does not know."""
    with HostSite("127.0.0.3") as site:
        yield site


@pytest.fixture(scope="session")
def slotwise(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Slotwise]:
    """The real app, ``slotwise serve`` in a subprocess, with the demo site applied."""
    with demo_slotwise(tmp_path_factory.mktemp("slotwise"), [host_site.origin]) as running:
        yield Slotwise(running)


@pytest.fixture(scope="session")
def fake_slotwise() -> Iterator[FakeSlotwise]:
    from slotwise.web.widget_routes import load_loader  # the bytes /widget.js serves

    with FakeSlotwise("127.0.0.1", load_loader().body) as fake:
        yield fake


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


def _launch(playwright: Playwright, extra_args: list[str] | None = None) -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup (installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + (extra_args or []))


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = _launch(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def cookieless_browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with third-party cookies blocked."""
    browser = _launch(playwright, BLOCK_THIRD_PARTY_COOKIES)
    yield browser
    browser.close()


def _context(browser: Browser, **options: object) -> BrowserContext:
    options.setdefault("viewport", {"width": 1024, "height": 800})
    options.setdefault("locale", "en-GB")
    options.setdefault("timezone_id", "Europe/London")
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = _context(browser)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture()
def new_context(browser: Browser) -> Iterator:
    """Factory for contexts with other options (locale, time zone, ...)."""
    made: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        made.append(_context(browser, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run scripts/setup (npm ci installs axe-core)")
    return AXE_JS.read_text(encoding="utf-8")
