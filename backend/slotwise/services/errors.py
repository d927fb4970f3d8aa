"""Errors services raise. The web layer maps each to one HTTP answer, in one place."""

from __future__ import annotations

from dataclasses import dataclass


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
