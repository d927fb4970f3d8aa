"""The back office's grouped navigation (web/back_office/navigation.py): who sees which link, where it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slotwise.domain.access import Grant, Role
from slotwise.web.back_office.navigation import GROUPS, menu

SITE_ID, SLUG = 7, "harbour"
EVERY_PAGE = {"day", "week", "list", "book", "blocks", "export", "catalog", "import", "site-file", "audit",
              "messages", "log", "widget", "webhooks", "feeds", "calendars", "team", "keys"}
OWNER_ONLY = {"webhooks", "team", "keys"}
# Before the grouping the layout hid Changes and Import from staff and viewers and the owner's pages
# from everyone else; the delivery log (a new link: it was only linked from the messages page) needs
# customers:read, which staff lack. Calendar feeds are for those who may make a feed URL: the site's
# (owners, managers) or their own resource's (staff); viewers may not.
SEES = {
    Role.OWNER: EVERY_PAGE,
    Role.MANAGER: EVERY_PAGE - OWNER_ONLY,
    Role.VIEWER: EVERY_PAGE - OWNER_ONLY - {"audit", "import", "feeds"},
    Role.STAFF: EVERY_PAGE - OWNER_ONLY - {"audit", "import", "log"},
}


def _grant(role: Role, site_id: int = SITE_ID) -> Grant:
    return Grant.membership(site_id, role, "anna" if role is Role.STAFF else None)


def _hrefs(groups) -> set[str]:
    return {link.href for group in groups for link in group.links}


def _href(nav: str) -> str:
    [page] = [page for group in GROUPS for page in group.pages if page.nav == nav]
    return f"/admin/sites/{SLUG}{page.path}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_links_of_the_pages_it_may_open(role: Role):
    shown = menu([_grant(role)], SITE_ID, SLUG, None)
    assert _hrefs(shown) == {_href(nav) for nav in SEES[role]}
    assert all(group.links for group in shown)  # a group with nothing to open is left out
    if role is not Role.OWNER:
        assert "Team & keys" not in [group.label for group in shown]


def test_a_role_on_another_site_counts_for_nothing_here():
    shown = menu([_grant(Role.OWNER, site_id=99), _grant(Role.VIEWER)], SITE_ID, SLUG, None)
    assert _hrefs(shown) == {_href(nav) for nav in SEES[Role.VIEWER]}


def test_every_page_is_in_exactly_one_group_and_the_top_row_is_short():
    navs = [page.nav for group in GROUPS for page in group.pages]
    assert sorted(navs) == sorted(EVERY_PAGE)
    assert len(GROUPS) <= 7


def test_the_current_page_marks_its_link_and_its_group():
    shown = menu([_grant(Role.OWNER)], SITE_ID, SLUG, "week")
    [here] = [group for group in shown if group.current]
    assert here.label == "Bookings" and here.current_link.href == f"/admin/sites/{SLUG}/week"
    assert here.href == f"/admin/sites/{SLUG}/bookings"  # the group's link is its first page
    assert sum(link.current for group in shown for link in group.links) == 1
    assert not any(group.current for group in menu([_grant(Role.OWNER)], SITE_ID, SLUG, None))


def test_a_group_links_its_first_page_the_caller_may_open():
    [integrations] = [g for g in menu([_grant(Role.MANAGER)], SITE_ID, SLUG, None) if g.label == "Integrations"]
    assert integrations.href == f"/admin/sites/{SLUG}/feeds"  # webhooks are the owner's


def test_every_page_the_handlers_mark_is_in_the_nav():
    """A handler's ``nav`` that no group holds would leave its page without a current link."""
    source = Path(__file__).resolve().parents[2] / "backend/slotwise/web/back_office"
    marked = re.compile(r'"nav":\s*"([^"]+)"|\bnav="([^"]+)"')
    used = {a or b for module in source.glob("*.py") for a, b in marked.findall(module.read_text())}
    assert used and used <= EVERY_PAGE
