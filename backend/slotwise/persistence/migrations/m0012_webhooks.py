"""Webhooks: endpoints per site, one delivery per event and endpoint, and each attempt's log."""

from __future__ import annotations

from piccolo.engine.base import Engine

_ENDPOINT = """
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "site" INTEGER REFERENCES "site" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "url" TEXT NOT NULL DEFAULT '',
        "events" JSON NOT NULL DEFAULT '[]',
        "description" TEXT NOT NULL DEFAULT '',
        "enabled" BOOLEAN NOT NULL DEFAULT true,
        "disabled_reason" TEXT DEFAULT null,
        "secret_sealed" TEXT NOT NULL DEFAULT '',
        "previous_secret_sealed" TEXT DEFAULT null,
        "previous_secret_until" TIMESTAMPTZ DEFAULT null,
        "last_success_at" TIMESTAMPTZ DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )"""

_DELIVERY = """
        "public_id" VARCHAR(32) UNIQUE NOT NULL DEFAULT '',
        "endpoint" INTEGER REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "message_id" VARCHAR(64) NOT NULL DEFAULT '',
        "event_type" VARCHAR(32) NOT NULL DEFAULT '',
        "payload" TEXT NOT NULL DEFAULT '',
        "status" VARCHAR(16) NOT NULL DEFAULT 'queued',
        "attempts" INTEGER NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "claimed_until" TIMESTAMPTZ DEFAULT null,
        "last_status" INTEGER DEFAULT null,
        "last_error" TEXT DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "finished_at" TIMESTAMPTZ DEFAULT null
    )"""

_ATTEMPT = """
        "delivery" INTEGER REFERENCES "webhook_delivery" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "attempted_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "outcome" VARCHAR(16) NOT NULL DEFAULT '',
        "status_code" INTEGER DEFAULT null,
        "duration_ms" INTEGER NOT NULL DEFAULT 0,
        "response_excerpt" TEXT NOT NULL DEFAULT '',
        "error" TEXT DEFAULT null
    )"""


def _statements(primary_key: str, using: str) -> list[str]:
    return [
        f"""CREATE TABLE "webhook_endpoint" (
        "id" {primary_key},{_ENDPOINT}""",
        f"""CREATE INDEX webhook_endpoint_site ON "webhook_endpoint" {using}("site")""",
        f"""CREATE TABLE "webhook_delivery" (
        "id" {primary_key},{_DELIVERY}""",
        f"""CREATE INDEX webhook_delivery_endpoint ON "webhook_delivery" {using}("endpoint")""",
        f"""CREATE INDEX webhook_delivery_next_attempt_at ON "webhook_delivery" {using}("next_attempt_at")""",
        f"""CREATE INDEX webhook_delivery_created_at ON "webhook_delivery" {using}("created_at")""",
        f"""CREATE TABLE "webhook_attempt" (
        "id" {primary_key},{_ATTEMPT}""",
        f"""CREATE INDEX webhook_attempt_delivery ON "webhook_attempt" {using}("delivery")""",
    ]


POSTGRES = _statements("SERIAL PRIMARY KEY NOT NULL", "USING btree ")
SQLITE = _statements("INTEGER PRIMARY KEY NOT NULL", "")


async def forwards(db: Engine) -> None:
    for statement in POSTGRES if db.engine_type == "postgres" else SQLITE:
        await db.run_ddl(statement)
