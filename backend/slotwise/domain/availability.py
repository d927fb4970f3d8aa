"""The availability engine: which starts can a service be booked at.

Pure: inputs in, slots out. No database, no clock (``now`` is a parameter), no
environment, no framework. The same code answers "show me the slots"
(:func:`find_slots`) and "may I still book this one?" inside the booking
transaction (:func:`check_slot`, a :func:`find_slots` over a one-instant
window), so the server never accepts a start it would not show.

How a slot is found (docs/product.md#availability), with the decisions we took where it is silent
-------------------------------------------------------------------------------------------------

Open time
    Opening hours are wall-clock minutes in the resource's own zone. For a local
    date ``d`` the open ranges are ``weekly[d.weekday()]`` unless ``d`` is in
    the resource's ``closed`` or in ``site_closed`` (read as a local date in the
    resource's zone), plus ``extra_open[d]``; an extra opening wins over a
    closure of the same date.
    *Decision:* ranges of one date that overlap or touch are merged before
    anything else (09:00-12:00 + 12:00-14:00 is one range 09:00-14:00, so a
    11:30-12:30 appointment fits and the grid runs on from 09:00).
    *Decision:* ranges are never merged across local midnight: an appointment
    lies inside the ranges of one local date (a 24/7 resource cannot take a
    23:30-00:30 booking).

Grid
    Starts step from the start of each open range in wall-clock time: open
    09:00-12:00, step 30, duration 30 gives 09:00, 09:30, ..., 11:30.
    A wall-clock start in a spring-forward gap does not exist and is skipped;
    an ambiguous one (autumn fold) is taken at its first occurrence (fold=0),
    so no start appears twice.
    Worked example, Europe/Berlin 2026-03-29 (02:00 CET jumps to 03:00 CEST at
    01:00Z), open 01:00-05:00, step 30, duration 60:
    01:00 (00:00Z), 01:30 (00:30Z), [02:00 and 02:30 do not exist],
    03:00 (01:00Z), 03:30 (01:30Z), 04:00 (02:00Z); 05:00 CEST is 03:00Z so
    04:00 + 60 min is the last that fits.

Durations and buffers are elapsed time
    ``end = start + duration`` in UTC. The appointment ``[start, end)`` must lie
    inside one open range whose ends are converted to UTC with the same rules;
    an end that falls in a gap becomes the first valid instant after it (the
    transition), an ambiguous end its first occurrence.
    Worked example, Europe/Berlin 2026-10-25 (03:00 CEST falls back to 02:00 CET
    at 01:00Z), open 01:00-02:30: 01:00 CEST is 23:00Z (24th), 02:30 is taken at
    its first occurrence, 02:30 CEST = 00:30Z, so the range lasts 90 elapsed
    minutes, not 150. Hours like 13:00-18:00 stay 13:00-18:00 local on a
    transition day (Berlin 2026-03-29: 11:00Z-16:00Z; 2026-10-25: 12:00Z-17:00Z).

Busy time
    A busy entry blocks ``[blocked_from, blocked_until)`` on its resource (the
    caller has already widened it by the buffers of the service that was booked).
    A candidate start ``s`` is free on a resource when its own buffered interval
    ``[s - buffer_before, s + duration + buffer_after)`` overlaps no block.
    *Decision:* buffers may reach outside opening hours (a 15-minute clean-up
    after a 17:30-18:00 appointment may run until 18:15); only the appointment
    itself must be inside open hours.
    Internally each block ``[f, u)`` is turned into the open interval of starts
    it forbids, ``(f - duration - buffer_after, u + buffer_before)``.
    Worked example: block 10:00-11:00, duration 30, buffer before 10, after 5:
    forbidden starts are strictly between 09:25 and 11:10. 09:25 gives
    [09:15, 10:00), touching the block but not overlapping it, so it is free;
    11:10 gives [11:00, 11:45), free as well.

Group sessions (``seats > 1``)
    Busy entries on a resource with ``service == service.key`` and
    ``start == s`` are the same session as a candidate at ``s``: they do not
    collide with it, they take seats (the sum of ``Busy.seats``). The slot is
    free on that resource while the seats taken are fewer than ``service.seats``.
    Every other overlapping block collides, including the same service at
    another start. ``Slot.seats_left = seats - max(taken)`` over the assigned
    resources; for ``seats == 1`` it is always 1 (a same-service entry then
    simply collides).

Notice and advance
    ``start >= now + min_notice`` and ``start <= now + max_advance``, in
    elapsed time (``now`` is converted to UTC before adding); together with
    the window, ``window_start <= start < window_end``.

Several resource groups
    A slot at ``s`` exists only if every group has a free resource at ``s``.
    Candidate starts come from the grids of the resources of the FIRST group
    (the union of their grids, each start once); a resource of a later group
    only needs ``[s, end)`` inside its open hours and to be free (no grid).
    Assignment per group: for group sessions, a free resource that already
    holds that session at ``s`` (to fill it); otherwise the first free one in
    the group's listed order. ``Slot.resources`` has one key per group, in
    group order.
    *Decision:* a resource listed in several groups is never assigned twice to
    one slot.

``only_resource``
    The first group that contains the key is reduced to that one key; if no
    group contains it there are no slots.

Units and precision
    Work happens in epoch seconds. Durations, step and buffers must be whole
    seconds (they are minutes in practice), otherwise ``ValueError``; candidate
    starts are whole seconds. Busy times are compared as float epoch seconds,
    exact for whole seconds. Window, notice and advance bounds are rounded
    inwards to whole seconds. Busy entries with ``blocked_until <=
    blocked_from`` block nothing.

Speed (docs/product.md#bars: 31 days, 10 resources, 15-min step, 5,000 busy
entries, median <= 10 ms)
    * Busy entries are indexed once per resource as two independently sorted
      lists, block starts and block ends (epoch seconds). Blocks may overlap.
      Start ``s`` is forbidden iff more blocks begin before ``s + duration +
      buffer_after`` than end at or before ``s - buffer_before``: every block
      that has ended has also begun, so the difference counts exactly the
      blocks that overlap. Two ``bisect`` calls, no pairing, no merging
      (the index: ``busy_time.py``).
      (This replaces the "sorted starts + running maximum of ends" index: same
      answer for overlapping blocks, and the next block end to jump to is
      simply the next entry of the sorted ends.)
      Worked example, duration 30, no buffers, blocks 10:00-11:00 and
      10:30-10:45, s = 10:40: begun before 11:10 = 2, ended by 10:40 = 0 →
      forbidden; s = 11:00: begun before 11:30 = 2, ended by 11:00 = 2 → free.
    * From a forbidden start the grid jumps to the next block end (plus
      buffer_before; everything before it stays forbidden); from a free start,
      every grid point up to the next block begin (less duration and
      buffer_after) is free and is emitted with one ``range()``. Each open
      range bisects once, then the two counts step forward block by block: the
      walk costs per block inside open hours, not per grid point.
    * A local date whose two midnights have the same UTC offset is taken to
      have no transition inside (we assume no zone changes its offset and back
      within one local date), so its ranges are plain integer arithmetic on a fixed
      offset, computed once per zone and date. Only transition days take the
      careful per-start wall-clock path with zoneinfo.
    * ``datetime`` and ``Slot`` objects are built only for the slots returned.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, repeat
from math import floor

from slotwise.domain.actors import Rules
from slotwise.domain.busy_time import Blocks, index_busy
from slotwise.domain.model import Busy, ResourceCalendar, ServiceRules, Slot
from slotwise.domain.open_time import DAY, EPOCH, LocalDays, OpenRange, open_ranges

__all__ = ["check_slot", "check_slot_under", "find_slots"]

_ONE_MICROSECOND = timedelta(microseconds=1)


def find_slots(
    service: ServiceRules,
    calendars: Mapping[str, ResourceCalendar],
    busy: Iterable[Busy],
    *,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    site_closed: frozenset[date] = frozenset(),
    only_resource: str | None = None,
) -> list[Slot]:
    """Every bookable start of ``service`` in ``[window_start, window_end)``.

    ``calendars`` maps resource keys to calendars and must hold every key named
    in ``service.resource_groups`` (``ValueError`` otherwise). ``busy`` is the
    active bookings and live holds; entries of other resources are ignored.
    All datetimes are aware, in any zone. ``site_closed`` holds local dates,
    read in each resource's own zone.

    Returns one :class:`Slot` per start, sorted by start, with ``start`` and
    ``end`` in UTC and one resource key per group, in group order.
    """
    for name, value in (("window_start", window_start), ("window_end", window_end), ("now", now)):
        _require_aware(name, value)
    groups = _groups_for(service, only_resource)
    if not groups:
        return []

    duration = _whole_seconds("duration", service.duration)
    step = _whole_seconds("step", service.step)
    before = _whole_seconds("buffer_before", service.buffer_before)
    after = _whole_seconds("buffer_after", service.buffer_after)
    if duration <= 0 or step <= 0:
        raise ValueError("duration and step must be positive")
    if before < 0 or after < 0:
        raise ValueError("buffers must not be negative")
    seats = service.seats
    if seats < 1:
        raise ValueError("seats must be at least 1")

    # Inclusive bounds on a start, in whole seconds: for a whole second s,
    # s >= x means s >= ceil(x), s <= x means s <= floor(x), and
    # s < window_end means s <= ceil(window_end) - 1.
    # ``now`` goes to UTC first: adding a timedelta to a zoned datetime is
    # wall-clock arithmetic, and notice is elapsed time (23:00 CET + 4 h on
    # 2026-03-28 is 04:00 CEST, not 03:00).
    now = now.astimezone(UTC)
    lowest = max(_ceil_seconds(window_start), _ceil_seconds(now + service.min_notice))
    highest = min(_ceil_seconds(window_end) - 1, _floor_seconds(now + service.max_advance))
    if lowest > highest:
        return []

    keys = list(dict.fromkeys(key for group in groups for key in group))
    missing = [key for key in keys if key not in calendars]
    if missing:
        raise ValueError(f"no calendar for resource(s): {', '.join(missing)}")

    blocks = index_busy(
        busy,
        keys,
        session_service=service.key if seats > 1 else None,
        seats=seats,
        reach_back=duration + after,
        reach_on=before,
    )
    days = LocalDays(lowest, highest, site_closed)
    resources = [
        _Resource(key, blocks[key], open_ranges(calendars[key], days, step)) for key in keys
    ]
    by_key = {res.key: res for res in resources}
    first = [by_key[key] for key in groups[0]]
    later = [[by_key[key] for key in group] for group in groups[1:]]

    # First group: free grid starts per resource, then their union. Filling the
    # dict in reverse listed order lets the first listed free resource win.
    free = [_free_starts(res, duration, step, lowest, highest) for res in first]
    chosen: dict[int, int] = {}
    for index in range(len(first) - 1, -1, -1):
        chosen.update(zip(free[index], repeat(index)))
    if seats > 1:
        # Fill a running session rather than open a new one elsewhere.
        for index in range(len(first) - 1, -1, -1):
            taken = first[index].busy.taken
            if taken:
                free_here = set(free[index])
                for session_start in taken:
                    if session_start in free_here:
                        chosen[session_start] = index

    fromtimestamp = datetime.fromtimestamp
    length = service.duration
    if not later and seats == 1:
        single = [(res.key,) for res in first]
        return [
            Slot(begin := fromtimestamp(start, UTC), begin + length, single[chosen[start]], 1)
            for start in sorted(chosen)
        ]

    slots: list[Slot] = []
    for start in sorted(chosen):
        picked = [first[chosen[start]]]
        for group in later:
            pick = _pick_later(group, picked, start, duration, seats)
            if pick is None:
                break
            picked.append(pick)
        else:
            seats_left = seats - max(res.busy.taken.get(start, 0) for res in picked)
            begin = fromtimestamp(start, UTC)
            slots.append(Slot(begin, begin + length, tuple(res.key for res in picked), seats_left))
    return slots


def check_slot(
    service: ServiceRules,
    calendars: Mapping[str, ResourceCalendar],
    busy: Iterable[Busy],
    *,
    start: datetime,
    now: datetime,
    site_closed: frozenset[date] = frozenset(),
    only_resource: str | None = None,
) -> Slot | None:
    """The slot at exactly ``start`` if it can be booked now, else ``None``.

    Runs :func:`find_slots` over the one-microsecond window ``[start, start +
    1 µs)``, so it can never disagree with what was shown. Meant for the
    re-check inside the booking transaction.
    """
    _require_aware("start", start)
    # In UTC, so that adding 1 µs is elapsed time, and so that the equality
    # below holds for a start written in a zone's fold (PEP 495: an ambiguous
    # local time never compares equal to a datetime in another zone).
    start = start.astimezone(UTC)
    found = find_slots(
        service,
        calendars,
        busy,
        window_start=start,
        window_end=start + _ONE_MICROSECOND,
        now=now,
        site_closed=site_closed,
        only_resource=only_resource,
    )
    return found[0] if found and found[0].start == start else None


def check_slot_under(
    rules: Rules,
    service: ServiceRules,
    calendars: Mapping[str, ResourceCalendar],
    busy: Iterable[Busy],
    *,
    start: datetime,
    now: datetime,
    site_closed: frozenset[date] = frozenset(),
    only_resource: str | None = None,
) -> tuple[Slot | None, bool]:
    """The slot at ``start`` under ``rules``, and whether it took an override to get it.

    Under rules that keep the hours this is :func:`check_slot`. Under
    ``Rules.OVERRIDE`` a start the engine would not offer (outside opening
    hours or the grid, within the notice, beyond the advance, on a closed day)
    is still taken when every group has a resource that is free for the
    buffered interval, exactly as busy time is judged for a listed slot: a
    booking, a hold or time off in the way, or a full session, refuses it.
    The second value is True only when the override was needed, so the
    history can say so.
    """
    slot = check_slot(service, calendars, busy, start=start, now=now, site_closed=site_closed,
                      only_resource=only_resource)
    if slot is not None or not rules.sets_aside_hours:
        return slot, False
    slot = _slot_at_any_time(service, calendars, busy, start=start, only_resource=only_resource)
    return slot, slot is not None


def _slot_at_any_time(
    service: ServiceRules,
    calendars: Mapping[str, ResourceCalendar],
    busy: Iterable[Busy],
    *,
    start: datetime,
    only_resource: str | None,
) -> Slot | None:
    """The slot at ``start`` judged on busy time and seats alone (an override).

    Each resource is taken to be open for exactly ``[start, end)``; the groups
    are then filled as a later group is in :func:`find_slots` (a running
    session first, else the first free resource in listed order, never one
    resource twice).
    """
    _require_aware("start", start)
    groups = _groups_for(service, only_resource)
    if not groups or start.microsecond:
        return None
    duration = _whole_seconds("duration", service.duration)
    before = _whole_seconds("buffer_before", service.buffer_before)
    after = _whole_seconds("buffer_after", service.buffer_after)
    keys = list(dict.fromkeys(key for group in groups for key in group))
    missing = [key for key in keys if key not in calendars]
    if missing:
        raise ValueError(f"no calendar for resource(s): {', '.join(missing)}")
    seats = service.seats
    at = _floor_seconds(start.astimezone(UTC))
    blocks = index_busy(busy, keys, session_service=service.key if seats > 1 else None, seats=seats,
                         reach_back=duration + after, reach_on=before)
    open_now: list[OpenRange] = [(at, at + duration, None)]
    by_key = {key: _Resource(key, blocks[key], open_now) for key in keys}
    picked: list[_Resource] = []
    for group in groups:
        pick = _pick_later([by_key[key] for key in group], picked, at, duration, seats)
        if pick is None:
            return None
        picked.append(pick)
    seats_left = seats - max(res.busy.taken.get(at, 0) for res in picked)
    begin = datetime.fromtimestamp(at, UTC)
    return Slot(begin, begin + service.duration, tuple(res.key for res in picked), seats_left)


# --- inputs --------------------------------------------------------------------------


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _whole_seconds(name: str, value: timedelta) -> int:
    if value.microseconds:
        raise ValueError(f"{name} must be a whole number of seconds")
    return value.days * DAY + value.seconds


def _floor_seconds(instant: datetime) -> int:
    delta = instant - EPOCH
    return delta.days * DAY + delta.seconds


def _ceil_seconds(instant: datetime) -> int:
    delta = instant - EPOCH
    return delta.days * DAY + delta.seconds + (1 if delta.microseconds else 0)


def _groups_for(service: ServiceRules, only_resource: str | None) -> tuple[tuple[str, ...], ...]:
    groups = service.resource_groups
    if not groups or not all(groups):
        return ()
    if only_resource is None:
        return groups
    for index, group in enumerate(groups):
        if only_resource in group:
            return groups[:index] + ((only_resource,),) + groups[index + 1 :]
    return ()


# --- open time (the ranges: open_time.py) -------------------------------------------


class _Resource:
    __slots__ = ("key", "busy", "ranges", "_open_starts", "_open_ends")

    def __init__(self, key: str, busy: Blocks, ranges: list[OpenRange]) -> None:
        self.key = key
        self.busy = busy
        self.ranges = ranges
        self._open_starts: list[int] | None = None
        self._open_ends: list[int] = []

    def is_open(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies inside one open range (any grid)."""
        if self._open_starts is None:
            ordered = sorted(self.ranges, key=lambda r: r[0])
            self._open_starts = [r[0] for r in ordered]
            # A running maximum of the ends, as ranges of adjacent dates may
            # overlap in UTC (a range to 24:00 before an autumn fold at midnight).
            self._open_ends = list(accumulate((r[1] for r in ordered), max))
        j = bisect_right(self._open_starts, start)
        return bool(j) and self._open_ends[j - 1] >= end




