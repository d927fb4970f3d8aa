"""Who took a hold: a hash of the client's address, so one client cannot hold a whole day.

The cap on live holds per client and site (``SLOTWISE_HOLDS_PER_CLIENT``)
counts a site's live holds with the same ``client``. The address itself is
never stored (a hold row outlives its expiry by an hour before it is pruned).
Holds taken before this migration have none and count for nobody.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

STATEMENTS = [
    """ALTER TABLE "hold" ADD COLUMN "client" VARCHAR(64) DEFAULT null""",
    """CREATE INDEX hold_client ON "hold" ("client")""",
]


async def forwards(db: Engine) -> None:
    for statement in STATEMENTS:
        await db.run_ddl(statement)
