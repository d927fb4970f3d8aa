"""Who may do what, as a table: every role and key scope × every action × own/other resource × own/other site."""

from __future__ import annotations

import itertools

import pytest

from slotwise.domain.access import (
    Action,
    Decision,
    Grant,
    Role,
    Scope,
    Target,
    decide,
    visible_resources,
)

SITE, OTHER_SITE = 1, 2
ANNA, BEN = "anna", "ben"  # Anna's staff member acts; Ben is a colleague

A = Decision.ALLOWED
F = Decision.FORBIDDEN

# The expected answer per role and action, for a target on the caller's own
# site: (about their own resource, about another resource, about no resource).
EXPECTED: dict[Role, dict[Action, tuple[Decision, Decision, Decision]]] = {
    Role.OWNER: {action: (A, A, A) for action in Action},
    Role.MANAGER: {
        **{action: (A, A, A) for action in Action},
        Action.MEMBERS_MANAGE: (F, F, F),
        Action.KEYS_MANAGE: (F, F, F),
        Action.WEBHOOKS_WRITE: (F, F, F),
    },
    Role.VIEWER: {
        **{action: (F, F, F) for action in Action},
        # Not the audit log: who changed what (keys, members) is for owners and managers.
        **{action: (A, A, A) for action in (Action.SITE_READ, Action.CATALOG_READ, Action.BOOKINGS_READ,
                                              Action.CUSTOMERS_READ)},
    },
    Role.STAFF: {
        **{action: (F, F, F) for action in Action},
        Action.SITE_READ: (A, A, A),
        Action.CATALOG_READ: (A, A, A),
        # Their own bookings and time off; a list is allowed and narrowed to theirs.
        Action.BOOKINGS_READ: (A, F, A),
        Action.BOOKINGS_WRITE: (A, F, F),
        Action.TIME_OFF_WRITE: (A, F, F),
        # The calendar feed of their own resource; not the whole site's.
        Action.FEEDS_MANAGE: (A, F, F),
    },
}

TARGETS = {
    "own resource": Target.on(SITE, [ANNA, "room-1"]),
    "other resource": Target.on(SITE, [BEN, "room-1"]),
    "no resource": Target.site(SITE),
}


def grant_for(role: Role) -> Grant:
    return Grant.membership(SITE, role, resource=ANNA if role is Role.STAFF else None)


CASES = [
    pytest.param(role, action, where, EXPECTED[role][action][index], id=f"{role}-{action}-{where}")
    for role, action, (index, where) in itertools.product(Role, Action, enumerate(TARGETS))
]


@pytest.mark.parametrize(("role", "action", "where", "expected"), CASES)
def test_a_member_of_the_site(role: Role, action: Action, where: str, expected: Decision) -> None:
    assert decide([grant_for(role)], action, TARGETS[where]) is expected


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_another_site_is_not_found_whatever_the_role(role: Role, action: Action) -> None:
    for target in (Target.site(OTHER_SITE), Target.on(OTHER_SITE, [ANNA])):
        assert decide([grant_for(role)], action, target) is Decision.NOT_FOUND


@pytest.mark.parametrize(("scope", "action"), list(itertools.product(Scope, Action)))
def test_a_key_may_do_what_its_scope_names_and_nothing_else(scope: Scope, action: Action) -> None:
    key = Grant.key(SITE, [scope])
    needed = {
        Action.SITE_READ: Scope.CATALOG_READ, Action.CATALOG_READ: Scope.CATALOG_READ,
        Action.AUDIT_READ: Scope.CATALOG_READ, Action.SITE_WRITE: Scope.CATALOG_WRITE,
        Action.CATALOG_WRITE: Scope.CATALOG_WRITE, Action.TIME_OFF_WRITE: Scope.CATALOG_WRITE,
        Action.TEMPLATES_WRITE: Scope.CATALOG_WRITE, Action.BOOKINGS_READ: Scope.BOOKINGS_READ,
        Action.BOOKINGS_WRITE: Scope.BOOKINGS_WRITE, Action.CUSTOMERS_READ: Scope.CUSTOMERS_READ,
        Action.CUSTOMERS_WRITE: Scope.CUSTOMERS_WRITE, Action.WEBHOOKS_WRITE: Scope.WEBHOOKS_WRITE,
        Action.FEEDS_MANAGE: Scope.BOOKINGS_READ,
    }.get(action)
    expected = A if needed is scope else F
    for target in TARGETS.values():
        assert decide([key], action, target) is expected
    assert decide([key], action, Target.site(OTHER_SITE)) is Decision.NOT_FOUND


def test_no_key_manages_members_or_keys_even_with_every_scope() -> None:
    key = Grant.key(SITE, Scope)
    assert decide([key], Action.KEYS_MANAGE, Target.site(SITE)) is F
    assert decide([key], Action.MEMBERS_MANAGE, Target.site(SITE)) is F


def test_the_best_of_several_memberships_counts_and_only_on_its_own_site() -> None:
    grants = [Grant.membership(SITE, Role.VIEWER), Grant.membership(OTHER_SITE, Role.OWNER)]
    assert decide(grants, Action.BOOKINGS_WRITE, Target.site(SITE)) is F
    assert decide(grants, Action.BOOKINGS_WRITE, Target.site(OTHER_SITE)) is A
    assert decide([], Action.SITE_READ, Target.site(SITE)) is Decision.NOT_FOUND


def test_staff_list_only_their_own_resources_bookings() -> None:
    staff = Grant.membership(SITE, Role.STAFF, resource=ANNA)
    assert visible_resources([staff], SITE) == frozenset({ANNA})
    assert visible_resources([staff, Grant.membership(SITE, Role.VIEWER)], SITE) is None
    assert visible_resources([Grant.key(SITE, [Scope.BOOKINGS_READ])], SITE) is None
    assert visible_resources([staff], OTHER_SITE) == frozenset()


def test_a_staff_membership_names_its_resource() -> None:
    with pytest.raises(ValueError):
        Grant.membership(SITE, Role.STAFF)


# A test key (sw_test_) reaches its site only while the site is a sandbox; a live key either way.
SANDBOX_CASES = [
    # (test key, site is a sandbox, expected for an action in its scope)
    (True, True, A),
    (True, False, Decision.NOT_FOUND),
    (False, True, A),
    (False, False, A),
]


@pytest.mark.parametrize(("test_key", "sandbox", "expected"), SANDBOX_CASES)
def test_a_test_key_works_on_sandbox_sites_only(test_key: bool, sandbox: bool, expected: Decision) -> None:
    grant = Grant.key(SITE, [Scope.BOOKINGS_READ, Scope.CATALOG_WRITE], sandbox_only=test_key)
    for action in (Action.BOOKINGS_READ, Action.TEMPLATES_WRITE):
        assert decide([grant], action, Target.site(SITE, sandbox=sandbox)) is expected
        assert decide([grant], action, Target.on(SITE, [ANNA], sandbox=sandbox)) is expected
    # Outside its scopes a test key on a sandbox is forbidden, as any key.
    if expected is A:
        assert decide([grant], Action.CUSTOMERS_READ, Target.site(SITE, sandbox=sandbox)) is F
    else:
        assert decide([grant], Action.CUSTOMERS_READ, Target.site(SITE, sandbox=sandbox)) is Decision.NOT_FOUND
