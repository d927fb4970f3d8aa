"""Sandbox sites: ``[site] sandbox = true``.

A sandbox site's messages are never handed to a provider (they are kept for
the development outbox) and its API keys are ``sw_test_…``.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

_COLUMNS = [
    """ALTER TABLE "site" ADD COLUMN "sandbox" BOOLEAN NOT NULL DEFAULT false""",
    # Set when a message is queued for a sandbox site: it stays kept even if
    # the site later goes live (a test booking's reminder must not go out).
    """ALTER TABLE "outbox_message" ADD COLUMN "sandbox" BOOLEAN NOT NULL DEFAULT false""",
]


async def forwards(db: Engine) -> None:
    for statement in _COLUMNS:
        await db.run_ddl(statement)
