"""Indexes ``tables.py`` cannot declare: keys unique across two or three columns, and busy time.

Collected from the squashed Piccolo migrations of 2026-11-22 (raw SQL there
too). Each is a unique *index* rather than a ``UNIQUE`` constraint because
SQLite cannot add a constraint to an existing table; the same DDL runs on both
engines.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

STATEMENTS = [
    # A resource's key and a service's slug are unique within their site.
    "CREATE UNIQUE INDEX resource_site_key ON resource (site, key)",
    "CREATE UNIQUE INDEX service_site_slug ON service (site, slug)",
    # The availability query asks for the blocks of some resources in a window.
    # Blocks have a bounded length, so a range on blocked_from reads only the
    # window's rows; leading with blocked_until would scan every future block.
    "CREATE INDEX allocation_resource_from ON allocation (resource, blocked_from)",
    # One stored answer per site, scope and idempotency key.
    "CREATE UNIQUE INDEX idempotency_site_scope_key ON idempotency_record (site, scope, key)",
    # One opt-out per channel and address.
    "CREATE UNIQUE INDEX opt_out_channel_address ON opt_out (channel, address)",
]


async def forwards(db: Engine) -> None:
    for statement in STATEMENTS:
        await db.run_ddl(statement)
