"""Composite keys and the busy-time index, valid DDL on SQLite and PostgreSQL.

Piccolo's ``Unique`` constraints break SQLite migrations (``ALTER TABLE ... ADD
CONSTRAINT``), so uniqueness across two columns is a unique index instead.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys per site; allocation lookup index"

STATEMENTS = [
    "CREATE UNIQUE INDEX resource_site_key ON resource (site, key)",
    "CREATE UNIQUE INDEX service_site_slug ON service (site, slug)",
    # The availability query asks: which blocks on these resources end after
    # the window opens? Leading with resource keeps each lookup to one range.
    "CREATE INDEX allocation_resource_blocked ON allocation (resource, blocked_until)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="slotwise", description=DESCRIPTION)

    async def run():
        from slotwise.persistence.tables import Site

        for statement in STATEMENTS:
            await Site.raw(statement)

    manager.add_raw(run)
    return manager
