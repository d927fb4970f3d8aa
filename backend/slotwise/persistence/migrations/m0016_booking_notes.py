"""Internal notes on bookings: what the team writes about a booking, never shown to the customer."""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = """
        "booking" INTEGER UNIQUE REFERENCES "booking" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "text" TEXT NOT NULL DEFAULT '',
        "actor_kind" VARCHAR(16) NOT NULL DEFAULT 'system',
        "actor_ref" VARCHAR(255) DEFAULT null,
        "actor_label" VARCHAR(200) DEFAULT null,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )"""

POSTGRES = [
    f"""CREATE TABLE "booking_note" (
        "id" SERIAL PRIMARY KEY NOT NULL,{_COLUMNS}""",
]

SQLITE = [
    f"""CREATE TABLE "booking_note" (
        "id" INTEGER PRIMARY KEY NOT NULL,{_COLUMNS}""",
]


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