# --- starts --------------------------------------------------------------------------


def _free_starts(res: _Resource, duration: int, step: int, lowest: int, highest: int) -> list[int]:
    """The resource's free grid starts within ``[lowest, highest]``, ascending per range."""
    blocks = res.busy
    froms, untils = blocks.froms, blocks.untils
    reach_back, reach_on = blocks.reach_back, blocks.reach_on
    count = len(froms)
    out: list[int] = []
    for range_start, range_end, grid in res.ranges:
        last = range_end - duration
        if last > highest:
            last = highest
        if grid is not None:
            out += [
                start
                for start in grid
                if lowest <= start <= last
                and bisect_left(froms, start + reach_back) == bisect_right(untils, start - reach_on)
            ]
            continue
        origin = range_start
        # First grid point at or after ``lowest``, a ceiling division: origin
        # 09:00, step 15 min, lowest 09:20 → 09:30.
        start = origin if lowest <= origin else origin - (origin - lowest) // step * step
        if start > last:
            continue
        # ``begun``: blocks beginning before start + reach_back; ``ended``:
        # blocks ending at or before start - reach_on. Bisect once per range,
        # then step forward: the blocks inside one range are few.
        begun = bisect_left(froms, start + reach_back)
        ended = bisect_right(untils, start - reach_on)
        while True:
            if begun > ended:
                # Overlapping a block. Until the next block end nothing ends,
                # so every start before that end overlaps too: jump to the
                # first grid point at or after it.
                start = origin - int((origin - untils[ended] - reach_on) // step) * step
            else:
                # Free. Until the next block begins nothing new can overlap:
                # every grid point up to and including that begin (in start
                # terms) is free.
                segment_end = last
                if begun < count:
                    next_busy = floor(froms[begun] - reach_back)
                    if next_busy < last:
                        segment_end = next_busy
                out += range(start, segment_end + 1, step)
                start = origin + ((segment_end - origin) // step + 1) * step
            if start > last:
                break
            bound = start + reach_back
            while begun < count and froms[begun] < bound:
                begun += 1
            bound = start - reach_on
            while ended < count and untils[ended] <= bound:
                ended += 1
    return out


def _pick_later(
    group: list[_Resource], picked: list[_Resource], start: int, duration: int, seats: int
) -> _Resource | None:
    """The resource of a later group for ``start``, or ``None`` if none is free."""
    end = start + duration
    if seats > 1:
        for res in group:
            if (
                res.busy.taken.get(start)
                and res not in picked
                and res.is_open(start, end)
                and res.busy.is_free(start)
            ):
                return res
    for res in group:
        if res not in picked and res.is_open(start, end) and res.busy.is_free(start):
            return res
    return None
