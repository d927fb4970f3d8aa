"""Time off: spans of any length during which a resource cannot be booked."""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = """
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "resource" INTEGER REFERENCES "resource" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "start_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "end_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "reason" TEXT NOT NULL DEFAULT '',
        "actor_kind" VARCHAR(16) NOT NULL DEFAULT 'system',
        "actor_ref" VARCHAR(255) DEFAULT null,
        "actor_label" VARCHAR(200) DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )"""

POSTGRES = [
    f"""CREATE TABLE "time_off" (
        "id" SERIAL PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX time_off_site ON "time_off" USING btree ("site")""",
    """CREATE INDEX time_off_resource ON "time_off" USING btree ("resource")""",
]

SQLITE = [
    f"""CREATE TABLE "time_off" (
        "id" INTEGER PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX time_off_site ON "time_off" ("site")""",
    """CREATE INDEX time_off_resource ON "time_off" ("resource")""",
]


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
