"""Liveness with a real database round trip."""

from __future__ import annotations

import logging

from litestar import get
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from slotwise.persistence.engine import current_engine
from slotwise.web.problems import problem

log = logging.getLogger(__name__)


@get("/healthz", summary="200 when the server and its database answer", tags=["meta"])
async def healthz() -> dict[str, str]:
    try:
        await current_engine().run_ddl("SELECT 1")
    except Exception as exc:  # any failure to reach the database means "unhealthy"
        log.warning("health check: database unreachable: %s", exc)
        raise problem(HTTP_503_SERVICE_UNAVAILABLE, "unhealthy", "Database unreachable") from exc
    return {"status": "ok", "database": "ok"}
