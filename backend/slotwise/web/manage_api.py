"""The manage link's JSON side (for now: the calendar file)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from slotwise.clock import Clock
from slotwise.services import manage
from slotwise.services.calendar_files import booking_calendar
from slotwise.settings import Settings

# A manage link is a bearer secret: never cached, never leaked as a referrer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class ManageApi(Controller):
    path = "/api/v1/manage/{token:str}"
    tags = ["manage"]

    @get("/booking.ics", summary="The booking as an iCalendar file", media_type="text/calendar")
    async def booking_ics(
        self, token: FromPath[str], clock: NamedDependency[Clock], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        now = clock()
        record = await manage.booking_for_token(token, secret_key=settings.secret_key, now=now)
        body = booking_calendar(record, manage_url=f"{settings.base_url}/manage/{token}", now=now)
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="booking.ics"'},
        )
