"""Busy calendars in, bookings written back: connections, their busy blocks, the write-back outbox.

``calendar_connection`` is one ICS URL or CalDAV calendar of a resource (the
password encrypted, see ``services/secret_box.py``); ``calendar_busy``
holds the busy blocks of its last good sync, replaced whole by the next good
one; ``calendar_write`` queues each booking change to write back to CalDAV.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_CONNECTION = """
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "resource" INTEGER REFERENCES "resource" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "kind" VARCHAR(8) NOT NULL DEFAULT '',
        "url" TEXT NOT NULL DEFAULT '',
        "username" VARCHAR(255) DEFAULT null,
        "password_encrypted" TEXT DEFAULT null,
        "write_bookings" BOOLEAN NOT NULL DEFAULT false,
        "state" VARCHAR(16) NOT NULL DEFAULT 'pending',
        "last_synced_at" TIMESTAMPTZ DEFAULT null,
        "last_attempt_at" TIMESTAMPTZ DEFAULT null,
        "last_error" TEXT DEFAULT null,
        "failures" INTEGER NOT NULL DEFAULT 0,
        "etag" VARCHAR(255) DEFAULT null,
        "last_modified" VARCHAR(64) DEFAULT null,
        "next_sync_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "claimed_until" TIMESTAMPTZ DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )"""

_BUSY = """
        "connection" INTEGER REFERENCES "calendar_connection" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "resource" INTEGER REFERENCES "resource" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "start_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "end_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "uid" VARCHAR(255) NOT NULL DEFAULT ''
    )"""

_WRITE = """
        "connection" INTEGER REFERENCES "calendar_connection" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "booking" INTEGER REFERENCES "booking" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "action" VARCHAR(8) NOT NULL DEFAULT '',
        "status" VARCHAR(16) NOT NULL DEFAULT 'queued',
        "attempts" INTEGER NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "claimed_until" TIMESTAMPTZ DEFAULT null,
        "last_error" TEXT DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "done_at" TIMESTAMPTZ DEFAULT null
    )"""


def _statements(serial: str, using: str) -> list[str]:
    return [
        f'CREATE TABLE "calendar_connection" ("id" {serial},{_CONNECTION}',
        f'CREATE INDEX calendar_connection_site ON "calendar_connection" {using}("site")',
        f'CREATE INDEX calendar_connection_resource ON "calendar_connection" {using}("resource")',
        f'CREATE INDEX calendar_connection_next_sync_at ON "calendar_connection" {using}("next_sync_at")',
        f'CREATE TABLE "calendar_busy" ("id" {serial},{_BUSY}',
        f'CREATE INDEX calendar_busy_connection ON "calendar_busy" {using}("connection")',
        f'CREATE INDEX calendar_busy_resource ON "calendar_busy" {using}("resource")',
        f'CREATE TABLE "calendar_write" ("id" {serial},{_WRITE}',
        f'CREATE INDEX calendar_write_connection ON "calendar_write" {using}("connection")',
        f'CREATE INDEX calendar_write_booking ON "calendar_write" {using}("booking")',
        f'CREATE INDEX calendar_write_next_attempt_at ON "calendar_write" {using}("next_attempt_at")',
    ]


# Indexes tables.py cannot declare: the busy query's range scan, per resource by start.
STATEMENTS = [
    "CREATE INDEX calendar_busy_resource_start ON calendar_busy (resource, start_at)",
]

POSTGRES = _statements("SERIAL PRIMARY KEY NOT NULL", "USING btree ")
SQLITE = _statements("INTEGER PRIMARY KEY NOT NULL", "")


async def forwards(db: Engine) -> None:
    for statement in [*(POSTGRES if db.engine_type == "postgres" else SQLITE), *STATEMENTS]:
        await db.run_ddl(statement)
