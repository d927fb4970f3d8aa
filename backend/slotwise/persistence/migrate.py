"""Bring the schema up to date (idempotent)."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.sqlite import SQLiteEngine

from slotwise.persistence.engine import current_engine
from slotwise.persistence.piccolo_app import APP_NAME


class MigrationError(RuntimeError):
    pass


async def migrate(*, verbose: bool = False) -> None:
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        # Write-ahead logging lets the availability reads go on while a booking
        # holds the write lock; the setting is stored in the file, set once.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    # Piccolo narrates each migration on stdout; keep it for `slotwise migrate`.
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with sink:
        result = await run_forwards(app_name=APP_NAME)
    if not result.success:
        raise MigrationError(result.message or "migration failed")
