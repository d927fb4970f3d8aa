"""The admin API's messages: a site's templates (list, override, default again, preview) and
one's own message to a booking's customer.

Templates are configuration: reading needs ``catalog:read``, writing
``catalog:write``; the listing answers an ``ETag`` that PUT and DELETE honour
in ``If-Match`` (412). A preview against a real booking also needs
``bookings:read`` on it (it shows the customer's details). Messaging a
customer needs ``bookings:write`` on the booking and honours
``Idempotency-Key``. See ``services/message_templates.py`` and
``services/customer_messages.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.model import Site
from slotwise.services import access, booking_lists
from slotwise.services import customer_messages
from slotwise.services import message_templates as templates_service
from slotwise.services.access import Caller
from slotwise.services.config import ServiceConfig
from slotwise.services.message_templates import TemplateSet
from slotwise.web.admin_api import MessageOut, message_out, provide_caller
from slotwise.web.booking_api import idempotency_key


# Request bodies, typed for the OpenAPI document and Litestar's type checks. The
# services read the raw JSON as well, so unknown fields are refused (422 per
# field) rather than dropped, and every other problem is reported per field.

CustomValue = str | int | float | bool


@dataclass(frozen=True)
class TemplatePartsIn:
    subject: str | None = None  # email
    text: str | None = None  # email
    html: str | None = None  # email
    body: str | None = None  # sms


@dataclass(frozen=True)
class PreviewIn:
    event: str  # confirmed | rescheduled | cancelled | reminder
    channel: str  # email | sms
    locale: str | None = None  # en | de; default: the booking's
    source: TemplatePartsIn | None = None  # parts to try instead of the site's
    booking_id: str | None = None  # bkg_…; default: a sample booking
    variables: dict[str, CustomValue] | None = None  # as custom.<name>


@dataclass(frozen=True)
class TemplateRefIn:
    event: str
    channel: str = "email"


@dataclass(frozen=True)
class MessageIn:
    template: TemplateRefIn | None = None  # a site template …
    variables: dict[str, CustomValue] | None = None  # … with these as custom.<name>
    text: str | None = None  # or one's own words (plain text)
    subject: str | None = None  # email only
    channel: str | None = None  # email (default) | sms


@dataclass(frozen=True)
class TemplatePartOut:
    source: str  # Jinja, rendered in the sandbox (docs/messages.md)
    origin: str  # site (this language's override) | site-any-language | default
    name: str  # the override's name in a site file's [templates], or the default's file name


@dataclass(frozen=True)
class TemplateSetOut:
    event: str  # confirmed | rescheduled | cancelled | reminder
    channel: str  # email | sms
    locale: str  # en | de
    parts: dict[str, TemplatePartOut]  # email: subject, text, html; sms: body
    variables: list[str]  # what the templates may use; custom.<name> from a message request


@dataclass(frozen=True)
class TemplateListOut:
    data: list[TemplateSetOut]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PreviewOut:
    channel: str
    subject: str | None = None  # email
    text: str | None = None
    html: str | None = None
    body: str | None = None  # sms
    segments: int | None = None  # sms: how many SMS segments the body takes


def _set_out(found: TemplateSet) -> TemplateSetOut:
    return TemplateSetOut(
        event=found.event, channel=found.channel, locale=found.locale,
        parts={name: TemplatePartOut(part.source, part.origin, part.name) for name, part in found.parts.items()},
        variables=list(found.variables))


class AdminMessagesApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @staticmethod
    async def _site(caller: Caller, site: str, action: Action) -> Site:
        found = await access.site_for(caller, site)
        access.authorize(caller, action, found)
        return found

    @get("/templates", summary="Every event, channel and language: the template in effect and its variables")
    async def templates(self, site: FromPath[str], caller: NamedDependency[Caller]) -> Response[TemplateListOut]:
        found = await self._site(caller, site, Action.CATALOG_READ)
        listing, etag = await templates_service.site_templates(found)
        return Response(TemplateListOut(data=[_set_out(t) for t in listing]), headers={"ETag": etag})

    @put("/templates/{event:str}/{channel:str}/{locale:str}", status_code=HTTP_200_OK,
         summary="Override: email {subject?, text?, html?} or sms {body}; locale en, de or any (If-Match honoured)")
    async def set_template(self, request: Request, site: FromPath[str], event: FromPath[str],
                           channel: FromPath[str], locale: FromPath[str], data: JSONBody[TemplatePartsIn],
                           caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> Response[TemplateSetOut]:
        found = await self._site(caller, site, Action.TEMPLATES_WRITE)
        changed, etag = await templates_service.set_override(
            found, event, channel, locale, await request.json(), if_match=request.headers.get("if-match"), actor=caller.actor,
            now=clock())
        return Response(_set_out(changed), headers={"ETag": etag})

    @delete("/templates/{event:str}/{channel:str}/{locale:str}", status_code=HTTP_204_NO_CONTENT,
            summary="Back to the default template (If-Match honoured)")
    async def remove_template(self, request: Request, site: FromPath[str], event: FromPath[str],
                              channel: FromPath[str], locale: FromPath[str], caller: NamedDependency[Caller],
                              clock: NamedDependency[Clock]) -> Response[None]:
        found = await self._site(caller, site, Action.TEMPLATES_WRITE)
        etag = await templates_service.remove_override(
            found, event, channel, locale, if_match=request.headers.get("if-match"), actor=caller.actor,
            now=clock())
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"ETag": etag})

    @post("/templates/preview", status_code=HTTP_200_OK,
          summary="Render {event, channel, locale?, source?, booking_id?, variables?} without sending")
    async def preview(self, request: Request, site: FromPath[str], data: JSONBody[PreviewIn],
                      caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                      config: NamedDependency[ServiceConfig]) -> PreviewOut:
        found = await self._site(caller, site, Action.CATALOG_READ)
        if data.booking_id is not None:  # a real booking's details: only for who may read it
            booking = await booking_lists.find_booking(found, data.booking_id)
            access.authorize(caller, Action.BOOKINGS_READ, found, [r.key for r in booking.resources])
        rendered = await templates_service.preview(found, await request.json(), now=clock(), config=config)
        return PreviewOut(channel=rendered.channel, subject=rendered.subject, text=rendered.text,
                          html=rendered.html, body=rendered.body, segments=rendered.segments)

    @post("/bookings/{booking_id:str}/messages", status_code=HTTP_202_ACCEPTED,
          summary="Message the customer: {template: {event, channel}, variables} or {text, subject?, channel}")
    async def message(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                      data: JSONBody[MessageIn], caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                      config: NamedDependency[ServiceConfig]) -> MessageOut:
        found = await access.site_for(caller, site)
        booking = await booking_lists.find_booking(found, booking_id)
        access.authorize(caller, Action.BOOKINGS_WRITE, found, [r.key for r in booking.resources])
        queued = await customer_messages.message_customer(
            found, booking, await request.json(), actor=caller.actor, now=clock(), config=config,
            idempotency_key=idempotency_key(request))
        return message_out(queued)
