"""Issue 11's "done when" journey in German, in Chromium: a new user of ``slotwise demo`` signs in with the
printed credentials in a German browser, sees the demo's bookings, books a caller in, moves that booking,
cancels another, blocks an afternoon, edits a service's price, previews and edits a confirmation
template, invites a staff member and creates an API key. Every element is found by its German label or
role (the texts of ``locales/de/LC_MESSAGES/messages.po``), every step is checked in the database, every
page visited by axe-core, and dates and prices must read as German ones."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from playwright.sync_api import Page, expect

from e2e import test_back_office as back_office
from e2e.harness import SITE
from e2e.pages import assert_accessible, open_back_office_page
from e2e.test_back_office import Demo

demo = back_office.demo  # this module's own demo server (the fixture is module-scoped)

BERLIN = ZoneInfo("Europe/Berlin")  # the demo site's zone
CALLER = "Jürgen Weiß"
STAFF_EMAIL = "dora@harbour-physio.example"


def rows(database: Path, sql: str, *args: object) -> list[dict]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, args)]


def instant(stored: str) -> datetime:
    """A timestamp as SQLite holds it ("2026-12-02 07:00:00+00:00"), as an aware UTC datetime."""
    return datetime.fromisoformat(stored.replace(" ", "T")).astimezone(UTC)


def by_uid(database: Path, uid_hex: str) -> dict:
    """The booking a back-office URL names (``bkg_<uid without dashes>``), with its history."""
    [row] = [r for r in rows(database, "SELECT id, uid, status, start_at, customer_name, customer_email, "
                                       "cancel_reason FROM booking")
             if r["uid"].replace("-", "") == uid_hex]
    history = rows(database, "SELECT kind, actor_kind FROM booking_event WHERE booking = ? ORDER BY id", row["id"])
    return {**row, "history": [(h["kind"], h["actor_kind"]) for h in history]}


def first_free_day(base: str, service: str, resource: str, days_ahead: int) -> date:
    """The first day from ``days_ahead`` days on with a free time of ``service`` with ``resource``."""
    first = datetime.now(BERLIN).date() + timedelta(days=days_ahead)
    query = f"service={service}&resource={resource}&start={first}&end={first + timedelta(days=30)}"
    with urllib.request.urlopen(f"{base}/api/v1/sites/{SITE}/availability?{query}", timeout=10) as response:
        start = json.load(response)["slots"][0]["start"]
    return datetime.fromisoformat(start).astimezone(BERLIN).date()


def german_day(day: date) -> str:
    """How a German reader expects a full date: "Mittwoch, 2. Dezember 2026" (CLDR's German names)."""
    return format_date(day, "EEEE, d. MMMM y", locale="de_DE")


def nav(page: Page, group: str, link: str | None = None) -> None:
    """A group of the top bar (its first page), or one of the group's pages, by their German names."""
    open_back_office_page(page, group, link)


def step(page: Page, axe_source: str, name: str) -> None:
    """Every page of the journey is German (``lang="de"``) and passes axe-core."""
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert_accessible(page, axe_source, name)


def test_the_whole_back_office_journey_in_german(new_context, demo: Demo, axe_source: str):
    context = new_context(locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.base)
    page = context.new_page()
    today = datetime.now(BERLIN).date()

    # --- Anmelden, with the credentials `slotwise demo` printed --------------------------------------
    page.goto(f"{demo.base}/admin")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden in der Verwaltung")
    step(page, axe_source, "Anmelden")
    page.get_by_label("E-Mail-Adresse").fill(demo.email)
    page.get_by_label("Passwort", exact=True).fill(demo.password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(rf"/admin/sites/{SITE}$"))
    assert rows(demo.database, "SELECT count(*) AS n FROM account_session s JOIN account a ON a.id = s.account "
                               "WHERE a.email = ? AND s.revoked_at IS NULL", demo.email)[0]["n"] == 1

    # --- The demo's bookings: the day view, a day at a time, as the database has them ---------------
    expect(page.get_by_role("heading", level=1)).to_have_text(german_day(today))
    for _ in range(8):  # the demo books the coming days
        if page.locator("a.b-link").count():
            break
        page.get_by_role("link", name="Nächster Tag →").click()
    named = re.search(r"day=(\d{4}-\d{2}-\d{2})", page.url)  # none: still today's page
    shown = date.fromisoformat(named[1]) if named else today
    expect(page.get_by_role("heading", level=1)).to_have_text(german_day(shown))
    that_day = [r for r in rows(demo.database, "SELECT customer_name, start_at FROM booking WHERE status = 'confirmed'")
                if instant(r["start_at"]).astimezone(BERLIN).date() == shown]
    assert that_day, "the demo booked nobody on the day shown"
    expect(page.get_by_role("status").filter(has_text="Buchung")).to_have_text(
        f"{len(that_day)} Buchung" if len(that_day) == 1 else f"{len(that_day)} Buchungen")
    for booked in that_day:
        expect(page.get_by_role("link", name=re.compile(re.escape(booked["customer_name"]))).first).to_be_visible()
    step(page, axe_source, "Tagesansicht")
    demo_booking = page.locator("a.b-link").first.get_attribute("href")  # cancelled further down

    # --- Für einen Anrufer buchen -------------------------------------------------------------------
    day = first_free_day(demo.base, "follow-up", "anna", days_ahead=5)
    nav(page, "Buchungen", "Für einen Anrufer buchen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Für einen Anrufer buchen")
    page.get_by_label("Leistung").select_option(label="Folgebehandlung")
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_role("button", name="Freie Zeiten zeigen").click()
    page.get_by_label("Bei").select_option(label="Anna Berg")
    page.get_by_role("button", name="Freie Zeiten zeigen").click()
    times = page.get_by_role("group", name=f"Freie Termine am {german_day(day)}")
    first_time = times.get_by_role("radio").first
    expect(first_time).to_be_visible()
    start = first_time.get_attribute("value")
    first_time.check()
    page.get_by_label("Name", exact=True).fill(CALLER)
    page.get_by_label("E-Mail", exact=True).fill("juergen.weiss@customer.example")
    page.get_by_label(re.compile("^Telefon")).fill("+49 40 555 0199")
    page.get_by_label("Dem Kunden eine Bestätigung senden").uncheck()
    step(page, axe_source, "Für einen Anrufer buchen")
    page.get_by_role("button", name="Buchen", exact=True).click()
    panel = page.get_by_role("complementary", name="Buchung")
    expect(panel.get_by_role("status")).to_have_text("Die Buchung ist angelegt.")
    expect(panel.get_by_role("heading", level=2)).to_have_text(CALLER)
    expect(panel).to_contain_text("45,00 €")  # the service's price, as German writes it
    expect(panel).to_contain_text(german_day(day))
    step(page, axe_source, "gebucht")
    caller_uid = page.url.split("bkg_", 1)[1].split("?", 1)[0]
    made = by_uid(demo.database, caller_uid)
    assert (made["customer_name"], made["customer_email"], made["status"]) == (
        CALLER, "juergen.weiss@customer.example", "confirmed")
    assert instant(made["start_at"]) == datetime.fromisoformat(start).astimezone(UTC)
    assert made["history"] == [("booked", "account")]
    assert rows(demo.database, "SELECT r.key FROM allocation a JOIN resource r ON r.id = a.resource "
                               "WHERE a.booking = ? AND r.key = 'anna'", made["id"])
    assert rows(demo.database, "SELECT count(*) AS n FROM outbox_message WHERE recipient = ?",
                "juergen.weiss@customer.example")[0]["n"] == 0  # "no confirmation" was asked for

    # --- Verschieben: the caller's booking to another time of that day ----------------------------
    panel.get_by_role("link", name="Verschieben", exact=True).click()
    expect(panel.get_by_role("heading", name="Auf eine andere Zeit verschieben")).to_be_visible()
    offered = panel.get_by_role("group", name=f"Freie Termine am {german_day(day)}").get_by_role("button")
    expect(offered.first).to_be_visible()
    step(page, axe_source, "Verschieben")
    later = offered.nth(1)  # any time but the booked one
    new_start = later.get_attribute("value")
    later.click()
    expect(panel.get_by_role("heading", name="Diese Buchung verschieben?")).to_be_visible()
    expect(panel).to_contain_text(re.compile(rf"Von {re.escape(german_day(day))}, \d\d:\d\d–\d\d:\d\d auf "))
    step(page, axe_source, "Verschieben bestätigen")
    assert instant(by_uid(demo.database, caller_uid)["start_at"]) == datetime.fromisoformat(start).astimezone(UTC)
    panel.get_by_label("Kundin oder Kunden benachrichtigen").uncheck()
    panel.get_by_role("button", name="Ja, verschieben").click()
    expect(panel.get_by_role("status")).to_have_text("Die Buchung wurde verschoben.")
    expect(panel.locator(".history")).to_contain_text("Verschoben")
    step(page, axe_source, "verschoben")
    moved = by_uid(demo.database, caller_uid)
    assert instant(moved["start_at"]) == datetime.fromisoformat(new_start).astimezone(UTC)
    assert moved["history"] == [("booked", "account"), ("rescheduled", "account")]

    # --- Stornieren: one of the demo's bookings ----------------------------------------------------
    page.goto(demo.base + demo_booking)
    customer = panel.get_by_role("heading", level=2).inner_text()
    cancelled_uid = demo_booking.rsplit("bkg_", 1)[1]
    panel.get_by_role("link", name="Buchung stornieren").click()
    expect(panel.get_by_role("heading", name="Diese Buchung stornieren", exact=True)).to_be_visible()
    reason = "Die Therapeutin ist krank – wir melden uns."
    panel.get_by_label("Grund (sieht die Kundin oder der Kunde)").fill(reason)
    panel.get_by_label("Kundin oder Kunden benachrichtigen").uncheck()
    step(page, axe_source, "Stornieren")
    panel.get_by_role("button", name="Weiter").click()
    expect(panel.get_by_role("heading", name="Diese Buchung stornieren?")).to_be_visible()
    expect(panel).to_contain_text(f"Grund: {reason}")
    expect(panel).to_contain_text("Die Kundin oder der Kunde wird nicht benachrichtigt.")
    step(page, axe_source, "Stornieren bestätigen")
    assert by_uid(demo.database, cancelled_uid)["status"] == "confirmed"  # nothing happens before confirming
    panel.get_by_role("button", name="Ja, stornieren").click()
    expect(panel.get_by_role("status")).to_have_text("Die Buchung wurde storniert.")
    expect(panel.get_by_role("heading", level=2)).to_have_text(customer)
    expect(panel.locator(".tag.cancelled")).to_have_text("Storniert")
    step(page, axe_source, "storniert")
    cancelled = by_uid(demo.database, cancelled_uid)
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", reason)
    assert ("cancelled", "account") in cancelled["history"]

    # --- Zeit blocken: an afternoon of Ben's --------------------------------------------------------
    afternoon = today + timedelta(days=22)
    nav(page, "Angebot", "Zeit blocken")
    page.get_by_label("Ressource").select_option(label="Ben Petersen")
    page.get_by_role("button", name="Anzeigen").click()
    form = page.get_by_role("form", name="Zeit blocken für Ben Petersen")
    form.get_by_role("group", name="Von").get_by_label("Datum").fill(afternoon.isoformat())
    form.get_by_role("group", name="Von").get_by_label("Zeit").fill("13:00")
    form.get_by_role("group", name="Bis").get_by_label("Datum").fill(afternoon.isoformat())
    form.get_by_role("group", name="Bis").get_by_label("Zeit").fill("17:00")
    form.get_by_label("Grund (nur Ihr Team sieht ihn)").fill("Teambesprechung")
    step(page, axe_source, "Zeit blocken")
    form.get_by_role("button", name="Diese Zeit blocken").click()
    expect(page.get_by_role("status")).to_contain_text("Die Zeit ist geblockt.")
    expect(page.locator(".blocks-list")).to_contain_text(format_date(afternoon, "EEEE, d. MMMM", locale="de_DE"))
    step(page, axe_source, "geblockt")
    [blocked] = rows(demo.database, "SELECT t.start_at, t.end_at, t.actor_kind, r.key FROM time_off t "
                                    "JOIN resource r ON r.id = t.resource WHERE t.reason = ?", "Teambesprechung")
    assert blocked["key"] == "ben" and blocked["actor_kind"] == "account"
    assert instant(blocked["start_at"]) == datetime(afternoon.year, afternoon.month, afternoon.day, 13,
                                                    tzinfo=BERLIN).astimezone(UTC)
    assert instant(blocked["end_at"]) == datetime(afternoon.year, afternoon.month, afternoon.day, 17,
                                                  tzinfo=BERLIN).astimezone(UTC)

    # --- Angebot: a service's price -----------------------------------------------------------------
    nav(page, "Angebot")
    expect(page.get_by_role("heading", level=1, name="Angebot")).to_be_visible()
    service = page.get_by_role("listitem").filter(has=page.get_by_role("link", name="Folgebehandlung"))
    expect(service).to_contain_text("45,00 €")
    page.get_by_role("link", name="Folgebehandlung").click()
    expect(page.get_by_role("heading", name="Leistung bearbeiten")).to_be_visible()
    step(page, axe_source, "Leistung bearbeiten")
    page.get_by_label("Preis").fill("48,50 €")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Die Leistung wurde gespeichert.")
    expect(service).to_contain_text("48,50 €")
    step(page, axe_source, "Angebot gespeichert")
    assert rows(demo.database, "SELECT price_minor, currency FROM service WHERE slug = 'follow-up'") == [
        {"price_minor": 4850, "currency": "EUR"}]

    # --- Nachrichten: preview and edit the German confirmation email -------------------------------
    nav(page, "Nachrichten")
    expect(page.get_by_role("heading", level=1, name="Nachrichten")).to_be_visible()
    # Opened without a choice, the page shows the confirmation email in the page's language.
    expect(page.get_by_label("Anlass").locator("option:checked")).to_have_text("Buchung bestätigt")
    expect(page.get_by_label("Kanal").locator("option:checked")).to_have_text("E-Mail")
    expect(page.get_by_label("Sprache").locator("option:checked")).to_have_text("Deutsch")
    expect(page.get_by_test_id("origin")).to_have_text("Standardvorlage")
    expect(page.get_by_test_id("preview-subject")).to_contain_text(
        re.compile(r"^Buchung bestätigt: Erstbefundung, (Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag)"))
    expect(page.get_by_test_id("preview-text")).to_contain_text("Guten Tag Alex Sample,")
    step(page, axe_source, "Nachrichten")
    text = page.get_by_label("Text", exact=True)
    text.fill("Hallo {{ customer.name }},\nIhr Termin: {{ booking.when }}.")
    preview = page.get_by_test_id("preview-text")
    expect(preview).to_contain_text("Hallo Alex Sample,")
    # The sample booking's time, as a German customer reads it.
    expect(preview).to_contain_text(re.compile(r"Ihr Termin: (Montag|Dienstag|Mittwoch|Donnerstag|Freitag|"
                                               r"Samstag|Sonntag), \d{1,2}\. [A-Z][a-zä]+ \d{4}"))
    step(page, axe_source, "Nachrichten mit Vorschau")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Vorlage gespeichert.")
    expect(page.get_by_test_id("origin")).to_have_text("Eigene Vorlage")
    with sqlite3.connect(demo.database) as db:
        (templates,) = db.execute("SELECT message_templates FROM site WHERE slug = ?", (SITE,)).fetchone()
    assert json.loads(templates)["email"]["confirmed.de.txt"] == (
        "Hallo {{ customer.name }},\nIhr Termin: {{ booking.when }}.")

    # --- Team: invite a staff member ---------------------------------------------------------------
    nav(page, "Team & Schlüssel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    invite = page.get_by_role("region", name="Jemanden einladen")
    invite.get_by_label("E-Mail").fill(STAFF_EMAIL)
    invite.get_by_label("Name (optional)").fill("Dora Schäfer")
    invite.get_by_label("Rolle").select_option(label="Mitarbeiter")
    invite.get_by_label("Arbeitet als (nur Mitarbeiter)").select_option(label="Ben Petersen")
    step(page, axe_source, "Team")
    invite.get_by_role("button", name="Einladung senden").click()
    expect(page.get_by_role("status")).to_contain_text("Die Einladung ist unterwegs.")
    expect(page.get_by_role("row", name=re.compile(re.escape(STAFF_EMAIL)))).to_contain_text("Einladung offen")
    step(page, axe_source, "eingeladen")
    assert rows(demo.database, "SELECT a.name, a.password_hash, m.role, m.resource_key FROM membership m "
                               "JOIN account a ON a.id = m.account WHERE a.email = ?", STAFF_EMAIL) == [
        {"name": "Dora Schäfer", "password_hash": None, "role": "staff", "resource_key": "ben"}]
    assert rows(demo.database, "SELECT count(*) AS n FROM outbox_message WHERE event = 'invitation' "
                               "AND recipient = ?", STAFF_EMAIL)[0]["n"] == 1

    # --- API-Schlüssel: create one, shown once, stored as its hash --------------------------------
    nav(page, "Team & Schlüssel", "API-Schlüssel")
    expect(page.get_by_role("heading", level=1)).to_have_text("API-Schlüssel")
    create = page.get_by_role("region", name="Schlüssel erstellen")
    create.get_by_label("Name").fill("Kalender-Abgleich")
    create.get_by_label("bookings:read").check()
    step(page, axe_source, "API-Schlüssel")
    create.get_by_role("button", name="Schlüssel erstellen").click()
    expect(page.get_by_role("status")).to_contain_text("Ihr neuer Schlüssel „Kalender-Abgleich“.")
    secret = page.get_by_label("Der neue Schlüssel").input_value()
    assert re.fullmatch(r"sw_live_[A-Za-z0-9_-]+", secret), secret
    page.get_by_role("button", name="Kopieren").click()
    expect(page.get_by_role("button", name="Kopiert")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    step(page, axe_source, "neuer API-Schlüssel")
    [key] = rows(demo.database, "SELECT * FROM api_key WHERE name = ?", "Kalender-Abgleich")
    assert key["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert json.loads(key["scopes"]) == ["bookings:read"] and key["revoked_at"] is None
    assert not any(isinstance(value, str) and secret in value for value in key.values())  # never the secret
    assert secret.startswith(key["hint"]) and len(key["hint"]) < len(secret) // 2
