"""The audit log's diff: what changed in one object, field by field, as a reader wants to see it. Pure.

An object is a plain table (a resource or service as the site file writes it,
the site's settings, a key's name and scopes, ...). :func:`diff` compares two
versions and answers one :class:`FieldChange` per field that differs. Nested
tables are followed into dotted fields (``hours.mon``: a changed Monday shows
as one line, not the whole week); lists are compared whole. An object that
was added has every field as new (``old`` is None), one that was removed
every field as old; fields left at nothing (None, ``[]``, ``{}``) are left out
of those, as they say nothing.

Secrets never reach the log: a field whose last part names one
(:data:`SECRET_PARTS`: ``password``, ``token``, ``secret``, ``hash``, ...) is
kept out of every diff, whatever the caller passes in. Callers leave them out
anyway; this is the safety net.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A field whose last dotted part contains one of these words is never shown.
SECRET_PARTS = ("password", "secret", "token", "hash", "salt", "credential")


class AuditAction(StrEnum):
    CREATED = "created"  # a new object (a resource, a service, a key, a block of time off, a membership)
    CHANGED = "changed"
    RETIRED = "retired"  # a resource retired or a service disabled: kept, no longer offered
    RESTORED = "restored"  # brought back
    REMOVED = "removed"  # deleted for good (time off)
    REVOKED = "revoked"  # a key


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one object: ``old`` → ``new``; None on the side where the object did not exist."""

    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.old)} → {_show(self.new)}"


def is_secret(field: str) -> bool:
    last = field.rsplit(".", 1)[-1].lower()
    return any(part in last for part in SECRET_PARTS)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _flat(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"hours": {"mon": [...]}} → {"hours.mon": [...]}; an empty nested table stays one value."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        field = f"{prefix}{name}"
        if is_secret(field):
            continue
        if isinstance(value, Mapping) and value:
            flat.update(_flat(value, f"{field}."))
        else:
            flat[field] = value
    return flat


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[FieldChange, ...]:
    """The fields that differ between two versions of one object, in the order the object lists them.

    ``before`` None: the object was added; ``after`` None: it was removed.

    >>> [str(c) for c in diff({"name": "Anna", "kind": "person"}, {"name": "Anna Berg", "kind": "person"})]
    ['name: "Anna" → "Anna Berg"']
    """
    old = _flat(before or {})
    new = _flat(after or {})
    if before is None:
        return tuple(FieldChange(field, None, value) for field, value in new.items() if not _empty(value))
    if after is None:
        return tuple(FieldChange(field, value, None) for field, value in old.items() if not _empty(value))
    fields = list(new) + [field for field in old if field not in new]
    # A nested table that appears or empties shows as one line ("hours: null → {...}" flattens on one side only).
    return tuple(FieldChange(field, old.get(field), new.get(field)) for field in fields
                 if old.get(field) != new.get(field) and not (_empty(old.get(field)) and _empty(new.get(field))))


def action_of(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
              flag: str | None = None) -> AuditAction:
    """What happened to an object: created, removed, changed, or retired/restored when ``flag``
    (``active`` for a resource, ``enabled`` for a service) went from true to false or back."""
    if before is None:
        return AuditAction.CREATED
    if after is None:
        return AuditAction.REMOVED
    if flag is not None and before.get(flag) is True and after.get(flag) is False:
        return AuditAction.RETIRED
    if flag is not None and before.get(flag) is False and after.get(flag) is True:
        return AuditAction.RESTORED
    return AuditAction.CHANGED


def _show(value: Any) -> str:
    """A value as a reader sees it: text in quotes, lists and tables compact, None as "—"."""
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, default=str)
