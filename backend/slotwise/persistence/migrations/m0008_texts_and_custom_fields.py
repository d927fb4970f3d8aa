"""Owner text per language, custom fields, and three more service fields.

- ``texts`` on services and resources: the fields an owner gave per language
  (field -> locale -> text); the plain columns keep the site's language.
- ``metadata`` on resources, services and bookings: an owner's own keys.
- ``category``, ``listed_duration_minutes`` and ``ask_address`` on services.
- ``customer_address`` on bookings: asked when the service says so.

The same statements on both engines: ``ALTER TABLE … ADD COLUMN`` with a
constant default is fine on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

STATEMENTS = [
    """ALTER TABLE "resource" ADD COLUMN "texts" JSON NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "resource" ADD COLUMN "metadata" JSON NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "service" ADD COLUMN "texts" JSON NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "service" ADD COLUMN "metadata" JSON NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "service" ADD COLUMN "category" VARCHAR(200) DEFAULT null""",
    """ALTER TABLE "service" ADD COLUMN "listed_duration_minutes" INTEGER DEFAULT null""",
    """ALTER TABLE "service" ADD COLUMN "ask_address" BOOLEAN NOT NULL DEFAULT false""",
    """ALTER TABLE "booking" ADD COLUMN "metadata" JSON NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "booking" ADD COLUMN "customer_address" TEXT DEFAULT null""",
]


async def forwards(db: Engine) -> None:
    for statement in STATEMENTS:
        await db.run_ddl(statement)
