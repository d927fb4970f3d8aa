"""`slotwise account add` and `slotwise account list`, run as the real command against this run's database."""

from __future__ import annotations

import re

import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Account, Membership
from slotwise.services import accounts
from slotwise.services.sites import apply_site

from tests.support.config import BASE_URL
from tests.support.sitefiles import parse_test_site

LINK = re.compile(re.escape(BASE_URL) + r"/admin/set-password/([A-Za-z0-9_-]{43})")


@pytest.fixture(autouse=True)
async def site(clock):
    await apply_site(parse_test_site(), actor=Actor.system("tests"), now=clock())


async def test_account_add_prints_what_it_did_and_a_working_set_password_url_last(slotwise, clock):
    done = slotwise("account", "add", "Anna@Example.com", "--site", "test-physio", "--role", "staff",
                    "--resource", "anna", "--name", "Anna Berg")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"account acc_[0-9a-f]{20} anna@example\.com: created", lines[0])
    assert lines[1] == "membership of test-physio: staff (resource anna), added"
    token = LINK.fullmatch(lines[-1]).group(1)
    account = await accounts.set_password(token, "correct horse battery", now=clock())
    assert account.email == "anna@example.com" and account.name == "Anna Berg"


async def test_account_add_again_keeps_the_account_and_changes_the_role(slotwise):
    slotwise("account", "add", "anna@example.com", "--site", "test-physio", "--role", "viewer")

    again = slotwise("account", "add", "anna@example.com", "--site", "test-physio", "--role", "owner")

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].endswith("anna@example.com: exists")
    assert again.stdout.splitlines()[1] == "membership of test-physio: owner, changed"
    assert LINK.fullmatch(again.stdout.splitlines()[-1])
    assert await Account.count() == 1
    assert await Membership.select(Membership.role) == [{"role": "owner"}]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--site", "nowhere", "--role", "owner"], 1, "site 'nowhere' not found"),
    (["--site", "test-physio", "--role", "staff"], 1, "must be bound to a person resource"),
    (["--site", "test-physio", "--role", "staff", "--resource", "nobody"], 1, "resource 'nobody' not found"),
    (["--site", "test-physio", "--role", "staff", "--resource", "room-1"], 1, "person resource"),
    (["--site", "test-physio", "--role", "boss"], 2, "invalid choice: 'boss'"),
])
async def test_account_add_refuses_what_cannot_be_with_a_clear_message(slotwise, args, code, message):
    done = slotwise("account", "add", "anna@example.com", *args)

    assert done.returncode == code
    assert message in done.stderr
    assert done.stdout == ""
    assert await Account.count() == 0


async def test_account_list_shows_accounts_and_their_memberships_but_no_secrets(slotwise):
    slotwise("account", "add", "zoe@example.com", "--site", "test-physio", "--role", "owner", "--name", "Zoe")
    slotwise("account", "add", "anna@example.com", "--site", "test-physio", "--role", "staff",
             "--resource", "anna")

    listed = slotwise("account", "list", "--site", "test-physio")

    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [re.sub(r"acc_[0-9a-f]{20}", "acc_…", line) for line in lines] == [
        "acc_…  anna@example.com  invited",
        "    test-physio: staff (resource anna)",
        "acc_…  zoe@example.com (Zoe)  invited",
        "    test-physio: owner",
    ]
    assert "argon2" not in listed.stdout and "set-password" not in listed.stdout
    unknown = slotwise("account", "list", "--site", "nowhere")
    assert unknown.returncode == 1 and "site 'nowhere' not found" in unknown.stderr
