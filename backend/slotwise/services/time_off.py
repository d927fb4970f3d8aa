"""Time off: block a resource for any span (an afternoon, a fortnight), or free it again.

Time off is busy time, read afresh by every availability query and booking,
so it takes effect at once in every process. Bookings already inside the span
stay (the owner decides what to do with them); the answer names them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.domain.actors import Actor
from slotwise.domain.model import Site, TimeOff
from slotwise.persistence import bookings as booking_store
from slotwise.persistence import queries
from slotwise.persistence import time_off as store
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound

# A year covers a sabbatical; longer is a resource that should be retired.
LONGEST_TIME_OFF = timedelta(days=366)
REASON_MAX = 500
VIA = "admin-api"  # how the audit log names this way in


@dataclass(frozen=True, slots=True)
class Added:
    time_off: TimeOff
    overlapping: list[str]  # uids of confirmed bookings inside the span


async def _resource_id(site: Site, key: str) -> int:
    found = await queries.load_resources(site, [key])
    if key not in found:
        raise NotFound("resource", key)
    return found[key].id


async def add_time_off(site: Site, resource: str, *, start: datetime, end: datetime, reason: str | None,
                       actor: Actor, now: datetime) -> Added:
    problems: list[FieldProblem] = []
    if end <= start:
        problems.append(FieldProblem("end", "end-before-start"))
    elif end - start > LONGEST_TIME_OFF:
        problems.append(FieldProblem("end", "range-too-long", {"days": LONGEST_TIME_OFF.days}))
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        problems.append(FieldProblem("reason", "text-too-long", {"limit": REASON_MAX}))
    if problems:
        raise InvalidInput(problems)
    async with write_transaction(current_engine()):
        resource_id = await _resource_id(site, resource)
        # Bookings of this resource wait for this transaction, and it for them:
        # the list of bookings inside the span is exact when it commits.
        await booking_store.lock_resources([resource_id])
        added = await store.insert(public_id="off_" + secrets.token_hex(8), site_id=site.id,
                                   resource_id=resource_id, start=start, end=end, reason=reason,
                                   actor=actor, now=now)
        overlapping = await store.bookings_during(resource_id, start, end)
        await audit.record(site.id, actor=actor, now=now, via=VIA, kind="time_off", ref=added.public_id,
                           before=None, after=_audited(added))
    return Added(added, overlapping)


async def remove_time_off(site: Site, resource: str, public_id: str, *, actor: Actor, now: datetime) -> None:
    """Free the span again. ``actor`` is who did it; the audit log records it."""
    async with write_transaction(current_engine()):
        found = await store.by_public_id(site.id, public_id)
        if found is None or found.resource != resource:
            raise NotFound("time off", public_id)
        await store.delete(found.id)
        await audit.record(site.id, actor=actor, now=now, via=VIA, kind="time_off", ref=public_id,
                           before=_audited(found), after=None)


def _audited(entry: TimeOff) -> dict[str, object]:
    """Time off as the audit log shows it: whose, when (UTC), why."""
    return {"resource": entry.resource, "start": entry.start, "end": entry.end, "reason": entry.reason}


async def time_off_of(site: Site, resource: str, *, now: datetime) -> list[TimeOff]:
    """The resource's time off that has not ended yet, in start order."""
    async with read_transaction(current_engine()):
        return await store.of_resource(await _resource_id(site, resource), ending_after=now)
