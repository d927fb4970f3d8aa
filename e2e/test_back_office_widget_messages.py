"""The back office's widget and messages pages in Chromium, each step checked in the database too:
the owner previews and edits a confirmation template (live preview, an inline error, save, a test to
themself), reads the delivery log, builds a snippet with its live preview and copies it, and edits the
allowed origins. axe-core on every page; screenshots at 1280 and 390 px in English and German."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import SITE
from e2e.pages import assert_accessible, open_back_office_page
from e2e.test_back_office import SHOTS, Demo, assert_fits, demo, sign_in  # noqa: F401  (demo: the fixture)


def site_row(database: Path) -> dict:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT message_templates, allowed_origins FROM site WHERE slug = ?", (SITE,)).fetchone()
    return {"templates": json.loads(row[0]), "origins": json.loads(row[1])}


def test_messages(page: Page, demo: Demo, axe_source: str):  # noqa: F811
    """Done-when journey: previews and edits a confirmation template."""
    sign_in(page, demo)
    open_back_office_page(page, "Messages")
    expect(page.get_by_role("heading", level=1, name="Messages")).to_be_visible()
    expect(page.get_by_test_id("origin")).to_have_text("Default template")
    assert_accessible(page, axe_source, "messages")

    # Typing re-renders the preview (debounced htmx) with the sample booking.
    text = page.get_by_label("Text", exact=True)
    text.fill("Hello {{ customer.name }}, see you at {{ site.name }}! <b>bold</b>")
    preview = page.get_by_test_id("preview-text")
    expect(preview).to_contain_text("Hello Alex Sample, see you at")
    expect(preview).to_contain_text("<b>bold</b>")  # shown as typed, not as markup
    page.get_by_text("HTML version", exact=True).click()
    html = page.frame_locator("[data-testid=preview-html]")
    expect(html.locator("body")).to_contain_text("Alex Sample")

    # A mistake names the part and the line, inline, and live.
    text.fill("Hello\n{% if customer.name %}")
    expect(page.locator("#preview [role=alert]")).to_contain_text("line 2")
    assert_accessible(page, axe_source, "messages with an error")

    text.fill("Dear {{ customer.name }},\nyour booking is confirmed.")
    expect(preview).to_contain_text("Dear Alex Sample,")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Template saved.")
    expect(page.get_by_test_id("origin")).to_have_text("Your own template")
    stored = site_row(demo.database)["templates"]
    assert stored["email"]["confirmed.en.txt"] == "Dear {{ customer.name }},\nyour booking is confirmed."

    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_role("status")).to_contain_text(f"A test was queued to {demo.email}.")
    with sqlite3.connect(demo.database) as db:
        tests = db.execute("SELECT recipient, booking FROM outbox_message WHERE event = 'test'").fetchall()
    assert tests == [(demo.email, None)]

    page.get_by_role("link", name="Delivery log").click()
    expect(page.get_by_role("heading", level=1, name="Delivery log")).to_be_visible()
    expect(page.locator("table.bookings")).to_contain_text(demo.email)
    assert_accessible(page, axe_source, "delivery log")

    page.goto(f"{demo.base}/admin/sites/{SITE}/messages")
    page.get_by_role("button", name="Reset to default").click()
    expect(page.get_by_test_id("origin")).to_have_text("Default template")
    assert "confirmed.en.txt" not in site_row(demo.database)["templates"]["email"]


def test_widget_snippet_preview_copy_and_origins(browser, demo: Demo, axe_source: str):  # noqa: F811
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        sign_in(page, demo)
        open_back_office_page(page, "Widget")
        expect(page.get_by_role("heading", level=1, name="Widget")).to_be_visible()
        page.get_by_label("Language").select_option("de")
        code = page.locator("#w-code")
        expect(code).to_have_value(re.compile(r'data-site="harbour-physio" data-locale="de"'))
        # The preview is our hosted booking page, framed by the back office (CSP frame-ancestors lets it).
        frame = page.frame_locator("iframe.wm-preview")
        expect(frame.locator("html")).to_have_attribute("lang", "de")
        assert_accessible(page, axe_source, "widget page")
        page.get_by_role("button", name="Copy snippet").click()
        expect(page.locator(".wm-copied")).to_have_text("Copied")
        assert page.evaluate("() => navigator.clipboard.readText()") == code.input_value()

        origins = page.get_by_label("Origins", exact=True)
        origins.fill("https://Shop.Example.com/\nnot an origin")
        page.get_by_role("button", name="Save origins").click()
        expect(page.get_by_role("alert")).to_contain_text("Line 2")
        assert "https://shop.example.com" not in site_row(demo.database)["origins"]
        assert_accessible(page, axe_source, "widget origins error")
        page.get_by_label("Origins", exact=True).fill("https://Shop.Example.com/\nhttp://localhost:8000")
        page.get_by_role("button", name="Save origins").click()
        expect(page.get_by_role("status").filter(has_text="Allowed origins saved.")).to_be_visible()
        assert site_row(demo.database)["origins"] == ["https://shop.example.com", "http://localhost:8000"]
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_widget_and_messages_pages(new_context, demo: Demo, axe_source: str,  # noqa: F811
                                                   locale: str, width: int):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo)
    for name, path in (("widget", "widget"), ("messages", "messages"), ("log", "messages/log")):
        page.goto(f"{demo.base}/admin/sites/{SITE}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if name == "widget":
            expect(page.frame_locator("iframe.wm-preview").locator("body")).to_be_visible()
        assert_accessible(page, axe_source, f"{name} {lang} {width}")
        page.screenshot(path=SHOTS / f"{name}-{lang}-{width}.png", full_page=True)
        assert_fits(page, width)


def test_messages_in_german_previews_and_saves_a_confirmation_template(new_context, demo: Demo,  # noqa: F811
                                                                        axe_source: str):
    """The same journey in German: the German confirmation email, edited and saved from a German browser."""
    page = new_context(locale="de-DE", timezone_id="Europe/Berlin").new_page()
    sign_in(page, demo)
    open_back_office_page(page, "Nachrichten")
    page.get_by_label("Sprache").select_option("de")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_test_id("origin")).to_have_text("Standardvorlage")
    text = page.get_by_label("Text", exact=True)
    text.fill("Hallo {{ customer.name }},\nbis bald bei {{ site.name }}.")
    expect(page.get_by_test_id("preview-text")).to_contain_text("Hallo Alex Sample,")
    text.fill("Hallo {{ customer.name }")
    expect(page.locator("#preview [role=alert]")).to_contain_text("Die Vorlage hat Fehler")
    text.fill("Hallo {{ customer.name }},\nbis bald bei {{ site.name }}.")
    expect(page.get_by_test_id("preview-text")).to_contain_text("bis bald bei")
    assert_accessible(page, axe_source, "Nachrichten")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Vorlage gespeichert.")
    expect(page.get_by_test_id("origin")).to_have_text("Eigene Vorlage")
    stored = site_row(demo.database)["templates"]["email"]
    assert stored["confirmed.de.txt"] == "Hallo {{ customer.name }},\nbis bald bei {{ site.name }}."
    page.get_by_role("button", name="Auf Standard zurücksetzen").click()
    expect(page.get_by_test_id("origin")).to_have_text("Standardvorlage")
    assert "confirmed.de.txt" not in site_row(demo.database)["templates"]["email"]
