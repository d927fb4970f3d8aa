"""Examples of the API's answers, for the OpenAPI document (request examples live on their bodies).

Each example is built from the answer's own dataclass, so a field that is
renamed or added without its example fails here, at start-up, not in a
reader's client. They describe the demo site (``examples/harbour-physio.toml``).
``with_examples`` puts them on the document's components once it is built.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dataclasses import dataclass

import msgspec
from litestar.openapi.spec import OpenAPI
from litestar.openapi.spec.base import BaseSchemaObject

from slotwise.services.booking_documents import (
    ActorOut,
    AdminBookingOut,
    CustomerOut,
    HistoryOut,
    MessageOut,
    Price,
    ResourceOut,
)
from slotwise.web.admin_api import ApplyOut, BookingPageOut, TimeOffListOut, TimeOffOut
from slotwise.web.admin_calendars import CalendarListOut, CalendarOut
from slotwise.web.admin_audit import AuditEntryOut, AuditPageOut, ChangeOut
from slotwise.web.admin_import import ImportCountsOut, ImportErrorOut, ImportReportOut, ImportRowOut
from slotwise.web.admin_messages import PreviewOut, TemplateListOut, TemplatePartOut, TemplateSetOut
from slotwise.web.admin_webhooks import (
    AttemptOut,
    DeliveryOut,
    DeliveryPageOut,
    QueuedOut,
    WebhookListOut,
    WebhookOut,
    WebhookWithSecretOut,
)
from slotwise.web.admin_catalog import CatalogResourceOut, CatalogServiceOut, ResourceListOut, ServiceListOut
from slotwise.web.admin_customers import CustomerExportOut, CustomerPageOut, CustomerSummaryOut, ErasedOut
from slotwise.web.api import (
    AvailabilityOut,
    PingOut,
    QuestionOut,
    ServiceOut,
    ServicesOut,
    SlotOut,
)
from slotwise.web.booking_api import BookingOut, HoldOut
from slotwise.web.feeds import FeedUrlOut
from slotwise.web.manage_api import ActionOut, ManagedBookingOut

ANNA = ResourceOut(key="anna", name="Anna Berg", kind="person")
ROOM = ResourceOut(key="room-1", name="Behandlungsraum 1", kind="room")
ERIKA = CustomerOut(name="Erika Mustermann", email="erika@example.com", phone="+491701234567")
START, END = "2026-12-01T09:00:00+01:00", "2026-12-01T09:45:00+01:00"
BOOKING_ID = "bkg_5f0c3a9e2b7d4c1f8e6a0b3d9c2e7f41"
PRICE = Price(amount="60.00", currency="EUR", minor=6000)

BOOKING = BookingOut(
    id="5f0c3a9e-2b7d-4c1f-8e6a-0b3d9c2e7f41", status="confirmed", site="harbour-physio", service="assessment",
    start=START, end=END, resources=[ANNA, ROOM], customer=ERIKA, answers={"reason": "Back pain"},
    locale="de", timezone="Europe/Berlin", manage_url="https://book.example/manage/AbC…",
)
KEY_ACTOR = ActorOut(kind="api_key", id="key_3f9a…", label="Front desk")
ADMIN_BOOKING = AdminBookingOut(
    id=BOOKING_ID, status="confirmed", service="assessment", service_name="Erstbefundung", start=START, end=END,
    resources=[ANNA, ROOM], customer=ERIKA, address=None, answers={"reason": "Back pain"},
    metadata={"invoice": "2026-0042", "paid": True}, price=PRICE, locale="de",
    timezone="Europe/Berlin", reschedule_count=0, created_at="2026-11-23T08:12:00+00:00", updated_at=None,
    history=[HistoryOut(kind="booked", at="2026-11-23T08:12:00+00:00", actor=KEY_ACTOR,
                        data={"start": "2026-12-01T08:00:00+00:00"})],
    messages=[MessageOut(id="msg_9b1e…", event="confirmed", channel="email", recipient="erika@example.com",
                         status="sent", attempts=1, send_at="2026-11-23T08:12:00+00:00",
                         sent_at="2026-11-23T08:12:03+00:00", last_error=None)],
)
TIME_OFF = TimeOffOut(id="off_2c4e…", resource="anna", start="2026-12-03T13:00:00+01:00",
                      end="2026-12-03T18:00:00+01:00", reason="Training", created_at="2026-11-23T08:20:00+00:00",
                      actor=KEY_ACTOR, overlapping_bookings=[])
RESOURCE = CatalogResourceOut(id="res_2", key="anna", name="Anna Berg", kind="person", timezone=None,
                              hours={"mon": ["08:00-12:30", "13:30-16:00"], "fri": ["08:00-13:00"]},
                              closed=["2027-02-15..2027-02-19"], extra_open={}, active=True)
SERVICE = CatalogServiceOut(
    id="svc_1", slug="assessment", name="Erstbefundung", description="Ausführliche Untersuchung.", duration=45,
    step=15, buffer_before=0, buffer_after=15, min_notice=120, max_advance=86400, cancel_until=1440,
    reschedule_until=1440, seats=1, price="60.00 EUR", phone="required", reminders=[1440, 120],
    questions=[{"key": "reason", "label": "Was führt Sie zu uns?", "type": "text", "required": False}],
    resources=[["anna", "ben"], ["room-1", "room-2"]], enabled=True,
)
CUSTOMER = CustomerSummaryOut(email="erika@example.com", name="Erika Mustermann", phone="+491701234567",
                              bookings=2, first_booking_start="2026-11-03T10:00:00+01:00",
                              last_booking_start=START)

TEMPLATE_SET = TemplateSetOut(
    event="confirmed", channel="email", locale="de",
    parts={"subject": TemplatePartOut(source="Ihr Termin: {{ service.name }}", origin="site",
                                      name="confirmed.de.subject.txt"),
           "text": TemplatePartOut(source="Hallo {{ customer.name }}, …", origin="default", name="confirmed.de.txt"),
           "html": TemplatePartOut(source="<p>Hallo {{ customer.name }}, …</p>", origin="default",
                                   name="confirmed.de.html")},
    variables=["site.name", "service.name", "customer.name", "booking.when", "manage_url", "custom.<name>"])
WEBHOOK = WebhookOut(
    id="whk_4b1f0c9e2a7d5e3f8c6a0b1d", url="https://hooks.example.com/slotwise",
    events=["booking.created", "booking.cancelled"], description="Praxis-Software", enabled=True,
    disabled_reason=None, created_at="2026-11-23T08:30:00+00:00", updated_at="2026-11-23T08:30:00+00:00",
    last_success_at="2026-11-23T08:31:02+00:00", rotating_until=None)
DELIVERY = DeliveryOut(
    id="whd_7c2e…", webhook_id="msg_2Kq9…", type="booking.created", status="succeeded", attempts=2,
    next_attempt_at=None, created_at="2026-11-23T08:31:00+00:00", finished_at="2026-11-23T08:31:07+00:00",
    log=[AttemptOut(at="2026-11-23T08:31:00+00:00", outcome="failed", status=503, duration_ms=120,
                    response="Service Unavailable", error=None),
         AttemptOut(at="2026-11-23T08:31:07+00:00", outcome="succeeded", status=200, duration_ms=85,
                    response="ok", error=None)])
AUDIT_ENTRY = AuditEntryOut(
    id="aud_2a", at="2026-11-23T09:12:00+01:00", actor=KEY_ACTOR, via="admin-api", action="changed",
    object="resource", ref="anna", changes=[ChangeOut(field="name", old="Anna", new="Anna Berg")],
    summary=['name: "Anna" → "Anna Berg"'])


CALENDAR = CalendarOut(id="cal_4d2a…", resource="anna", kind="ics", url="https://calendar.example.com/anna/busy.ics",
                       username=None, write_bookings=False, state="ok", last_synced_at="2026-11-23T08:05:00+00:00",
                       last_error=None, failures=0, created_at="2026-11-20T10:00:00+00:00")


def response_examples() -> list[Any]:
    """One example of each answer of the API that has a JSON body."""
    question = QuestionOut(key="reason", label="Was führt Sie zu uns?", type="text", required=False,
                           max_length=200)
    return [
        PingOut(ok=True),
        ServicesOut(site="harbour-physio", timezone="Europe/Berlin", services=[ServiceOut(
            slug="assessment", name="Erstbefundung", description="Ausführliche Untersuchung.", duration_minutes=45,
            seats=1, price=PRICE, phone="required", questions=[question])]),
        AvailabilityOut(site="harbour-physio", service="assessment", timezone="Europe/Berlin",
                        start=date(2026, 12, 1), end=date(2026, 12, 1),
                        slots=[SlotOut(start=START, end=END, resources=[ANNA, ROOM], seats_left=1)]),
        HoldOut(hold="hold_Zx8…", expires_at="2026-11-23T08:22:00+00:00", service="assessment", start=START, end=END,
                resources=[ANNA, ROOM]),
        BOOKING,
        ManagedBookingOut(booking=BOOKING, cancel=ActionOut(allowed=True, reason=None,
                                                            until="2026-11-30T09:00:00+01:00"),
                          reschedule=ActionOut(allowed=False, reason="too-many-moves", until=None)),
        ADMIN_BOOKING,
        BookingPageOut(data=[ADMIN_BOOKING], next_cursor="eyJzIjoiMjAyNi0xMi0wMVQwODowMDowMFoifQ"),
        TIME_OFF,
        TimeOffListOut(data=[TIME_OFF], next_cursor=None),
        ApplyOut(created=["resource mia"], updated=["service assessment"], deactivated=[], changed=True,
                 etag='"5d41402abc4b2a76b9719d911017c592"'),
        RESOURCE,
        ResourceListOut(data=[RESOURCE], next_cursor=None),
        SERVICE,
        ServiceListOut(data=[SERVICE], next_cursor=None),
        CustomerPageOut(data=[CUSTOMER], next_cursor=None),
        CustomerExportOut(site="harbour-physio", exported_at="2026-11-23T09:00:00+00:00", email="erika@example.com",
                          name="Erika Mustermann", phone="+491701234567", bookings=[ADMIN_BOOKING]),
        ErasedOut(bookings=2, messages=5),
        FeedUrlOut(url="https://book.example/feeds/7nQ2…xY.ics"),
        CALENDAR,
        CalendarListOut(data=[CALENDAR], next_cursor=None),
        ADMIN_BOOKING.messages[0],
        TemplateListOut(data=[TEMPLATE_SET], next_cursor=None),
        TEMPLATE_SET,
        PreviewOut(channel="email", subject="Ihr Termin: Erstbefundung",
                   text="Hallo Erika Mustermann, …", html="<p>Hallo Erika Mustermann, …</p>", body=None,
                   segments=None),
        WEBHOOK,
        WebhookListOut(data=[WEBHOOK], next_cursor=None),
        WebhookWithSecretOut(id=WEBHOOK.id, url=WEBHOOK.url, events=WEBHOOK.events,
                             description=WEBHOOK.description, enabled=True,
                             secret="whsec_MfKQ9r8GKYqXTX0ALCkeFRrEX3ijOQzM", rotating_until=None),
        DeliveryPageOut(data=[DELIVERY], next_cursor=None),
        QueuedOut(queued=1, delivery="whd_7c2e…"),
        AuditPageOut(data=[AUDIT_ENTRY], next_cursor="eyJpZCI6NDJ9"),
        ImportReportOut(kind="resources", dry_run=True, applied=False, valid=False,
                        counts=ImportCountsOut(created=1, updated=1, unchanged=0, error=1),
                        rows=[ImportRowOut(row=2, key="mia", outcome="created", errors=[]),
                              ImportRowOut(row=3, key="anna", outcome="updated", errors=[]),
                              ImportRowOut(row=4, key="room-9", outcome="error", errors=[ImportErrorOut(
                                  column="hours_mon", path="hours.mon[0]", code="site-file-rule",
                                  detail="08:00-07:00: the end is before the start")])]),
    ]


@dataclass
class _Verbatim(BaseSchemaObject):
    """An example as it is: Litestar drops ``None`` from plain dicts, but ``null`` is part of an answer."""

    value: Any

    def to_schema(self) -> Any:  # type: ignore[override]
        return self.value


def with_examples(document: OpenAPI) -> OpenAPI:
    """``document`` with an example on the component of each answer (built once, at start-up)."""
    schemas = document.components.schemas if document.components else {}
    for example in response_examples():
        schema = schemas.get(type(example).__name__)
        if schema is not None:  # an answer no route uses (yet) has no component
            schema.examples = [_Verbatim(msgspec.to_builtins(example))]
    return document
