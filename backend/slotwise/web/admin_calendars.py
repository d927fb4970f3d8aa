"""The admin API's connected calendars of a resource: ICS URLs and CalDAV calendars whose busy time blocks it.

``POST …/calendars`` connects one (``catalog:write``; honours
``Idempotency-Key``) and answers 201 before its first sync, which the worker
starts at once; ``GET`` lists them with their sync state (``catalog:read``);
``DELETE …/calendars/{id}`` removes one and its busy blocks;
``POST …/calendars/{id}/sync`` syncs now and answers the result. Passwords are
write-only. See ``services/calendars.py`` and docs/calendars.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from pydantic import ConfigDict, Field

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.persistence.calendars import Connection
from slotwise.services import access
from slotwise.services import calendars as calendar_service
from slotwise.services.access import Caller
from slotwise.services.calendars import Outbound, shown_url
from slotwise.settings import Settings
from slotwise.web.admin_api import provide_caller
from slotwise.web.bodies import Body
from slotwise.web.booking_api import idempotency_key


class CalendarIn(Body):
    """What a connection takes; the service checks the values (the kind, the URL and its address)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "ics", "url": "https://calendar.example.com/anna/busy.ics"},
        {"kind": "caldav", "url": "https://dav.example.com/calendars/anna/work/", "username": "anna",
         "password": "app-password", "write_bookings": True}]})

    kind: Annotated[str, Field(description="ics | caldav")]
    url: Annotated[str, Field(description="http or https; a private address only where allowed")]
    username: Annotated[str | None, Field(description="CalDAV only")] = None
    password: Annotated[str | None, Field(description="CalDAV only; stored encrypted, never shown")] = None
    write_bookings: Annotated[bool, Field(
        description="CalDAV only: write this resource's bookings into the calendar")] = False


@dataclass(frozen=True)
class CalendarOut:
    id: str  # cal_…
    resource: str
    kind: str
    url: str  # without any user:password part
    username: str | None
    write_bookings: bool
    state: str  # pending (not synced yet) | ok | error
    last_synced_at: str | None  # the last successful sync, ISO in UTC
    last_error: str | None  # the last failure's message while state is error
    failures: int  # failed syncs in a row
    created_at: str


@dataclass(frozen=True)
class CalendarListOut:
    data: list[CalendarOut]
    next_cursor: str | None = None


def calendar_out(connection: Connection) -> CalendarOut:
    return CalendarOut(
        id=connection.public_id, resource=connection.resource, kind=connection.kind,
        url=shown_url(connection.url), username=connection.username, write_bookings=connection.write_bookings,
        state=connection.state,
        last_synced_at=connection.last_synced_at.isoformat() if connection.last_synced_at else None,
        last_error=connection.last_error if connection.state == "error" else None,
        failures=connection.failures, created_at=connection.created_at.isoformat(),
    )


class AdminCalendarsApi(Controller):
    path = "/api/v1/admin/sites/{site:str}/resources/{resource:str}/calendars"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/", summary="The resource's connected calendars with their sync state (catalog:read)")
    async def calendars(self, site: FromPath[str], resource: FromPath[str],
                        caller: NamedDependency[Caller]) -> CalendarListOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ, [resource])
        return CalendarListOut(data=[calendar_out(c) for c in await calendar_service.calendars_of(found, resource)])

    @post("/", status_code=HTTP_201_CREATED,
          summary="Connect an ICS URL or a CalDAV calendar: {kind, url, username?, password?, write_bookings?}")
    async def connect(self, request: Request, site: FromPath[str], resource: FromPath[str],
                      data: JSONBody[CalendarIn], caller: NamedDependency[Caller],
                      clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> CalendarOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE, [resource])
        connection = await calendar_service.connect_calendar(
            found, resource, kind=data.kind, url=data.url, username=data.username,
            password=data.password, write_bookings=data.write_bookings, actor=caller.actor,
            now=clock(), outbound=Outbound.from_settings(settings), idempotency_key=idempotency_key(request))
        return calendar_out(connection)

    @delete("/{calendar_id:str}", summary="Disconnect: its busy blocks stop blocking at once")
    async def disconnect(self, site: FromPath[str], resource: FromPath[str], calendar_id: FromPath[str],
                         caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> None:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE, [resource])
        await calendar_service.disconnect_calendar(found, resource, calendar_id, actor=caller.actor, now=clock())

    @post("/{calendar_id:str}/sync", status_code=HTTP_200_OK, summary="Sync now; answers the connection afterwards")
    async def sync(self, site: FromPath[str], resource: FromPath[str], calendar_id: FromPath[str],
                   caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                   settings: NamedDependency[Settings]) -> CalendarOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE, [resource])
        return calendar_out(await calendar_service.sync_now(found, resource, calendar_id,
                                                            outbound=Outbound.from_settings(settings), clock=clock))
