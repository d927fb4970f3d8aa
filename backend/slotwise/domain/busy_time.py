"""Busy time for the availability engine: each resource's busy entries as a test on candidate starts.

Part of the engine (``availability.py`` has the rules and the decisions in
its docstring, "Busy time", "Group sessions" and "Speed"): the busy entries of
one call indexed once per resource as two sorted lists, block starts and block
ends, with the seats a group session holds, so a candidate start is judged
with two ``bisect`` calls. Kept apart from the starts it judges, as open time
is in ``open_time.py``; pure, as the engine is.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime

from slotwise.domain.model import Busy


class Blocks:
    """The busy time of one resource, as a test on candidate starts.

    ``froms`` and ``untils`` are the block starts and ends in epoch seconds,
    each sorted on its own. A candidate ``s`` overlaps a block ``[f, u)`` with
    its buffered interval iff ``f < s + reach_back`` and ``u > s - reach_on``
    (``reach_back = duration + buffer_after``, ``reach_on = buffer_before``);
    see "Speed" in ``availability.py``'s docstring for why counting both sides works.
    ``taken`` maps a group-session start (epoch seconds) to the seats it holds.
    """

    __slots__ = ("froms", "untils", "reach_back", "reach_on", "taken")

    def __init__(
        self,
        froms: list[float],
        untils: list[float],
        reach_back: int,
        reach_on: int,
        taken: dict[int, int],
    ) -> None:
        froms.sort()
        untils.sort()
        self.froms = froms
        self.untils = untils
        self.reach_back = reach_back
        self.reach_on = reach_on
        self.taken = taken

    def is_free(self, start: int) -> bool:
        begun = bisect_left(self.froms, start + self.reach_back)
        ended = bisect_right(self.untils, start - self.reach_on)
        return begun == ended


def index_busy(
    busy: Iterable[Busy],
    keys: list[str],
    *,
    session_service: str | None,
    seats: int,
    reach_back: int,
    reach_on: int,
) -> dict[str, Blocks]:
    froms: dict[str, list[float]] = {key: [] for key in keys}
    untils: dict[str, list[float]] = {key: [] for key in keys}
    sessions: dict[str, list[tuple[float, float, int, int]]] = {}
    timestamp = datetime.timestamp
    froms_of = froms.get
    for entry in busy:
        resource = entry.resource
        begins = froms_of(resource)
        if begins is None:
            continue
        begin = timestamp(entry.blocked_from)
        end = timestamp(entry.blocked_until)
        if begin >= end:
            continue  # an empty block blocks nothing
        if (
            session_service is not None
            and entry.service == session_service
            and entry.start is not None
        ):
            session_start = timestamp(entry.start)
            if session_start.is_integer():
                sessions.setdefault(resource, []).append(
                    (begin, end, int(session_start), entry.seats)
                )
                continue
        begins.append(begin)
        untils[resource].append(end)

    taken_by_key: dict[str, dict[int, int]] = {}
    for key, entries in sessions.items():
        taken: dict[int, int] = {}
        for _, _, session_start, entry_seats in entries:
            taken[session_start] = taken.get(session_start, 0) + entry_seats
        begins, ends = froms[key], untils[key]
        for begin, end, t, _ in entries:
            # In start terms the entry forbids (begin - reach_back, end + reach_on).
            if taken[t] >= seats:
                # Full: that, plus the session start itself, as the block
                # (t - 1, t + 1) in start terms.
                begins += (begin, t - 1 + reach_back)
                ends += (end, t + 1 - reach_on)
            elif begin - reach_back < t < end + reach_on:
                # Joinable: forbid (begin - reach_back, t) and (t, end + reach_on),
                # every start it overlaps but t itself.
                begins += (begin, t + reach_back)
                ends += (t - reach_on, end)
            else:
                begins.append(begin)
                ends.append(end)
        taken_by_key[key] = taken

    return {
        key: Blocks(froms[key], untils[key], reach_back, reach_on, taken_by_key.get(key, {}))
        for key in keys
    }
