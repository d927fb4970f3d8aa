"""Liveness with a real database round trip."""

from __future__ import annotations

from litestar import get
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from slotwise.services.health import database_answers
from slotwise.web.problems import problem


@get("/healthz", summary="200 when the server and its database answer", tags=["meta"])
async def healthz() -> dict[str, str]:
    if not await database_answers():
        raise problem(HTTP_503_SERVICE_UNAVAILABLE, "unhealthy", "Database unreachable")
    return {"status": "ok", "database": "ok"}
