"""The audit log: one row per change to a site's configuration (who, when, which fields).

The DDL is what Piccolo 1.38's ``create_table()`` printed for ``AuditEntry``
on each engine (only the line breaks are ours). See ``docs/decisions.md``
(The audit log).
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = """
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "actor_kind" VARCHAR(16) NOT NULL DEFAULT 'system',
        "actor_ref" VARCHAR(255) DEFAULT null,
        "actor_label" VARCHAR(200) DEFAULT null,
        "via" VARCHAR(32) NOT NULL DEFAULT '',
        "action" VARCHAR(16) NOT NULL DEFAULT '',
        "object_kind" VARCHAR(16) NOT NULL DEFAULT '',
        "object_ref" VARCHAR(255) NOT NULL DEFAULT '',
        "changes" JSON NOT NULL DEFAULT '[]'
    )"""

POSTGRES = [
    f"""CREATE TABLE "audit_entry" (
        "id" SERIAL PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX audit_entry_site ON "audit_entry" USING btree ("site")""",
]

SQLITE = [
    f"""CREATE TABLE "audit_entry" (
        "id" INTEGER PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX audit_entry_site ON "audit_entry" ("site")""",
]


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
