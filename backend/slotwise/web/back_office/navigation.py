"""The back office's navigation: its pages in the groups a person running a practice looks for.

Seventeen links in one row became two rows on a desktop and six on a phone before any content
(issue 11). The top bar now names the groups; the current group's pages show as a second,
shorter row, and on a narrow screen one "Menu" button opens every group with its pages, so
any page is at most one tap further than before. Pure: no I/O, rendered by ``admin/_layout.html``.

A page that only some roles may open carries the action its handler authorizes, and the link is
shown only when :func:`slotwise.domain.access.decide` allows that action on the site: the same
rule as the page, so the nav never offers what the page refuses, and changes with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slotwise.domain.access import Action, Decision, Grant, Target, decide
from slotwise.i18n import N_


@dataclass(frozen=True, slots=True)
class Page:
    nav: str  # the "nav" a handler puts in its page's context
    path: str  # after /admin/sites/{site}
    label: str  # English, translated by the layout
    needs: Action | None = None  # the action its handler authorizes, when not every member has it
    # ``needs`` on one of the caller's own resources is enough (a staff member's own feed)
    own_resource_enough: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    pages: tuple[Page, ...]


GROUPS: tuple[Group, ...] = (
    Group(N_("Day"), (Page("day", "", N_("Day")),)),
    Group(N_("Bookings"), (
        Page("list", "/bookings", N_("List")),
        Page("week", "/week", N_("Week")),
        Page("book", "/book", N_("Book for a caller")),
        Page("export", "/export", N_("Export")),
    )),
    Group(N_("Catalog"), (
        Page("catalog", "/catalog", N_("Services and resources")),
        Page("blocks", "/blocks", N_("Block time")),
        Page("import", "/import", N_("Import"), Action.CATALOG_WRITE),
        Page("site-file", "/site-file", N_("Site file")),
        Page("audit", "/audit", N_("Changes"), Action.AUDIT_READ),
    )),
    Group(N_("Messages"), (
        Page("messages", "/messages", N_("Templates")),
        Page("log", "/messages/log", N_("Delivery log"), Action.CUSTOMERS_READ),
    )),
    Group(N_("Widget"), (Page("widget", "/widget", N_("Widget")),)),
    Group(N_("Integrations"), (
        Page("webhooks", "/webhooks", N_("Webhooks"), Action.WEBHOOKS_WRITE),
        Page("feeds", "/feeds", N_("Calendar feeds"), Action.FEEDS_MANAGE, own_resource_enough=True),
        Page("calendars", "/calendars", N_("Connected calendars")),
    )),
    Group(N_("Team & keys"), (
        Page("team", "/team", N_("Team"), Action.MEMBERS_MANAGE),
        Page("keys", "/keys", N_("API keys"), Action.KEYS_MANAGE),
    )),
)


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class ShownGroup:
    label: str
    href: str  # its first page the caller may open
    current: bool  # the page shown is one of its pages
    links: tuple[Link, ...]

    @property
    def current_link(self) -> Link | None:
        return next((link for link in self.links if link.current), None)


def menu(grants: Iterable[Grant], site_id: int, slug: str, current: str | None,
         *, sandbox: bool = False) -> tuple[ShownGroup, ...]:
    """The groups and links this caller sees on ``slug``; ``current`` is the page's ``nav``.

    A group whose pages are all hidden is left out.
    """
    grants = tuple(grants)
    target = Target.site(site_id, sandbox=sandbox)
    own = frozenset(grant.resource for grant in grants if grant.resource and grant.site_id == site_id)

    def may_open(page: Page) -> bool:
        if page.needs is None or decide(grants, page.needs, target) is Decision.ALLOWED:
            return True
        return page.own_resource_enough and bool(own) and decide(
            grants, page.needs, Target(site_id, own, sandbox)) is Decision.ALLOWED

    base = f"/admin/sites/{slug}"
    shown = []
    for group in GROUPS:
        links = tuple(Link(page.label, base + page.path, page.nav == current) for page in group.pages
                      if may_open(page))
        if links:
            shown.append(ShownGroup(group.label, links[0].href, any(link.current for link in links), links))
    return tuple(shown)
