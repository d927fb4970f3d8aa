"""One opt-out per channel and address (a unique index works on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T11:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique opt-outs"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="slotwise", description=DESCRIPTION)

    async def run():
        from slotwise.persistence.tables import Site

        await Site.raw("CREATE UNIQUE INDEX opt_out_channel_address ON opt_out (channel, address)")

    manager.add_raw(run)
    return manager
