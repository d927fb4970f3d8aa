"""Calendar feeds out: one secret feed URL per resource or per site, and whether feeds name customers.

``feed.target`` is ``site:<id>`` or ``resource:<id>`` (unique: regenerating
replaces the one row's token). Only the token's SHA-256 is stored.
``content_hash``/``changed_at`` remember the last body served, so
``Last-Modified`` is the first time that content was served. See
``docs/feeds.md``.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = """
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "resource" INTEGER REFERENCES "resource" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "target" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "content_hash" VARCHAR(64) NOT NULL DEFAULT '',
        "changed_at" TIMESTAMPTZ DEFAULT null
    )"""

_SITE_COLUMN = """ALTER TABLE "site" ADD COLUMN "feed_customer_names" BOOLEAN NOT NULL DEFAULT false"""

POSTGRES = [
    _SITE_COLUMN,
    f"""CREATE TABLE "feed" (
        "id" SERIAL PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX feed_site ON "feed" USING btree ("site")""",
]

SQLITE = [
    _SITE_COLUMN,
    f"""CREATE TABLE "feed" (
        "id" INTEGER PRIMARY KEY NOT NULL,{_COLUMNS}""",
    """CREATE INDEX feed_site ON "feed" ("site")""",
]


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
