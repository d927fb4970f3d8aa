"""Owner accounts through their services: members, one-time links, passwords, sign-in, sessions."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from slotwise.domain.access import Role
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import (
    TABLES,
    Account,
    AccountSession,
    Membership,
    OutboxMessage,
    SignInFailure,
)
from slotwise.services import accounts
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import filled_content
from slotwise.services.errors import (
    InvalidInput,
    LinkInvalid,
    MembershipRefused,
    NotFound,
    SignInFailed,
    SignInThrottled,
)
from slotwise.services.sites import apply_site

from tests.support.config import BASE_URL, SECRET_KEY
from tests.support.sitefiles import TEST_SITE, parse_test_site

ADMIN = Actor.system("tests")
PASSWORD = "correct horse battery"
CLIENT = "203.0.113.7"
LINK = re.compile(re.escape(BASE_URL) + r"/admin/set-password/([A-Za-z0-9_-]{43})")


@pytest.fixture
def config(settings) -> ServiceConfig:
    return ServiceConfig.from_settings(settings)


@pytest.fixture(autouse=True)
async def site(clock):
    await apply_site(parse_test_site(), actor=ADMIN, now=clock())


async def add(config, clock, email="anna@example.com", role="owner", resource=None, **options):
    return await accounts.add_member(email, site_slug="test-physio", role=role, resource=resource,
                                     actor=ADMIN, now=clock(), config=config, **options)


def token_of(url: str) -> str:
    return LINK.fullmatch(url).group(1)


async def owner_with_password(config, clock, email="anna@example.com") -> str:
    added = await add(config, clock, email)
    await accounts.set_password(token_of(added.link_url), PASSWORD, now=clock())
    return email


async def sent_link(event: str) -> tuple[str, dict]:
    """The link in the newest queued email of ``event``, filled in as the worker fills it."""
    row = await OutboxMessage.select().where(OutboxMessage.event == event).order_by(
        OutboxMessage.id, ascending=False).first().output(load_json=True)
    content = await filled_content(row, SECRET_KEY)
    [url] = set(LINK.findall(content["text"]))
    assert f"{BASE_URL}/admin/set-password/{url}" in content["html"]
    return url, row


# --- members ------------------------------------------------------------------------------------


async def test_adding_an_account_twice_keeps_one_account_and_changes_its_role_in_place(config, clock):
    first = await add(config, clock, "Anna@Example.com", name="Anna Berg")
    again = await add(config, clock, " anna@example.COM", role="staff", resource="anna")
    same = await add(config, clock, "anna@example.com", role="staff", resource="anna")

    assert first.account_created and first.membership_change == "added"
    assert not again.account_created and again.membership_change == "changed"
    assert same.membership_change == "unchanged"
    assert first.account.public_id == again.account.public_id == same.account.public_id
    assert re.fullmatch(r"acc_[0-9a-f]{20}", first.account.public_id)
    assert await Account.select(Account.email, Account.name) == [
        {"email": "anna@example.com", "name": "Anna Berg"}]
    assert await Membership.select(Membership.role, Membership.resource_key) == [
        {"role": "staff", "resource_key": "anna"}]


@pytest.mark.parametrize(("role", "resource", "error"), [
    ("staff", None, MembershipRefused),  # staff are bound to a person
    ("staff", "room-1", MembershipRefused),  # a room is not a person
    ("staff", "nobody", NotFound),
    ("owner", "anna", MembershipRefused),  # only staff have a resource
    ("admin", None, MembershipRefused),
])
async def test_a_membership_must_make_sense_or_nothing_is_written(config, clock, role, resource, error):
    with pytest.raises(error):
        await add(config, clock, role=role, resource=resource)

    assert await Account.count() == 0


async def test_an_unknown_site_or_a_bad_email_adds_nobody(config, clock):
    with pytest.raises(NotFound):
        await accounts.add_member("anna@example.com", site_slug="nowhere", role="owner", actor=ADMIN,
                                  now=clock(), config=config)
    with pytest.raises(InvalidInput):
        await add(config, clock, "not an email")
    assert await Account.count() == 0


async def test_members_are_listed_per_site_with_all_their_memberships(config, clock):
    other = TEST_SITE.replace('slug = "test-physio"', 'slug = "other"')
    await apply_site(parse_test_site(other), actor=ADMIN, now=clock())
    await add(config, clock, "anna@example.com", role="staff", resource="anna")
    await accounts.add_member("anna@example.com", site_slug="other", role="viewer", actor=ADMIN,
                              now=clock(), config=config)
    await accounts.add_member("zoe@example.com", site_slug="other", role="owner", actor=ADMIN,
                              now=clock(), config=config)

    [anna] = await accounts.list_members("test-physio")
    everyone = await accounts.list_members()

    assert anna.account.email == "anna@example.com"
    assert [(m.site_slug, m.role, m.resource) for m in anna.memberships] == [
        ("other", Role.VIEWER, None), ("test-physio", Role.STAFF, "anna")]
    assert [m.account.email for m in everyone] == ["anna@example.com", "zoe@example.com"]


# --- one-time links and passwords ---------------------------------------------------------------


async def test_an_invitation_link_sets_the_password_once(config, clock):
    added = await add(config, clock)
    token = token_of(added.link_url)

    info = await accounts.check_link(token, now=clock())
    account = await accounts.set_password(token, PASSWORD, now=clock())

    assert info.account.email == "anna@example.com" and info.purpose == "invitation"
    assert account.has_password
    with pytest.raises(LinkInvalid) as used:
        await accounts.set_password(token, "another password", now=clock())
    assert used.value.reason == "used"
    signed_in = await accounts.sign_in("anna@example.com", PASSWORD, client_address=CLIENT, now=clock())
    assert signed_in.account.public_id == added.account.public_id


@pytest.mark.parametrize(("purpose", "lifetime"), [("invitation", timedelta(days=7)),
                                                   ("reset", timedelta(hours=1))])
async def test_a_link_expires_after_its_lifetime(config, clock, purpose, lifetime):
    added = await add(config, clock)
    if purpose == "reset":
        await accounts.request_password_reset("anna@example.com", now=clock(), config=config)
        token, _ = await sent_link("password-reset")
    else:
        token = token_of(added.link_url)

    clock.advance(lifetime - timedelta(seconds=1))
    await accounts.check_link(token, now=clock())
    clock.advance(timedelta(seconds=1))

    with pytest.raises(LinkInvalid) as expired:
        await accounts.set_password(token, PASSWORD, now=clock())
    assert expired.value.reason == "expired"


async def test_a_made_up_link_is_refused(clock):
    with pytest.raises(LinkInvalid) as unknown:
        await accounts.set_password("x" * 43, PASSWORD, now=clock())
    assert unknown.value.reason == "unknown"


async def test_a_short_password_is_refused_and_the_link_stays_usable(config, clock):
    token = token_of((await add(config, clock)).link_url)

    with pytest.raises(InvalidInput) as short:
        await accounts.set_password(token, "short", now=clock())

    assert short.value.problems[0].code == "password-too-short"
    await accounts.check_link(token, now=clock())


async def test_tokens_and_passwords_are_stored_only_as_hashes(config, clock):
    added = await add(config, clock, send_invitation=True)
    link_token = token_of(added.link_url)
    await accounts.set_password(link_token, PASSWORD, now=clock())
    session_token = (await accounts.sign_in("anna@example.com", PASSWORD, client_address=CLIENT,
                                            now=clock())).token

    # Every row of every table, as text.
    stored = " ".join([str(await table.select().output(load_json=True)) for table in TABLES])
    for secret in (link_token, session_token, PASSWORD):
        assert secret not in stored
    assert hashlib.sha256(link_token.encode()).hexdigest() in stored
    assert hashlib.sha256(session_token.encode()).hexdigest() in stored
    [row] = await Account.select(Account.password_hash)
    assert row["password_hash"].startswith("$argon2id$")


# --- emails -------------------------------------------------------------------------------------


async def test_an_invitation_is_emailed_with_a_link_that_works(config, clock):
    await add(config, clock, name="Anna Berg", send_invitation=True)

    token, row = await sent_link("invitation")

    assert row["recipient"] == "anna@example.com"
    assert row["content"]["subject"] == "You are invited to Test Physio on Slotwise"
    assert "as owner" in row["content"]["text"] and "7 days" in row["content"]["text"]
    await accounts.set_password(token, PASSWORD, now=clock())


async def test_an_invitation_from_a_german_site_is_in_german(config, clock):
    german = TEST_SITE.replace('slug = "test-physio"', 'slug = "praxis"').replace(
        'locale = "en"', 'locale = "de"')
    await apply_site(parse_test_site(german), actor=ADMIN, now=clock())
    await accounts.add_member("jonas@example.com", site_slug="praxis", role="staff", resource="anna",
                              actor=ADMIN, now=clock(), config=config)

    _, row = await sent_link("invitation")

    assert row["content"]["subject"] == "Einladung zu Test Physio bei Slotwise"
    assert "Rolle: Mitarbeiter" in row["content"]["text"]
    assert '<html lang="de">' in row["content"]["html"]


async def test_a_reset_is_emailed_only_to_an_existing_account_and_answers_the_same_otherwise(config, clock):
    await owner_with_password(config, clock)

    await accounts.request_password_reset("nobody@example.com", now=clock(), config=config)
    assert await OutboxMessage.count().where(OutboxMessage.event == "password-reset") == 0
    await accounts.request_password_reset("ANNA@example.com", now=clock(), config=config)

    token, row = await sent_link("password-reset")
    assert row["recipient"] == "anna@example.com"
    assert row["content"]["subject"] == "Reset your Slotwise password"
    await accounts.set_password(token, "a new passphrase", now=clock())


async def test_a_reset_signs_the_account_out_everywhere(config, clock):
    email = await owner_with_password(config, clock)
    laptop = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    phone = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())

    await accounts.request_password_reset(email, now=clock(), config=config)
    token, _ = await sent_link("password-reset")
    await accounts.set_password(token, "a new passphrase", now=clock())

    assert await accounts.current_session(laptop.token, now=clock()) is None
    assert await accounts.current_session(phone.token, now=clock()) is None
    with pytest.raises(SignInFailed):
        await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    await accounts.sign_in(email, "a new passphrase", client_address=CLIENT, now=clock())


# --- sign-in ------------------------------------------------------------------------------------


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """The hashes argon2 verified, in order (the real verification runs)."""
    seen: list[str] = []
    real = accounts._matches

    def counting(password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_matches", counting)
    return seen


async def test_an_unknown_email_and_a_wrong_password_fail_alike_and_both_verify_a_hash(
    config, clock, verifications,
):
    await owner_with_password(config, clock)
    await add(config, clock, "invited@example.com")  # no password yet

    failures = []
    for email, password in (("nobody@example.com", PASSWORD), ("anna@example.com", "wrong password"),
                            ("invited@example.com", PASSWORD)):
        with pytest.raises(SignInFailed) as failed:
            await accounts.sign_in(email, password, client_address=CLIENT, now=clock())
        failures.append((type(failed.value), str(failed.value)))

    assert len(set(failures)) == 1
    assert len(verifications) == 3
    assert all(hashed.startswith("$argon2id$") for hashed in verifications)
    assert await SignInFailure.count() == 3


async def test_a_disabled_account_cannot_sign_in_nor_keep_its_sessions(config, clock):
    email = await owner_with_password(config, clock)
    signed_in = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())

    await Account.update({Account.disabled: True}).where(Account.email == email)

    assert await accounts.current_session(signed_in.token, now=clock()) is None
    with pytest.raises(SignInFailed):
        await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())


async def test_ten_failures_for_one_email_stop_its_sign_in_for_15_minutes(config, clock):
    email = await owner_with_password(config, clock)
    for attempt in range(10):
        with pytest.raises(SignInFailed):
            await accounts.sign_in(email, f"guess {attempt}", client_address=f"198.51.100.{attempt}",
                                   now=clock())

    with pytest.raises(SignInThrottled):
        await accounts.sign_in(email, PASSWORD, client_address="192.0.2.1", now=clock())
    with pytest.raises(SignInThrottled):  # an unknown email is limited exactly alike
        for attempt in range(11):
            try:
                await accounts.sign_in("nobody@example.com", "guess", client_address=f"192.0.2.{attempt}",
                                       now=clock())
            except SignInFailed:
                pass

    clock.advance(timedelta(minutes=15))
    await accounts.sign_in(email, PASSWORD, client_address="192.0.2.1", now=clock())


async def test_thirty_failures_from_one_client_stop_its_sign_ins_but_not_other_clients(config, clock):
    email = await owner_with_password(config, clock)
    for attempt in range(30):
        with pytest.raises(SignInFailed):
            await accounts.sign_in(f"guess{attempt}@example.com", PASSWORD, client_address=CLIENT,
                                   now=clock())

    with pytest.raises(SignInThrottled):
        await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    await accounts.sign_in(email, PASSWORD, client_address="198.51.100.1", now=clock())
    clock.advance(timedelta(minutes=15))
    await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())


async def test_a_successful_sign_in_forgets_the_emails_earlier_failures(config, clock):
    email = await owner_with_password(config, clock)
    for _ in range(9):
        with pytest.raises(SignInFailed):
            await accounts.sign_in(email, "wrong password", client_address=CLIENT, now=clock())

    await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())

    with pytest.raises(SignInFailed):  # a fresh count: not throttled
        await accounts.sign_in(email, "wrong password", client_address=CLIENT, now=clock())


# --- sessions -----------------------------------------------------------------------------------


async def test_a_session_knows_its_account_and_memberships(config, clock):
    email = await owner_with_password(config, clock)

    signed_in = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, user_agent="Firefox",
                                       now=clock())
    current = await accounts.current_session(signed_in.token, now=clock())

    assert current.account.email == email
    assert [m.grant() for m in current.memberships] == [current.memberships[0].grant()]
    assert current.memberships[0].role is Role.OWNER
    assert await accounts.current_session("not a token", now=clock()) is None


async def test_a_session_unused_for_14_days_ends(config, clock):
    email = await owner_with_password(config, clock)
    token = (await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())).token

    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert await accounts.current_session(token, now=clock()) is not None
    clock.advance(timedelta(days=14) - timedelta(seconds=1))  # seen a moment ago: still alive
    assert await accounts.current_session(token, now=clock()) is not None
    clock.advance(timedelta(days=14))
    assert await accounts.current_session(token, now=clock()) is None


async def test_a_session_used_every_day_still_ends_after_30_days(config, clock):
    email = await owner_with_password(config, clock)
    token = (await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())).token

    for _ in range(29):
        clock.advance(timedelta(days=1))
        assert await accounts.current_session(token, now=clock()) is not None
    clock.advance(timedelta(days=1))

    assert await accounts.current_session(token, now=clock()) is None


async def test_a_session_is_written_at_most_once_a_minute(config, clock):
    email = await owner_with_password(config, clock)
    token = (await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())).token
    signed_in_at = clock()

    clock.advance(timedelta(seconds=59))
    await accounts.current_session(token, now=clock())
    [row] = await AccountSession.select(AccountSession.last_seen_at)
    assert row["last_seen_at"] == signed_in_at

    clock.advance(timedelta(seconds=1))
    await accounts.current_session(token, now=clock())
    [row] = await AccountSession.select(AccountSession.last_seen_at)
    assert row["last_seen_at"] == clock()


async def test_signing_out_ends_this_session_only(config, clock):
    email = await owner_with_password(config, clock)
    laptop = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    phone = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())

    await accounts.sign_out(laptop.token, now=clock())

    assert await accounts.current_session(laptop.token, now=clock()) is None
    assert await accounts.current_session(phone.token, now=clock()) is not None


async def test_signing_out_everywhere_ends_every_session_of_the_account_only(config, clock):
    email = await owner_with_password(config, clock)
    other = await owner_with_password(config, clock, "ben@example.com")
    laptop = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    phone = await accounts.sign_in(email, PASSWORD, client_address=CLIENT, now=clock())
    bens = await accounts.sign_in(other, PASSWORD, client_address=CLIENT, now=clock())

    revoked = await accounts.sign_out_everywhere(laptop.account.public_id, actor=laptop.account.actor,
                                                 now=clock())

    assert revoked == 2
    assert await accounts.current_session(laptop.token, now=clock()) is None
    assert await accounts.current_session(phone.token, now=clock()) is None
    assert await accounts.current_session(bens.token, now=clock()) is not None
