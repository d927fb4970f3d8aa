"""The catalog in the back office, in Chromium: the demo owner edits a service's price (and the widget shows
it), meets a site-file message inline, edits a resource's weekly hours, and reads the site file and the
audit log. axe-core on every page; screenshots at 1280 and 390 px in English and German."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import SITE
from e2e.pages import assert_accessible, back_office_nav, open_back_office_page
from e2e import test_back_office as back_office
from e2e.test_back_office import SHOTS, Demo, assert_fits, sign_in

demo = back_office.demo  # the module's own demo server (the fixture is module-scoped)


def service_price(demo: Demo, slug: str) -> tuple[int | None, str | None]:
    with sqlite3.connect(demo.database) as db:
        return db.execute("SELECT price_minor, currency FROM service WHERE slug = ?", (slug,)).fetchone()


def resource_hours(demo: Demo, key: str) -> dict | None:
    """The stored weekly hours: weekday -> [start, end] in minutes of the day."""
    with sqlite3.connect(demo.database) as db:
        (hours,) = db.execute("SELECT hours FROM resource WHERE key = ?", (key,)).fetchone()
    return json.loads(hours) if hours else None


def nav(page: Page, name: str) -> None:
    back_office_nav(page).get_by_role("link", name=re.compile(name)).click()


def test_the_owner_edits_a_services_price_and_sees_it_in_the_widget(page: Page, demo: Demo, axe_source: str):
    assert service_price(demo, "follow-up") == (4500, "EUR")
    sign_in(page, demo)
    page.goto(f"{demo.base}/admin?locale=en")
    nav(page, "^Catalog$")
    expect(page.get_by_role("heading", name="Catalog", level=1)).to_be_visible()
    assert_accessible(page, axe_source, "catalog")
    page.get_by_role("link", name="Folgebehandlung").click()
    expect(page.get_by_role("heading", name="Edit service")).to_be_visible()
    price = page.get_by_label("Price")
    expect(price).to_have_value("€45.00")  # as the page's language writes a price
    assert_accessible(page, axe_source, "service form")

    # A price the site file does not take: its message next to the field, nothing saved.
    price.fill("forty-eight")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-price-error")).to_be_visible()
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(price).to_have_value("forty-eight")
    assert_accessible(page, axe_source, "service form with a problem")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "catalog-service-error-en-1280.png", full_page=True)
    assert service_price(demo, "follow-up") == (4500, "EUR")

    price.fill("48.50 EUR")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The service was saved.")
    assert service_price(demo, "follow-up") == (4850, "EUR")

    page.goto(f"{demo.base}/book/{SITE}?locale=en")
    listed = page.get_by_role("link", name=re.compile("Folgebehandlung"))
    expect(listed).to_contain_text("€48.50")


def test_the_owner_gives_a_resource_weekly_hours_with_two_ranges(page: Page, demo: Demo, axe_source: str):
    sign_in(page, demo)
    page.goto(f"{demo.base}/admin/sites/{SITE}/catalog/resources/ben?locale=en")
    expect(page.get_by_role("heading", name="Edit resource")).to_be_visible()
    assert_accessible(page, axe_source, "resource form")
    expect(page.get_by_label("Own hours")).not_to_be_checked()
    expect(page.get_by_label("Monday")).to_have_value("08:00-12:30, 13:30-18:00")  # the site's, to start from
    page.get_by_label("Own hours").check()
    page.get_by_label("Saturday").fill("09:00-12:00, 12:00-11:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-hours-sat-error")).to_be_visible()
    assert_accessible(page, axe_source, "resource form with a problem")
    page.get_by_label("Saturday").fill("09:00-12:00, 13:00-15:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The resource was saved.")
    hours = resource_hours(demo, "ben")
    assert hours["sat"] == [[540, 720], [780, 900]]
    assert hours["mon"] == [[480, 750], [810, 1080]]  # the site's hours, offered as the start, kept

    open_back_office_page(page, "Catalog", "Changes")
    expect(page.locator(".audit")).to_contain_text("ben")
    expect(page.locator(".audit")).to_contain_text("back-office")
    assert_accessible(page, axe_source, "audit log")
    open_back_office_page(page, "Catalog", "Site file")
    expect(page.locator("pre.site-file")).to_contain_text('slug = "harbour-physio"')
    assert_accessible(page, axe_source, "site file")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == f"{SITE}.toml"


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_catalog_pages(new_context, demo: Demo, axe_source: str, locale: str, width: int):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo)
    for name, path in (("catalog", "catalog"), ("service", "catalog/services/assessment"),
                       ("resource", "catalog/resources/anna"), ("new-service", "catalog/services/new"),
                       ("site-file", "site-file"), ("audit", "audit")):
        page.goto(f"{demo.base}/admin/sites/{SITE}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page, axe_source, f"{name} {lang} {width}")
        page.screenshot(path=SHOTS / f"catalog-{name}-{lang}-{width}.png", full_page=True)
        assert_fits(page, width)
