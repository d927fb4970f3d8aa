"""The back office's team, API keys, CSV import and bookings export over HTTP, on both databases."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re

from slotwise.domain.access import Role
from slotwise.domain.actors import Actor
from slotwise.persistence import accounts as store
from slotwise.persistence.tables import Account as AccountTable
from slotwise.persistence.tables import ApiKey as ApiKeyTable
from slotwise.persistence.tables import AuditEntry
from slotwise.persistence.tables import Membership as MembershipTable
from slotwise.persistence.tables import OutboxMessage
from slotwise.persistence.tables import Resource as ResourceTable
from slotwise.services import accounts
from slotwise.services.sites import apply_site

from tests.integration.test_back_office import book, member, signed_in, sites  # noqa: F401 (fixture)
from tests.support.sitefiles import TEST_SITE, parse_test_site

TEAM = "/admin/sites/test-physio/team"
KEYS = "/admin/sites/test-physio/keys"
IMPORT = "/admin/sites/test-physio/import"
EXPORT = "/admin/sites/test-physio/export"
RESOURCES = (
    "key,name,kind,hours\r\n"
    "mia,<b>Mia</b> Sommer,person,mon-fri=09:00-12:00\r\n"
)


async def account_id(email: str) -> str:
    row = await AccountTable.select(AccountTable.public_id).where(AccountTable.email == email).first()
    return row["public_id"]


async def role_of(email: str) -> str | None:
    row = await MembershipTable.select(MembershipTable.role).where(
        MembershipTable.account.email == email).first()
    return row["role"] if row else None


# --- who may ---------------------------------------------------------------------------------


async def test_team_keys_are_for_owners_import_for_managers_and_another_site_is_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "manager@example.com", role=Role.MANAGER)
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await signed_in(client, "owner@example.com")
    for path in (TEAM, KEYS, IMPORT, EXPORT):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store"
    for path in ("/admin/sites/other-studio/team", "/admin/sites/other-studio/keys",
                 "/admin/sites/other-studio/import", "/admin/sites/other-studio/export"):
        assert (await client.get(path)).status_code == 404, path
    token = await signed_in(client, "manager@example.com")
    assert (await client.get(TEAM)).status_code == 403
    assert (await client.get(KEYS)).status_code == 403
    assert (await client.post(KEYS, data={"name": "x", "scopes": "bookings:read", "csrf": token})).status_code == 403
    assert (await client.post(TEAM, data={"email": "x@example.com", "role": "owner", "csrf": token})).status_code \
        == 403
    assert (await client.get(IMPORT)).status_code == 200
    day = await client.get("/admin/sites/test-physio")
    assert "/team" not in day.text and "/keys" not in day.text and "/import" in day.text
    token = await signed_in(client, "ben@example.com")
    assert (await client.get(IMPORT)).status_code == 403
    owner = await account_id("owner@example.com")
    assert (await client.post(f"{TEAM}/{owner}/remove", data={"csrf": token})).status_code == 403
    assert await role_of("owner@example.com") == "owner"


async def test_a_form_without_csrf_is_refused(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await signed_in(client, "owner@example.com")
    answer = await client.post(KEYS, data={"name": "x", "scopes": "bookings:read"})
    assert answer.status_code == 403
    assert await ApiKeyTable.count() == 0


# --- team --------------------------------------------------------------------------------------


async def test_an_owner_invites_staff_through_the_outbox_and_sees_the_invitation_pending(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(TEAM, data={"email": "new@example.com", "name": "<i>Neu</i>", "role": "staff",
                                           "resource": "anna", "csrf": token})
    assert answer.status_code == 303
    page = await client.get(answer.headers["location"])
    assert "new@example.com" in page.text and "Invitation pending" in page.text
    assert "<i>Neu</i>" not in page.text and "&lt;i&gt;Neu&lt;/i&gt;" in page.text
    queued = await OutboxMessage.select(OutboxMessage.event, OutboxMessage.recipient).where(
        OutboxMessage.recipient == "new@example.com")
    assert [row["event"] for row in queued] == ["invitation"]
    row = await MembershipTable.select(MembershipTable.role, MembershipTable.resource_key).where(
        MembershipTable.account.email == "new@example.com").first()
    assert row == {"role": "staff", "resource_key": "anna"}


async def test_bad_invitations_show_inline_errors_and_change_nothing(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    for data, field in (({"email": "", "role": "viewer"}, "e-email"),
                        ({"email": "not-an-address", "role": "viewer"}, "e-email"),
                        ({"email": "s@example.com", "role": "staff"}, "e-resource"),
                        ({"email": "s@example.com", "role": "staff", "resource": "room-1"}, "e-resource"),
                        ({"email": "s@example.com", "role": "emperor"}, None)):
        answer = await client.post(TEAM, data={**data, "csrf": token})
        assert answer.status_code == 422, (data, answer.text[:300])
        assert 'role="alert"' in answer.text
        if field:
            assert f'id="{field}"' in answer.text
    assert await AccountTable.count() == 1


async def test_change_role_and_remove_with_a_confirm_step_are_audited(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "v@example.com", role=Role.VIEWER)
    token = await signed_in(client, "owner@example.com")
    viewer = await account_id("v@example.com")
    answer = await client.post(f"{TEAM}/{viewer}/role", data={"role": "staff", "resource": "ben", "csrf": token})
    assert answer.status_code == 303
    assert await role_of("v@example.com") == "staff"
    confirm = await client.get(f"{TEAM}/{viewer}/remove")
    assert confirm.status_code == 200 and "v@example.com" in confirm.text
    assert await role_of("v@example.com") == "staff"  # the confirm page changes nothing
    answer = await client.post(f"{TEAM}/{viewer}/remove", data={"csrf": token})
    assert answer.status_code == 303
    assert await role_of("v@example.com") is None
    assert await AccountTable.count() == 2  # the account stays: it may belong to other sites
    kinds = await AuditEntry.select(AuditEntry.action).where(
        (AuditEntry.object_kind == "membership") & (AuditEntry.object_ref == viewer)).order_by(AuditEntry.id)
    assert [row["action"] for row in kinds][-2:] == ["changed", "removed"]


async def test_the_last_owner_can_be_neither_removed_nor_demoted_but_one_of_two_can(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    me = await account_id("owner@example.com")
    answer = await client.post(f"{TEAM}/{me}/remove", data={"csrf": token})
    assert answer.status_code == 409 and "at least one owner" in answer.text
    answer = await client.post(f"{TEAM}/{me}/role", data={"role": "viewer", "csrf": token})
    assert answer.status_code == 409
    assert await role_of("owner@example.com") == "owner"
    answer = await client.post(f"{TEAM}/{me}/role", data={"role": "staff", "csrf": token})
    assert answer.status_code == 422
    await member(settings, clock, "second@example.com")
    other = await account_id("second@example.com")
    assert (await client.post(f"{TEAM}/{other}/remove", data={"csrf": token})).status_code == 303
    assert await role_of("second@example.com") is None


async def test_another_sites_member_is_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "theirs@example.com", site="other-studio")
    token = await signed_in(client, "owner@example.com")
    theirs = await account_id("theirs@example.com")
    assert (await client.get(f"{TEAM}/{theirs}/remove")).status_code == 404
    assert (await client.post(f"{TEAM}/{theirs}/remove", data={"csrf": token})).status_code == 404
    assert (await client.post(f"{TEAM}/{theirs}/role", data={"role": "viewer", "csrf": token})).status_code == 404


# --- keys --------------------------------------------------------------------------------------


async def test_a_key_is_shown_once_works_on_the_api_and_revoked_with_a_confirm_step(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    answer = await client.post(KEYS, data={"name": "<script>Sync</script>", "scopes": ["bookings:read"],
                                           "expires": "2027-01-31", "csrf": token})
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-key"[^>]*value="(sw_[A-Za-z0-9_-]+)"', answer.text).group(1)
    assert "<script>Sync</script>" not in answer.text
    api = "/api/v1/admin/sites/test-physio/bookings"
    assert (await client.get(api, headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    listing = await client.get(KEYS)
    assert secret not in listing.text and secret[:8] in listing.text
    row = await ApiKeyTable.select(ApiKeyTable.public_id, ApiKeyTable.expires_at).first()
    assert row["expires_at"].date().isoformat() in ("2027-01-31", "2027-02-01")
    confirm = await client.get(f"{KEYS}/{row['public_id']}/revoke")
    assert confirm.status_code == 200
    assert (await client.get(api, headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    assert (await client.post(f"{KEYS}/{row['public_id']}/revoke", data={"csrf": token})).status_code == 303
    assert (await client.get(api, headers={"Authorization": f"Bearer {secret}"})).status_code == 401
    assert "Revoked" in (await client.get(KEYS)).text


async def test_bad_keys_show_inline_errors_and_another_sites_key_is_not_found(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "owner@example.com", site="other-studio")
    token = await signed_in(client, "owner@example.com")
    for data, field in (({"name": "", "scopes": ["bookings:read"]}, "e-name"),
                        ({"name": "x" * 201, "scopes": ["bookings:read"]}, "e-name"),
                        ({"name": "No scopes"}, "e-scopes"),
                        ({"name": "Bad scope", "scopes": ["root"]}, "e-scopes"),
                        ({"name": "Past", "scopes": ["bookings:read"], "expires": "2020-01-01"}, "e-expires"),
                        ({"name": "Garbage", "scopes": ["bookings:read"], "expires": "soon"}, "e-expires")):
        answer = await client.post(KEYS, data={**data, "csrf": token})
        assert answer.status_code == 422, (data, answer.text[:300])
        assert f'id="{field}"' in answer.text
    assert await ApiKeyTable.count() == 0
    created = await client.post("/admin/sites/other-studio/keys", data={
        "name": "Theirs", "scopes": ["bookings:read"], "csrf": token})
    assert created.status_code == 201
    theirs = (await ApiKeyTable.select(ApiKeyTable.public_id).first())["public_id"]
    assert (await client.get(f"{KEYS}/{theirs}/revoke")).status_code == 404
    assert (await client.post(f"{KEYS}/{theirs}/revoke", data={"csrf": token})).status_code == 404
    assert (await ApiKeyTable.select(ApiKeyTable.revoked_at).first())["revoked_at"] is None


# --- import and export -------------------------------------------------------------------------


async def test_import_previews_then_applies_the_same_sheet_once(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    preview = await client.post(IMPORT, data={"kind": "resources", "csrf": token},
                                files={"file": ("team.csv", RESOURCES.encode(), "text/csv")})
    assert preview.status_code == 200, preview.text[:500]
    assert "<b>Mia</b>" not in preview.text and "Apply the import" in preview.text
    assert await ResourceTable.count().where(ResourceTable.key == "mia") == 0
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text))
    form = {name: html.unescape(value) for name, value in form.items()}
    assert form["sheet"].replace("\r\n", "\n").strip() == RESOURCES.replace("\r\n", "\n").strip()
    for _ in range(2):  # a second click replays the first
        applied = await client.post(f"{IMPORT}/apply", data=form)
        assert applied.status_code == 303
    assert await ResourceTable.count().where(ResourceTable.key == "mia") == 1
    assert "1 new" in (await client.get(applied.headers["location"])).text


async def test_import_shows_row_and_column_errors_and_writes_nothing(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    token = await signed_in(client, "owner@example.com")
    bad = "key,name,kind,hours\r\nmia,Mia,person,mon=25:00-26:00\r\n,No key,person,\r\n"
    preview = await client.post(IMPORT, data={"kind": "resources", "csrf": token},
                                files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert preview.status_code == 422
    assert "Column hours" in preview.text and "Apply the import" not in preview.text
    empty = await client.post(IMPORT, data={"kind": "resources", "csrf": token},
                              files={"file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 422 and 'id="e-file"' in empty.text
    forged = await client.post(f"{IMPORT}/apply", data={"kind": "resources", "sheet": bad, "csrf": token})
    assert forged.status_code == 422 and "Column hours" in forged.text
    assert await ResourceTable.count().where(ResourceTable.key == "mia") == 0


async def test_export_streams_the_range_and_bad_dates_show_the_form(client, settings, clock):
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "ben@example.com", role=Role.STAFF, resource="ben")
    await book(client, start="2026-11-24T09:00:00+01:00", service="assessment", name="Anna Kundin",
               resource="anna")
    await book(client, start="2026-11-24T11:00:00+01:00", service="assessment", name="=Ben Kunde",
               resource="ben")
    await signed_in(client, "owner@example.com")
    answer = await client.get(f"{EXPORT}/bookings.csv", params={"from": "2026-11-24", "to": "2026-11-24"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert len(rows) == 3
    assert "'=Ben Kunde" in answer.text  # a formula is neutralised
    outside = await client.get(f"{EXPORT}/bookings.csv", params={"from": "2026-11-25", "to": "2026-11-30"})
    assert len(list(csv.reader(io.StringIO(outside.text.lstrip("\ufeff"))))) == 1
    bad = await client.get(f"{EXPORT}/bookings.csv", params={"from": "yesterday", "to": "2026-11-24"})
    assert bad.status_code == 422 and 'id="e-from"' in bad.text
    missing = await client.get(f"{EXPORT}/bookings.csv", params={"from": "2026-11-24"})
    assert missing.status_code == 422 and 'id="e-to"' in missing.text
    await signed_in(client, "ben@example.com")
    theirs = await client.get(f"{EXPORT}/bookings.csv", params={"from": "2026-11-24", "to": "2026-11-24"})
    assert theirs.status_code == 200 and "Ben Kunde" in theirs.text and "Anna Kundin" not in theirs.text


async def test_a_sandbox_sites_keys_are_test_keys(client, settings, clock):
    sandbox = TEST_SITE.replace('slug = "test-physio"', 'slug = "sandbox-physio"\nsandbox = true')
    await apply_site(parse_test_site(sandbox), actor=Actor.system("tests"), now=clock())
    await member(settings, clock, "owner@example.com")
    await member(settings, clock, "owner@example.com", site="sandbox-physio")
    token = await signed_in(client, "owner@example.com")
    made = {}
    for site in ("test-physio", "sandbox-physio"):
        answer = await client.post(f"/admin/sites/{site}/keys", data={
            "name": "Try", "scopes": ["bookings:read"], "csrf": token})
        assert answer.status_code == 201
        made[site] = re.search(r'id="new-key"[^>]*value="([^"]+)"', answer.text).group(1)
    assert made["test-physio"].startswith("sw_live_") and made["sandbox-physio"].startswith("sw_test_")


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(settings, clock, monkeypatch):
    await member(settings, clock, "a@example.com")
    await member(settings, clock, "b@example.com")
    first, second = await account_id("a@example.com"), await account_id("b@example.com")
    # Each demotion, once it has counted the owners, waits (up to a second) for the other to
    # have counted too: without a lock both would count two owners and both would go through.
    counted = asyncio.Barrier(2)
    real_count = store.owner_count

    async def count_then_wait(site_id: int) -> int:
        found = await real_count(site_id)
        try:
            await asyncio.wait_for(counted.wait(), 1)
        except TimeoutError:
            pass
        return found

    monkeypatch.setattr(store, "owner_count", count_then_wait)
    results = await asyncio.gather(*(
        accounts.change_member("test-physio", target, role="viewer", resource=None, actor=Actor.system("tests"),
                               now=clock())
        for target in (first, second)), return_exceptions=True)
    assert sorted(type(result).__name__ for result in results) == ["LastOwner", "Membership"]
    assert await MembershipTable.count().where(MembershipTable.role == "owner") == 1


async def test_an_owner_who_steps_down_or_leaves_lands_where_they_still_may_go(client, settings, clock):
    await member(settings, clock, "a@example.com")
    await member(settings, clock, "b@example.com")
    token = await signed_in(client, "a@example.com")
    me = await account_id("a@example.com")
    answer = await client.post(f"{TEAM}/{me}/role", data={"role": "manager", "csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/sites/test-physio"
    assert (await client.get(TEAM)).status_code == 403
    token = await signed_in(client, "b@example.com")
    me = await account_id("b@example.com")
    assert (await client.post(f"{TEAM}/{me}/remove", data={"csrf": token})).status_code == 409  # the last owner
    await member(settings, clock, "a@example.com")
    answer = await client.post(f"{TEAM}/{me}/remove", data={"csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    assert await role_of("b@example.com") is None
