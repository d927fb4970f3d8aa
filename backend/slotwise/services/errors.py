"""Errors services raise on purpose. The web layer turns each into one answer, in one place
(``web/problems.py`` for the JSON API, ``web/pages.py`` for HTML pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from slotwise.domain.policy import Verdict

if TYPE_CHECKING:
    from slotwise.services.availability import AvailableSlot


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class NotFound(ServiceError):
    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one input: ``field`` is a query parameter or a JSON path."""

    field: str
    message: str


class InvalidInput(ServiceError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class SlotUnavailable(ServiceError):
    """The start is not (or no longer) bookable; ``alternatives`` are the next free ones."""

    def __init__(self, alternatives: list[AvailableSlot]) -> None:
        super().__init__("this time is no longer available")
        self.alternatives = alternatives


class IdempotencyConflict(ServiceError):
    """The key was used before with a different request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request")


class ActionRefused(ServiceError):
    """The rules the change must keep do not allow it (any more): ``verdict`` says why.

    ``contact`` is whom the customer can call or write instead.
    """

    def __init__(self, action: str, verdict: Verdict, contact: str | None) -> None:
        super().__init__(f"{action} is not possible: {verdict.reason}")
        self.action = action
        self.verdict = verdict
        self.contact = contact

    @property
    def gone(self) -> bool:
        """A cancelled booking is gone for good; anything else refused conflicts with the policy now."""
        return self.verdict.reason == "cancelled"
