"""What a site file can get wrong: one :class:`Problem` per mistake, all raised together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a site file.

    ``path`` is where, in TOML's shape with 0-based indices
    (``services[2].duration``); it is ``"line L, column C"`` for a syntax
    error and empty for a problem with the whole file. ``subject`` names the
    resource/service/question the path runs through, when it has a readable
    key: ``service "assessment", question "reason"``.
    """

    path: str
    message: str
    subject: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.subject:
            where = f"{where} ({self.subject})"
        return f"{where}: {self.message}" if where else self.message


class SiteFileError(Exception):
    """A site file could not be used; ``problems`` lists everything wrong.

    ``str(error)`` has one line per problem: ``{source}: {problem}``.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        super().__init__(source, list(problems))
        self.source = source
        self.problems: list[Problem] = list(problems)

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)
