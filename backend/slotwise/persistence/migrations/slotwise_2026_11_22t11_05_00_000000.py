"""Busy-time lookups scan (resource, blocked_from) over a range bounded on both ends.

The first index led with blocked_until, so "blocks ending after the window
opens" scanned every future booking of a resource; blocks have a bounded
length, so a range on blocked_from reads only the window's rows.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T11:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "allocation index on (resource, blocked_from)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="slotwise", description=DESCRIPTION)

    async def run():
        from slotwise.persistence.tables import Site

        await Site.raw("DROP INDEX allocation_resource_blocked")
        await Site.raw("CREATE INDEX allocation_resource_from ON allocation (resource, blocked_from)")

    manager.add_raw(run)
    return manager
