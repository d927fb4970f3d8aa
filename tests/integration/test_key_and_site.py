"""An admin request reads its key and the site it names together (``services.access.caller_for_key``)."""

from __future__ import annotations

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import access, keys
from slotwise.services.errors import NotFound
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock) -> str:
    created = await keys.create_key("test-physio", name="Integration", scopes=[Scope.BOOKINGS_READ],
                                    expires_at=None, actor=APPLIER, now=clock())
    return created.secret


async def test_the_caller_carries_the_site_it_named_read_with_its_key(clock) -> None:
    caller = await access.caller_for_key(await new_key(clock), now=clock(), site_slug="test-physio")

    assert caller is not None and caller.site is not None
    assert (caller.site.slug, caller.site.name) == ("test-physio", "Test Physio")
    assert await access.site_for(caller, "test-physio") == caller.site


async def test_a_site_read_with_the_key_grants_nothing(clock) -> None:
    caller = await access.caller_for_key(await new_key(clock), now=clock(), site_slug="other-studio")

    assert caller is not None and caller.site is not None and caller.site.slug == "other-studio"
    with pytest.raises(NotFound):
        await access.site_for(caller, "other-studio")


async def test_an_unknown_site_or_key_reads_as_none(clock) -> None:
    secret = await new_key(clock)

    unknown_site = await access.caller_for_key(secret, now=clock(), site_slug="no-such-site")
    unknown_key = await access.caller_for_key("sw_live_" + "x" * 32, now=clock(), site_slug="test-physio")

    assert unknown_site is not None and unknown_site.site is None
    assert unknown_key is None
    with pytest.raises(NotFound):
        await access.site_for(unknown_site, "no-such-site")


async def test_a_revoked_key_is_refused_even_with_its_site(clock) -> None:
    secret = await new_key(clock)
    (listed,) = await keys.keys_of("test-physio")
    await keys.revoke_key(listed.public_id, actor=APPLIER, now=clock())

    assert await access.caller_for_key(secret, now=clock(), site_slug="test-physio") is None
