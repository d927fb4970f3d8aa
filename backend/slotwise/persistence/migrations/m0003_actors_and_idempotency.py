"""Who made each change, and one idempotency table for any write.

- ``booking_event`` gains the actor of each change (kind, ref, label). Every
  change recorded before this migration was made by a customer (the widget,
  the public API or a manage link were the only ways to change a booking),
  so existing rows are marked so.
- ``idempotency_key`` replaces ``idempotency_record``, which could only
  remember bookings: it stores a scope, the key, the request's hash and a
  small JSON result, usable by any write. Stored keys live 24 hours; the old
  rows are dropped rather than copied (at worst a retry within the day of the
  upgrade makes its write again, as if sent without a key).
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_ACTOR_COLUMNS = [
    """ALTER TABLE "booking_event" ADD COLUMN "actor_kind" VARCHAR(16) NOT NULL DEFAULT 'system'""",
    """ALTER TABLE "booking_event" ADD COLUMN "actor_ref" VARCHAR(255) DEFAULT null""",
    """ALTER TABLE "booking_event" ADD COLUMN "actor_label" VARCHAR(200) DEFAULT null""",
    """UPDATE "booking_event" SET "actor_kind" = 'customer'""",
]

POSTGRES = [
    *_ACTOR_COLUMNS,
    """CREATE TABLE "idempotency_key" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "scope" VARCHAR(160) NOT NULL DEFAULT '',
        "key" VARCHAR(255) NOT NULL DEFAULT '',
        "request_hash" VARCHAR(64) NOT NULL DEFAULT '',
        "result" JSON NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE INDEX idempotency_key_expires_at ON "idempotency_key" USING btree ("expires_at")""",
    """DROP TABLE "idempotency_record\"""",
]

SQLITE = [
    *_ACTOR_COLUMNS,
    """CREATE TABLE "idempotency_key" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "scope" VARCHAR(160) NOT NULL DEFAULT '',
        "key" VARCHAR(255) NOT NULL DEFAULT '',
        "request_hash" VARCHAR(64) NOT NULL DEFAULT '',
        "result" JSON NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE INDEX idempotency_key_expires_at ON "idempotency_key" ("expires_at")""",
    """DROP TABLE "idempotency_record\"""",
]

# Indexes tables.py cannot declare (the schema test adds these to the tables it builds).
STATEMENTS = [
    # One stored outcome per scope and key: two requests racing with one key
    # cannot both record theirs; the loser finds the winner's and replays it.
    "CREATE UNIQUE INDEX idempotency_key_scope_key ON idempotency_key (scope, key)",
]


async def forwards(db: Engine) -> None:
    for statement in [*(POSTGRES if db.engine_type == "postgres" else SQLITE), *STATEMENTS]:
        await db.run_ddl(statement)
