"""Whether this process can reach its database."""

from __future__ import annotations

import logging

from slotwise.persistence.engine import current_engine

log = logging.getLogger(__name__)


async def database_answers() -> bool:
    """One real round trip; any failure to reach the database means "no"."""
    try:
        await current_engine().run_ddl("SELECT 1")
    except Exception as exc:  # a refused connection, a timeout, a broken pool: all "unhealthy"
        log.warning("health check: database unreachable: %s", exc)
        return False
    return True
