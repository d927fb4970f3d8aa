"""One idempotency record per site, scope and key (a unique index works on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T10:49:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique idempotency keys"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="slotwise", description=DESCRIPTION)

    async def run():
        from slotwise.persistence.tables import Site

        await Site.raw(
            "CREATE UNIQUE INDEX idempotency_site_scope_key ON idempotency_record (site, scope, key)"
        )

    manager.add_raw(run)
    return manager
