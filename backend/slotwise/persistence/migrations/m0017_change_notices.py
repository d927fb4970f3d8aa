"""PostgreSQL tells listening processes which tables changed (``persistence/change_feed.py``).

A statement-level trigger on each table an in-process cache reads sends
``NOTIFY slotwise_changed, '<table>'``. PostgreSQL delivers notifications only
when the transaction commits, once per distinct payload per transaction, so a
booking that writes ten allocation rows costs one notice. SQLite has no
notifications and keeps no caches: nothing to do there.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

# The tables the caches of change_feed.py may watch. A cache of another table
# needs a migration adding its trigger (change_feed refuses unknown tables).
TABLES = (
    "booking", "allocation", "time_off", "calendar_busy",
    "site", "resource", "service",
    "api_key", "account", "account_session", "membership",
    "webhook_endpoint",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION slotwise_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('slotwise_changed', TG_TABLE_NAME);
    RETURN NULL;
END
$$"""


def trigger(table: str) -> str:
    return (
        f'CREATE TRIGGER "{table}_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
        " FOR EACH STATEMENT EXECUTE FUNCTION slotwise_notify_change()"
    )


async def forwards(db: Engine) -> None:
    if db.engine_type != "postgres":
        return
    await db.run_ddl(FUNCTION)
    for table in TABLES:
        await db.run_ddl(trigger(table))
