"""SQL sweeps that prove no resource ever carries more than its capacity."""

from __future__ import annotations

from slotwise.persistence.tables import Allocation

# Two booked blocks on one resource that overlap in time and are not seats of
# the same group session (same service, same start) are a double booking.
OVERLAPPING_PAIRS = """
SELECT count(*) AS violations
FROM allocation a
JOIN allocation b
  ON a.resource = b.resource AND a.id < b.id
 AND a.blocked_from < b.blocked_until AND b.blocked_from < a.blocked_until
 AND NOT (a.service = b.service AND a.start_at = b.start_at)
WHERE a.booking IS NOT NULL AND b.booking IS NOT NULL
"""

# A group session with more booked seats than the service offers.
OVERFULL_SESSIONS = """
SELECT count(*) AS violations FROM (
  SELECT a.resource, a.service, a.start_at
  FROM allocation a JOIN service s ON s.id = a.service
  WHERE a.booking IS NOT NULL
  GROUP BY a.resource, a.service, a.start_at, s.seats
  HAVING sum(a.seats) > s.seats
) AS overfull
"""


async def capacity_violations() -> int:
    pairs = await Allocation.raw(OVERLAPPING_PAIRS)
    sessions = await Allocation.raw(OVERFULL_SESSIONS)
    return pairs[0]["violations"] + sessions[0]["violations"]
