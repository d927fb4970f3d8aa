"""A version on each site, raised by every change to its configuration.

Each process keeps a copy of a site's configuration for a moment (for
speed); a booking compares the copy's version with this one inside its
transaction and reloads when they differ, so no process ever accepts a booking
that the configuration in force refuses.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = [
    """ALTER TABLE "site" ADD COLUMN "config_version" INTEGER NOT NULL DEFAULT 0""",
]


async def forwards(db: Engine) -> None:
    for statement in _COLUMNS:
        await db.run_ddl(statement)
