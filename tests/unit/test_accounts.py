"""Accounts' pure rules as tables: when a session ends, what a membership grants, the rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotwise.domain.access import Action, Decision, Grant, Role, Target, decide
from slotwise.domain.accounts import (
    ACCOUNT_LIMIT,
    CLIENT_LIMIT,
    LinkPurpose,
    Membership,
    Session,
    SessionState,
    membership_problem,
    normalise_email,
)

BEGUN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def session(last_seen: timedelta = timedelta(0), revoked: timedelta | None = None) -> Session:
    return Session(id=1, account_id=1, created_at=BEGUN, last_seen_at=BEGUN + last_seen,
                   revoked_at=BEGUN + revoked if revoked is not None else None)


# (last seen after it began, revoked after it began, now after it began, state)
SESSION_CASES = [
    (timedelta(0), None, timedelta(0), SessionState.ACTIVE),
    (timedelta(0), None, 14 * DAY - SECOND, SessionState.ACTIVE),
    (timedelta(0), None, 14 * DAY, SessionState.IDLE),  # not seen for 14 days
    (2 * DAY, None, 16 * DAY - SECOND, SessionState.ACTIVE),
    (2 * DAY, None, 16 * DAY, SessionState.IDLE),
    (29 * DAY, None, 30 * DAY - SECOND, SessionState.ACTIVE),
    (29 * DAY, None, 30 * DAY, SessionState.EXPIRED),  # used daily, still ends after 30 days
    (timedelta(0), None, 40 * DAY, SessionState.EXPIRED),
    (timedelta(0), DAY, DAY - SECOND, SessionState.ACTIVE),  # revoked later than now
    (timedelta(0), DAY, DAY, SessionState.REVOKED),
    (timedelta(0), DAY, 40 * DAY, SessionState.REVOKED),
]


@pytest.mark.parametrize(("last_seen", "revoked", "now", "state"), SESSION_CASES)
def test_a_session_ends_after_14_idle_days_30_days_in_all_or_when_revoked(last_seen, revoked, now, state):
    assert session(last_seen, revoked).state(BEGUN + now) is state
    assert session(last_seen, revoked).is_valid(BEGUN + now) is (state is SessionState.ACTIVE)


def test_a_session_says_when_it_will_end_if_used_until_then():
    assert session().expires_at == BEGUN + 14 * DAY
    assert session(last_seen=20 * DAY).expires_at == BEGUN + 30 * DAY


@pytest.mark.parametrize(("since_seen", "touch"), [
    (timedelta(0), False), (59 * SECOND, False), (60 * SECOND, True), (DAY, True)])
def test_a_session_is_touched_at_most_once_a_minute(since_seen, touch):
    assert session().needs_touch(BEGUN + since_seen) is touch


@pytest.mark.parametrize(("role", "resource", "action", "target", "decision"), [
    (Role.OWNER, None, Action.MEMBERS_MANAGE, Target.site(1), Decision.ALLOWED),
    (Role.MANAGER, None, Action.MEMBERS_MANAGE, Target.site(1), Decision.FORBIDDEN),
    (Role.VIEWER, None, Action.BOOKINGS_WRITE, Target.on(1, ["anna"]), Decision.FORBIDDEN),
    (Role.STAFF, "anna", Action.BOOKINGS_WRITE, Target.on(1, ["anna"]), Decision.ALLOWED),
    (Role.STAFF, "anna", Action.BOOKINGS_WRITE, Target.on(1, ["ben"]), Decision.FORBIDDEN),
    (Role.OWNER, None, Action.SITE_READ, Target.site(2), Decision.NOT_FOUND),
])
def test_a_membership_grants_its_role_on_its_site_only(role, resource, action, target, decision):
    membership = Membership(account_id=7, site_id=1, site_slug="test-physio", role=role, resource=resource)

    grant = membership.grant()

    assert grant == Grant.membership(1, role, resource)
    assert decide([grant], action, target) is decision


@pytest.mark.parametrize(("role", "resource", "fine"), [
    (Role.STAFF, "anna", True),
    (Role.STAFF, None, False),
    (Role.OWNER, None, True),
    (Role.OWNER, "anna", False),
    (Role.VIEWER, "anna", False),
])
def test_staff_and_only_staff_are_bound_to_a_resource(role, resource, fine):
    assert (membership_problem(role, resource) is None) is fine
    if not fine:
        with pytest.raises(ValueError):
            Membership(account_id=7, site_id=1, site_slug="s", role=role, resource=resource)


def test_emails_are_kept_trimmed_and_lower_case():
    assert normalise_email("  Anna.Berg@Example.COM ") == "anna.berg@example.com"


def test_invitations_last_7_days_and_resets_an_hour():
    assert LinkPurpose.INVITATION.lifetime == timedelta(days=7)
    assert LinkPurpose.RESET.lifetime == timedelta(hours=1)


@pytest.mark.parametrize(("limit", "failures", "exceeded"), [
    (ACCOUNT_LIMIT, 9, False), (ACCOUNT_LIMIT, 10, True), (CLIENT_LIMIT, 29, False), (CLIENT_LIMIT, 30, True)])
def test_sign_in_stops_after_10_failures_per_email_and_30_per_client_in_15_minutes(limit, failures, exceeded):
    assert limit.window == timedelta(minutes=15)
    assert limit.exceeded(failures) is exceeded
