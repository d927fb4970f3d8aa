"""The back office's team, keys, import and export in Chromium, on the demo: an owner invites a staff member
(the invitation arrives in the development outbox; the new member sets a password and signs in as staff),
creates an API key (shown once, copied; it answers on the admin API), previews and applies a CSV import,
and downloads the bookings. axe-core on every page; screenshots at 1280 and 390 px, English and German."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import SITE
from e2e.pages import assert_accessible, open_back_office_page, sign_out
from e2e import test_back_office as base
from e2e.test_back_office import SHOTS, Demo, assert_fits, sign_in

demo = base.demo  # the same fixture: the demo served on a fresh database (one per module)

NAV = re.compile("Back office|Verwaltung")
SHEET = "key,name,kind,hours\r\ncarla-room,Carla's <b>Room</b>,room,mon-fri=09:00-17:00\r\n"


def query(demo: Demo, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(demo.database) as db:
        return db.execute(sql, args).fetchall()


def test_the_owner_invites_a_staff_member_who_sets_a_password_and_signs_in_as_staff(
        page: Page, demo: Demo, axe_source: str):
    sign_in(page, demo)
    open_back_office_page(page, "Team & keys")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    assert_accessible(page, axe_source, "team")
    expect(page.get_by_role("cell", name=re.compile(re.escape(demo.email))).first).to_be_visible()

    # Staff without a person: an inline error, nothing stored.
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email").fill("carla@harbour-physio.example")
    invite.get_by_label("Role").select_option("staff")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#e-resource")).to_be_visible()
    assert_accessible(page, axe_source, "team with an error")
    assert query(demo, "SELECT count(*) FROM account WHERE email = ?", "carla@harbour-physio.example") == [(0,)]

    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Name (optional)").fill("Carla <i>Neu</i>")
    invite.get_by_label("Works as (staff only)").select_option("anna")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("The invitation is on its way.")
    expect(page.get_by_role("row", name=re.compile("carla@harbour-physio.example"))).to_contain_text(
        "Invitation pending")
    expect(page.get_by_text("Carla <i>Neu</i>")).to_be_visible()  # shown as typed, not as markup
    assert query(demo, "SELECT m.role, m.resource_key FROM membership m JOIN account a ON a.id = m.account "
                       "WHERE a.email = ?", "carla@harbour-physio.example") == [("staff", "anna")]
    assert query(demo, "SELECT count(*) FROM outbox_message WHERE event = 'invitation' AND recipient = ?",
                 "carla@harbour-physio.example") == [(1,)]

    # The invitation in the outbox carries the link; Carla sets her password and signs in as staff.
    sign_out(page)
    page.goto(f"{demo.base}/dev/messages/")
    message = page.get_by_test_id("dev-message").filter(has_text="carla@harbour-physio.example")
    expect(message).to_have_count(1)
    link = re.search(r"https?://\S+/admin/set-password/[A-Za-z0-9_-]+", message.inner_text()).group(0)
    page.goto(link)
    page.get_by_label("New password").fill("carla-password-2026")
    page.get_by_label("The same again").fill("carla-password-2026")
    page.get_by_role("button", name="Set password").click()
    page.get_by_label("Email address").fill("carla@harbour-physio.example")
    page.get_by_label("Password").fill("carla-password-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/admin/sites/{SITE}$"))
    expect(page.locator(".col-head[id^=col-]")).to_have_count(1)
    expect(page.locator("#col-anna")).to_be_visible()
    nav = page.get_by_role("navigation", name=NAV)
    # hidden ones too: at this width the groups are folded into the closed menu
    expect(nav.get_by_role("link", name="Team", include_hidden=True)).to_have_count(0)
    page.goto(f"{demo.base}/admin/sites/{SITE}/team")
    assert page.locator("h1").inner_text() != "Team"  # staff get the forbidden page
    assert query(demo, "SELECT password_hash IS NOT NULL FROM account WHERE email = ?",
                 "carla@harbour-physio.example") == [(1,)]


def test_the_owner_creates_an_api_key_that_answers_on_the_admin_api_and_revokes_it(
        page: Page, demo: Demo, axe_source: str):
    sign_in(page, demo)
    open_back_office_page(page, "Team & keys", "API keys")
    assert_accessible(page, axe_source, "keys")
    create = page.get_by_role("region", name="Create a key")
    create.get_by_label("Name").fill("Front desk <sync>")
    create.get_by_label("bookings:read").check()
    create.get_by_role("button", name="Create key").click()
    secret_field = page.locator("#new-key")
    expect(secret_field).to_be_visible()
    assert_accessible(page, axe_source, "keys with the new key")
    secret = secret_field.input_value()
    assert re.fullmatch(r"sw_(live|test)_[A-Za-z0-9_-]+", secret), secret
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.base)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()

    request = urllib.request.Request(f"{demo.base}/api/v1/admin/sites/{SITE}/bookings",
                                     headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        assert "data" in json.loads(answer.read())
    [(key_id, name, scopes)] = query(demo, "SELECT public_id, name, scopes FROM api_key WHERE name = ?",
                                     "Front desk <sync>")
    assert json.loads(scopes) == ["bookings:read"]

    # Shown once: the list names it by its hint only.
    page.goto(f"{demo.base}/admin/sites/{SITE}/keys")
    expect(page.locator("#new-key")).to_have_count(0)
    assert secret not in page.content()
    row = page.get_by_role("row", name=re.compile("Front desk <sync>"))
    row.get_by_role("link", name="Revoke…").click()
    assert_accessible(page, axe_source, "revoke a key")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_role("status")).to_contain_text("The key was revoked")
    assert query(demo, "SELECT revoked_at IS NOT NULL FROM api_key WHERE public_id = ?", key_id) == [(1,)]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_the_owner_previews_and_applies_a_csv_import_and_downloads_the_bookings(
        page: Page, demo: Demo, axe_source: str, tmp_path):
    sign_in(page, demo)
    open_back_office_page(page, "Catalog", "Import")
    assert_accessible(page, axe_source, "import")
    sheet = tmp_path / "rooms.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    page.get_by_label("Resources").check()
    page.get_by_label(re.compile("^CSV file")).set_input_files(str(sheet))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview: Resources")).to_be_visible()
    expect(page.get_by_role("cell", name="carla-room")).to_be_visible()
    assert_accessible(page, axe_source, "import preview")
    assert query(demo, "SELECT count(*) FROM resource WHERE key = 'carla-room'") == [(0,)]
    page.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 1 new, 0 changed.")
    assert query(demo, "SELECT count(*) FROM resource WHERE key = 'carla-room'") == [(1,)]

    open_back_office_page(page, "Bookings", "Export")
    assert_accessible(page, axe_source, "export")
    page.get_by_label("From").fill("2020-01-01")
    page.get_by_label("To").fill("2030-12-31")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    body = download.value.path().read_text(encoding="utf-8-sig")
    [(count,)] = query(demo, "SELECT count(*) FROM booking")
    assert len(body.strip().splitlines()) == count + 1 and count > 0


@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_team_keys_import_and_export(new_context, demo: Demo, axe_source: str, locale: str,
                                                    width: int, tmp_path):
    context = new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="Europe/Berlin")
    page = context.new_page()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo)
    for name, path in (("team", "team"), ("keys", "keys"), ("import", "import"), ("export", "export")):
        page.goto(f"{demo.base}/admin/sites/{SITE}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_accessible(page, axe_source, f"{name} {lang} {width}")
        page.screenshot(path=SHOTS / f"{name}-{lang}-{width}.png", full_page=True)
        assert_fits(page, width)
    page.goto(f"{demo.base}/admin/sites/{SITE}/keys")
    page.locator("#k-name").fill(f"Screenshot {lang} {width}")
    page.locator("input[name=scopes]").first.check()
    page.locator("form[action$='/keys'] button[type=submit]").click()
    expect(page.locator("#new-key")).to_be_visible()
    assert_accessible(page, axe_source, f"new key {lang} {width}")
    page.screenshot(path=SHOTS / f"keys-new-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
    sheet = tmp_path / "bad.csv"
    sheet.write_text("key,name,kind,hours\r\nx-room,X,room,mon=25:00-26:00\r\n", encoding="utf-8")
    page.goto(f"{demo.base}/admin/sites/{SITE}/import")
    page.locator("#u-file").set_input_files(str(sheet))
    page.locator("form[action$='/import'] button[type=submit]").click()
    expect(page.locator("tr.row-error")).to_have_count(1)
    assert_accessible(page, axe_source, f"import errors {lang} {width}")
    page.screenshot(path=SHOTS / f"import-errors-{lang}-{width}.png", full_page=True)
    assert_fits(page, width)
