"""API keys: a program's access to one site's admin API.

Only a key's SHA-256 is stored (``token_hash``, unique: the lookup on every
request); the scopes are a JSON list; revoking sets ``revoked_at``, which the
next request in any process reads, since keys are never cached.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

POSTGRES = [
    """CREATE TABLE "api_key" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "name" VARCHAR(200) NOT NULL DEFAULT '',
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "hint" VARCHAR(16) NOT NULL DEFAULT '',
        "scopes" JSON NOT NULL DEFAULT '[]',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ DEFAULT null,
        "revoked_at" TIMESTAMPTZ DEFAULT null,
        "last_used_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE INDEX api_key_site ON "api_key" USING btree ("site")""",
]

SQLITE = [
    """CREATE TABLE "api_key" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "name" VARCHAR(200) NOT NULL DEFAULT '',
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "hint" VARCHAR(16) NOT NULL DEFAULT '',
        "scopes" JSON NOT NULL DEFAULT '[]',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ DEFAULT null,
        "revoked_at" TIMESTAMPTZ DEFAULT null,
        "last_used_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE INDEX api_key_site ON "api_key" ("site")""",
]


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
