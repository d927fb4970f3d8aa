"""The audit log's diff, as a table of cases: what a reader sees for each kind of change."""

from __future__ import annotations

import pytest
from slotwise.domain.audit import AuditAction, FieldChange, action_of, diff, is_secret

ANNA = {"key": "anna", "name": "Anna", "kind": "person", "hours": None, "closed": [], "active": True}


@pytest.mark.parametrize(("before", "after", "expected"), [
    pytest.param(ANNA, ANNA, [], id="nothing changed"),
    pytest.param(ANNA, {**ANNA, "name": "Anna Berg"}, ['name: "Anna" → "Anna Berg"'], id="one field"),
    pytest.param({**ANNA, "hours": {"mon": ["09:00-12:00"], "tue": ["09:00-12:00"]}},
                 {**ANNA, "hours": {"mon": ["09:00-12:00"], "tue": ["10:00-12:00"]}},
                 ['hours.tue: ["09:00-12:00"] → ["10:00-12:00"]'], id="one weekday of nested hours"),
    pytest.param(ANNA, {**ANNA, "hours": {"mon": ["09:00-12:00"]}}, ['hours.mon: — → ["09:00-12:00"]'],
                 id="own hours instead of the site's"),
    pytest.param({**ANNA, "hours": {"mon": ["09:00-12:00"]}}, ANNA, ['hours.mon: ["09:00-12:00"] → —'],
                 id="back to the site's hours"),
    pytest.param(ANNA, {**ANNA, "closed": ["2026-12-24"]}, ['closed: [] → ["2026-12-24"]'], id="a list"),
    pytest.param(None, ANNA, ['key: — → "anna"', 'name: — → "Anna"', 'kind: — → "person"', "active: — → true"],
                 id="created: every field that says something"),
    pytest.param(ANNA, None, ['key: "anna" → —', 'name: "Anna" → —', 'kind: "person" → —', "active: true → —"],
                 id="removed"),
    pytest.param({"name": "Sync", "token_hash": "ab12"}, {"name": "Sync", "token_hash": "cd34"}, [],
                 id="a secret never shows, not even as changed"),
    pytest.param(None, {"name": "Sync", "password": "x", "nested": {"secret": "y", "ok": 1}},
                 ['name: — → "Sync"', "nested.ok: — → 1"], id="secrets at any depth are dropped"),
])
def test_diff(before, after, expected) -> None:
    assert [str(change) for change in diff(before, after)] == expected


def test_changes_keep_their_values_for_programs() -> None:
    assert diff({"seats": 1}, {"seats": 8}) == (FieldChange("seats", 1, 8),)


@pytest.mark.parametrize(("before", "after", "flag", "expected"), [
    (None, ANNA, "active", AuditAction.CREATED),
    (ANNA, None, "active", AuditAction.REMOVED),
    (ANNA, {**ANNA, "name": "A"}, "active", AuditAction.CHANGED),
    (ANNA, {**ANNA, "active": False}, "active", AuditAction.RETIRED),
    ({**ANNA, "active": False}, ANNA, "active", AuditAction.RESTORED),
    ({"enabled": True}, {"enabled": False}, "enabled", AuditAction.RETIRED),
    ({"enabled": True}, {"enabled": False}, None, AuditAction.CHANGED),
])
def test_action_of(before, after, flag, expected) -> None:
    assert action_of(before, after, flag=flag) is expected


@pytest.mark.parametrize(("field", "secret"), [
    ("token_hash", True), ("password", True), ("webhook.secret", True), ("salt", True),
    ("name", False), ("hours.mon", False), ("scopes", False),
])
def test_is_secret(field: str, secret: bool) -> None:
    assert is_secret(field) is secret
