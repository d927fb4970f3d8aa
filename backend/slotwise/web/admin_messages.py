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
from slotwise.services import access, booking_lists
from slotwise.services import customer_messages
from slotwise.services import message_templates as templates_service
from slotwise.services.access import Caller
from slotwise.services.config import ServiceConfig
from slotwise.services.customer_messages import SMS_TEXT_LIMIT
from slotwise.services.email_content import CUSTOM_TEXT_LIMIT, SUBJECT_LIMIT
from slotwise.services.message_templates import (
    CHANNELS,
    CUSTOM_MAX_COUNT,
    CUSTOM_NAME_MAX,
    CUSTOM_VALUE_MAX,
    TemplateSet,
)
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.sitefile.templates import TEMPLATE_MAX_LENGTH
from slotwise.services.booking_documents import MessageOut, message_out
from slotwise.web.admin_api import provide_caller
from slotwise.web.bodies import Body, checked_by_service, service_checked
from slotwise.web.booking_api import idempotency_key


# Request bodies. The services read these bodies as JSON and check all of them
# themselves, every problem at once with its own codes and paths (unknown
# fields, ``source.text`` template-invalid, ``variables.<name>``, parts that
# depend on the channel), as they do for other callers. So these models only
# describe what the services accept, for the OpenAPI document (unknown fields
# included: ``additionalProperties: false`` is the service's rule), and take
# any JSON object: one check per field, in the service (docs/architecture.md).

_CHANNEL = {"type": "string", "enum": list(CHANNELS)}
_EVENT = {"type": "string", "enum": list(MESSAGE_EVENTS)}
_PART = {"type": "string", "minLength": 1, "maxLength": TEMPLATE_MAX_LENGTH,
         "description": "Jinja, rendered in the sandbox (docs/messages.md)"}

Part = service_checked(_PART)
Event = service_checked(_EVENT)
Channel = service_checked(_CHANNEL)
Variables = service_checked({
    "type": ["object", "null"], "maxProperties": CUSTOM_MAX_COUNT,
    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$", "maxLength": CUSTOM_NAME_MAX},
    "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": CUSTOM_VALUE_MAX},
    "description": "custom.<name> in the templates; numbers and booleans are shown as text"})
Locale = service_checked({"type": ["string", "null"], "enum": [*SUPPORTED_LOCALES, None],
                          "description": "default: the booking's"})
BookingRef = service_checked({"type": ["string", "null"], "description": "bkg_…; default: a sample booking"})
DefaultChannel = service_checked(_CHANNEL)
OwnText = service_checked({"type": "string", "minLength": 1, "maxLength": max(CUSTOM_TEXT_LIMIT, SMS_TEXT_LIMIT),
                           "description": f"plain text; email at most {CUSTOM_TEXT_LIMIT} characters, "
                                          f"sms at most {SMS_TEXT_LIMIT}"})
Subject = service_checked({"type": ["string", "null"], "maxLength": SUBJECT_LIMIT, "description": "email only"})


class TemplatePartsIn(Body):
    """The parts of a template set: email ``subject``, ``text``, ``html``; sms ``body``."""

    model_config = checked_by_service(
        description="email: subject, text, html (at least one); sms: body. Parts left out are the default.",
        examples=[{"subject": "Ihr Termin: {{ service.name }}",
                   "text": "Hallo {{ customer.name }},\n\nbis bald!\n{{ site.name }}"}])

    subject: Part = None
    text: Part = None
    html: Part = None
    body: Part = None


Parts = service_checked({**TemplatePartsIn.model_json_schema(), "type": ["object", "null"]})


class PreviewIn(Body):
    model_config = checked_by_service(required=("event", "channel"), examples=[
        {"event": "confirmed", "channel": "email", "locale": "de", "variables": {"room": "Raum 2"}}])

    event: Event = None
    channel: Channel = None
    locale: Locale = None
    source: Parts = None  # parts to try instead of the site's
    booking_id: BookingRef = None
    variables: Variables = None


class TemplateRefIn(Body):
    model_config = checked_by_service(required=("event",))

    event: Event = None
    channel: DefaultChannel = "email"


TemplateRef = service_checked({**TemplateRefIn.model_json_schema(), "type": ["object", "null"]})


class MessageIn(Body):
    """A site template (``template``, ``variables``) or one's own words (``text``, ``subject``, ``channel``)."""

    model_config = checked_by_service(examples=[
        {"template": {"event": "reminder", "channel": "email"}, "variables": {"room": "Raum 2"}},
        {"text": "Bitte bringen Sie Ihre Befunde mit.", "subject": "Ihr Termin", "channel": "email"}])

    template: TemplateRef = None
    variables: Variables = None  # with template only
    text: OwnText = None
    subject: Subject = None
    channel: DefaultChannel = "email"


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

    @get("/templates", summary="Every event, channel and language: the template in effect and its variables")
    async def templates(self, site: FromPath[str], caller: NamedDependency[Caller]) -> Response[TemplateListOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        listing, etag = await templates_service.site_templates(found)
        return Response(TemplateListOut(data=[_set_out(t) for t in listing]), headers={"ETag": etag})

    @put("/templates/{event:str}/{channel:str}/{locale:str}", status_code=HTTP_200_OK,
         summary="Override: email {subject?, text?, html?} or sms {body}; locale en, de or any (If-Match honoured)")
    async def set_template(self, request: Request, site: FromPath[str], event: FromPath[str],
                           channel: FromPath[str], locale: FromPath[str], data: JSONBody[TemplatePartsIn],
                           caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> Response[TemplateSetOut]:
        found = await access.site_allowing(caller, site, Action.TEMPLATES_WRITE)
        changed, etag = await templates_service.set_override(
            found, event, channel, locale, data.model_dump(exclude_unset=True),
            if_match=request.headers.get("if-match"), actor=caller.actor, now=clock())
        return Response(_set_out(changed), headers={"ETag": etag})

    @delete("/templates/{event:str}/{channel:str}/{locale:str}", status_code=HTTP_204_NO_CONTENT,
            summary="Back to the default template (If-Match honoured)")
    async def remove_template(self, request: Request, site: FromPath[str], event: FromPath[str],
                              channel: FromPath[str], locale: FromPath[str], caller: NamedDependency[Caller],
                              clock: NamedDependency[Clock]) -> None:  # answers a Response with the ETag
        found = await access.site_allowing(caller, site, Action.TEMPLATES_WRITE)
        etag = await templates_service.remove_override(
            found, event, channel, locale, if_match=request.headers.get("if-match"), actor=caller.actor,
            now=clock())
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"ETag": etag})  # type: ignore[return-value]

    @post("/templates/preview", status_code=HTTP_200_OK,
          summary="Render {event, channel, locale?, source?, booking_id?, variables?} without sending")
    async def preview(self, request: Request, site: FromPath[str], data: JSONBody[PreviewIn],
                      caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                      config: NamedDependency[ServiceConfig]) -> PreviewOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        if isinstance(data.booking_id, str):  # a real booking's details: only for who may read it
            booking = await booking_lists.find_booking(found, data.booking_id)
            access.authorize(caller, Action.BOOKINGS_READ, found, [r.key for r in booking.resources])
        rendered = await templates_service.preview(found, data.model_dump(exclude_unset=True), now=clock(),
                                                   config=config)
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
            found, booking, data.model_dump(exclude_unset=True), actor=caller.actor, now=clock(), config=config,
            idempotency_key=idempotency_key(request))
        return message_out(queued)
