"""Owner accounts: accounts, their memberships of sites, sessions, one-time links, sign-in failures.

The table DDL is what Piccolo 1.38's ``create_table()`` printed for each
engine on 2026-12-01 for the classes added to ``tables.py`` (only the line
breaks are ours). See ``docs/decisions.md`` (Accounts and sessions).
"""

from __future__ import annotations

from piccolo.engine.base import Engine

POSTGRES = [
    """CREATE TABLE "account" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "email" VARCHAR(254) UNIQUE NOT NULL DEFAULT '',
        "name" VARCHAR(200) NOT NULL DEFAULT '',
        "locale" VARCHAR(8) NOT NULL DEFAULT 'en',
        "password_hash" VARCHAR(255) DEFAULT null,
        "disabled" BOOLEAN NOT NULL DEFAULT false,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "last_sign_in_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE TABLE "membership" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "role" VARCHAR(16) NOT NULL DEFAULT '',
        "resource_key" VARCHAR(63) DEFAULT null,
        "added_by" VARCHAR(255) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE INDEX membership_account ON "membership" USING btree ("account")""",
    """CREATE INDEX membership_site ON "membership" USING btree ("site")""",
    """CREATE TABLE "account_session" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "last_seen_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "revoked_at" TIMESTAMPTZ DEFAULT null,
        "user_agent" VARCHAR(255) NOT NULL DEFAULT '',
        "client_address" VARCHAR(64) NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX account_session_account ON "account_session" USING btree ("account")""",
    """CREATE TABLE "account_token" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "salt" VARCHAR(32) NOT NULL DEFAULT '',
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "purpose" VARCHAR(16) NOT NULL DEFAULT '',
        "message_uid" UUID DEFAULT null,
        "issued_by" VARCHAR(255) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "used_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE INDEX account_token_account ON "account_token" USING btree ("account")""",
    """CREATE TABLE "sign_in_failure" (
        "id" SERIAL PRIMARY KEY NOT NULL,
        "email" VARCHAR(254) NOT NULL DEFAULT '',
        "client_address" VARCHAR(64) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
]

SQLITE = [
    """CREATE TABLE "account" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "email" VARCHAR(254) UNIQUE NOT NULL DEFAULT '',
        "name" VARCHAR(200) NOT NULL DEFAULT '',
        "locale" VARCHAR(8) NOT NULL DEFAULT 'en',
        "password_hash" VARCHAR(255) DEFAULT null,
        "disabled" BOOLEAN NOT NULL DEFAULT false,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "last_sign_in_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE TABLE "membership" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "role" VARCHAR(16) NOT NULL DEFAULT '',
        "resource_key" VARCHAR(63) DEFAULT null,
        "added_by" VARCHAR(255) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE INDEX membership_account ON "membership" ("account")""",
    """CREATE INDEX membership_site ON "membership" ("site")""",
    """CREATE TABLE "account_session" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "last_seen_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "revoked_at" TIMESTAMPTZ DEFAULT null,
        "user_agent" VARCHAR(255) NOT NULL DEFAULT '',
        "client_address" VARCHAR(64) NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX account_session_account ON "account_session" ("account")""",
    """CREATE TABLE "account_token" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "salt" VARCHAR(32) NOT NULL DEFAULT '',
        "account" INTEGER REFERENCES "account" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "purpose" VARCHAR(16) NOT NULL DEFAULT '',
        "message_uid" UUID DEFAULT null,
        "issued_by" VARCHAR(255) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "used_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE INDEX account_token_account ON "account_token" ("account")""",
    """CREATE TABLE "sign_in_failure" (
        "id" INTEGER PRIMARY KEY NOT NULL,
        "email" VARCHAR(254) NOT NULL DEFAULT '',
        "client_address" VARCHAR(64) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
]

# Indexes tables.py cannot declare (the schema test adds these to the tables it builds).
STATEMENTS = [
    # One membership per account and site: a second `account add` changes the role in place.
    "CREATE UNIQUE INDEX membership_account_site ON membership (account, site)",
    # The rate limits count one email's and one client's failures within a window.
    "CREATE INDEX sign_in_failure_email_at ON sign_in_failure (email, created_at)",
    "CREATE INDEX sign_in_failure_client_at ON sign_in_failure (client_address, created_at)",
]


async def forwards(db: Engine) -> None:
    for statement in [*(POSTGRES if db.engine_type == "postgres" else SQLITE), *STATEMENTS]:
        await db.run_ddl(statement)
