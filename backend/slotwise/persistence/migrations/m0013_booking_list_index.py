"""An index for the bookings list: one site's bookings in (start, id) order.

The admin API lists a site's bookings by start time, then id (the keyset
cursor). With only ``booking_site`` and ``booking_start_at``, PostgreSQL
combined two bitmap scans (all of the site's bookings, and every site's in
the window), then sorted; this index reads the page's rows in order and stops
at the page's end (bench/admin.py: the statement went from about 0.75 ms to
0.5 ms). The same DDL serves both engines.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

STATEMENTS = [
    "CREATE INDEX booking_site_start ON booking (site, start_at, id)",
]


async def forwards(db: Engine) -> None:
    for statement in STATEMENTS:
        await db.run_ddl(statement)
