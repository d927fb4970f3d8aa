"""The admin API's customers (derived from bookings) and the bookings' CSV export.

Same gate as every admin route (``web/admin_api.py``): the caller from its
key, the site through ``access.site_for`` (no grant: 404), the action through
``access.authorize`` (not covered: 403), then one service call. A customer is
named by their email in the path (any case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, delete, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.services import access, booking_export
from slotwise.services import customers as customer_service
from slotwise.services.access import Caller
from slotwise.services.booking_documents import AdminBookingOut
from slotwise.web.admin_api import booking_out, provide_caller


@dataclass(frozen=True)
class CustomerSummaryOut:
    email: str  # lower-cased: the customer's key
    name: str  # from the booking they made last
    phone: str | None
    bookings: int
    first_booking_start: str  # ISO, in the site's zone
    last_booking_start: str


@dataclass(frozen=True)
class CustomerPageOut:
    data: list[CustomerSummaryOut]
    next_cursor: str | None


@dataclass(frozen=True)
class CustomerExportOut:
    site: str
    exported_at: str
    email: str
    name: str
    phone: str | None
    bookings: list[AdminBookingOut]  # each with its history and the messages sent to the customer


@dataclass(frozen=True)
class ErasedOut:
    bookings: int  # bookings anonymised
    messages: int  # outbox messages emptied (those not yet sent also dropped)


class AdminCustomersApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/customers", summary="The site's customers, one per email, in pages (needs customers:read)")
    async def customers(
        self, site: FromPath[str], caller: NamedDependency[Caller],
        q: str | None = Parameter(default=None, description="in the customer's name or email"),
        limit: str | None = Parameter(default=None, description="1-200, default 50"),
        cursor: str | None = Parameter(default=None, description="next_cursor of the previous page"),
    ) -> CustomerPageOut:
        found = await access.site_allowing(caller, site, Action.CUSTOMERS_READ)
        page = await customer_service.list_customers(found, {"q": q, "limit": limit, "cursor": cursor})
        zone = ZoneInfo(found.timezone)
        return CustomerPageOut(
            data=[CustomerSummaryOut(email=c.email, name=c.name, phone=c.phone, bookings=c.bookings,
                                     first_booking_start=c.first_start.astimezone(zone).isoformat(),
                                     last_booking_start=c.last_start.astimezone(zone).isoformat())
                  for c in page.customers],
            next_cursor=page.next_cursor)

    @get("/customers/{email:str}/export", summary="Everything the site holds about one customer (customers:read)")
    async def export(self, site: FromPath[str], email: FromPath[str], caller: NamedDependency[Caller],
                     clock: NamedDependency[Clock]) -> CustomerExportOut:
        found = await access.site_allowing(caller, site, Action.CUSTOMERS_READ)
        export = await customer_service.export_customer(found, email)
        return CustomerExportOut(
            site=found.slug, exported_at=clock().isoformat(), email=export.email, name=export.name,
            phone=export.phone, bookings=[booking_out(d.booking, found, d) for d in export.bookings])

    @delete("/customers/{email:str}", status_code=HTTP_200_OK,
            summary="Erase a customer: anonymise their bookings and messages here (customers:write)")
    async def erase(self, site: FromPath[str], email: FromPath[str], caller: NamedDependency[Caller],
                    clock: NamedDependency[Clock]) -> ErasedOut:
        found = await access.site_allowing(caller, site, Action.CUSTOMERS_WRITE)
        erased = await customer_service.erase_customer(found, email, actor=caller.actor, now=clock())
        return ErasedOut(bookings=erased.bookings, messages=erased.messages)

    @get("/bookings.csv", summary="The bookings as CSV for spreadsheets (needs bookings:read)",
         media_type="text/csv")
    async def bookings_csv(
        self, site: FromPath[str], caller: NamedDependency[Caller],
        from_: Annotated[str | None, QueryParameter(
            name="from", description="first day (site's zone, YYYY-MM-DD) or an instant")] = None,
        to: str | None = Parameter(default=None, description="last day (inclusive) or an instant"),
        resource: str | None = Parameter(default=None, description="resource key"),
        service: str | None = Parameter(default=None, description="service slug"),
        status: str | None = Parameter(default=None, description="confirmed | cancelled"),
    ) -> Stream:
        found = await access.site_allowing(caller, site, Action.BOOKINGS_READ)
        chunks = await booking_export.bookings_csv(
            found, {"from": from_, "to": to, "resource": resource, "service": service, "status": status},
            visible=access.visible_to(caller, found))
        return Stream(chunks, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{booking_export.filename(found)}"'})
