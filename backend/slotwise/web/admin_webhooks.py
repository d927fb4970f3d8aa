"""The admin API's webhooks: a site's endpoints, their secrets, test pings and the delivery log.

Same gate as every admin route (``web/admin_api.py``): the caller from its
key, the site through ``access.site_for`` (no grant: 404), then
``Action.WEBHOOKS_WRITE`` (scope ``webhooks:write``; among accounts, owners
and managers) or 403. POSTs honour ``Idempotency-Key``; one endpoint answers
an ``ETag`` that PATCH and DELETE honour as ``If-Match`` (412). The secret
``whsec_…`` is in the answer of creation and rotation only. See
``services/webhooks.py`` and ``docs/webhooks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from slotwise.clock import Clock
from slotwise.domain import webhooks as rules
from slotwise.domain.access import Action
from slotwise.services import access
from slotwise.services import webhooks as webhook_service
from slotwise.services.access import Caller
from slotwise.services.webhooks import Endpoint
from slotwise.settings import Settings
from slotwise.web.admin_api import provide_caller
from slotwise.web.bodies import Body, checked_by_service, service_checked
from slotwise.web.booking_api import idempotency_key

# Request bodies. ``services/webhooks.py`` checks the whole body itself, every
# problem at once (unknown fields, the URL's rules, the event names, the
# description's length and characters), so these models only describe what it
# accepts, for the OpenAPI document, and take any JSON object: one check per
# field, in the service. A URL's host is not resolved on creation: a name is
# judged on each send, on the addresses it then has (domain/webhooks.url_problem).

Url = service_checked({"type": "string", "format": "uri", "maxLength": rules.URL_LENGTH,
                       "description": "http or https; no credentials; a private address only where allowed"})
Events = service_checked({"type": "array", "minItems": 1,
                          "items": {"type": "string", "enum": list(rules.EVENT_TYPES)}})
Description = service_checked({"type": ["string", "null"], "maxLength": rules.DESCRIPTION_LENGTH,
                               "description": "no control characters"})
Enabled = service_checked({"type": "boolean", "description": "true: enable again (clears disabled_reason)"})
_EXAMPLE_URL = "https://hooks.example.com/slotwise"


class WebhookIn(Body):
    model_config = checked_by_service(required=("url", "events"), examples=[
        {"url": _EXAMPLE_URL, "events": ["booking.created", "booking.cancelled"], "description": "Praxis-Software"}])

    url: Url = None
    events: Events = None
    description: Description = None


class WebhookChangeIn(Body):
    """The fields to change; the others stay."""

    model_config = checked_by_service(examples=[
        {"events": ["booking.created", "booking.rescheduled", "booking.cancelled"], "enabled": True}])

    url: Url = None
    events: Events = None
    description: Description = None
    enabled: Enabled = None


@dataclass(frozen=True)
class WebhookOut:
    id: str  # whk_…
    url: str
    events: list[str]  # booking.created | booking.rescheduled | booking.cancelled | message.failed
    description: str
    enabled: bool
    disabled_reason: str | None  # why the system disabled it (410, failing for the whole schedule)
    created_at: str
    updated_at: str
    last_success_at: str | None
    rotating_until: str | None  # while the previous secret still signs beside the new one


@dataclass(frozen=True)
class WebhookWithSecretOut:
    """The answer of creation and rotation: the endpoint and its secret, shown this once."""

    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    secret: str  # whsec_<base64>; verify signatures with it (Standard Webhooks)
    rotating_until: str | None = None


@dataclass(frozen=True)
class WebhookListOut:
    data: list[WebhookOut]
    next_cursor: str | None = None


@dataclass(frozen=True)
class AttemptOut:
    at: str
    outcome: str  # succeeded | failed | refused | timeout | error
    status: int | None  # the receiver's HTTP status
    duration_ms: int
    response: str  # the start of the answer's body, at most 1,000 characters
    error: str | None


@dataclass(frozen=True)
class DeliveryOut:
    id: str  # whd_…
    webhook_id: str  # the webhook-id header: the event's id, the same on every retry
    type: str
    status: str  # queued | sending | succeeded | failed | paused (endpoint disabled)
    attempts: int
    next_attempt_at: str | None  # while queued
    created_at: str
    finished_at: str | None
    log: list[AttemptOut]


@dataclass(frozen=True)
class DeliveryPageOut:
    data: list[DeliveryOut]
    next_cursor: str | None


@dataclass(frozen=True)
class QueuedOut:
    queued: int  # deliveries queued to be sent again
    delivery: str | None = None  # the one delivery, when there is one


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _out(endpoint: Endpoint) -> WebhookOut:
    return WebhookOut(id=endpoint.id, url=endpoint.url, events=endpoint.events, description=endpoint.description,
                      enabled=endpoint.enabled, disabled_reason=endpoint.disabled_reason,
                      created_at=endpoint.created_at.isoformat(), updated_at=endpoint.updated_at.isoformat(),
                      last_success_at=_iso(endpoint.last_success_at), rotating_until=_iso(endpoint.rotating_until))


def _with_secret(endpoint: Endpoint) -> WebhookWithSecretOut:
    assert endpoint.secret is not None
    return WebhookWithSecretOut(id=endpoint.id, url=endpoint.url, events=endpoint.events,
                                description=endpoint.description, enabled=endpoint.enabled,
                                secret=endpoint.secret, rotating_until=_iso(endpoint.rotating_until))


def _delivery_out(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=row["public_id"], webhook_id=row["message_id"], type=row["event_type"], status=row["status"],
        attempts=row["attempts"], next_attempt_at=_iso(row["next_attempt_at"]) if row["status"] == "queued" else None,
        created_at=row["created_at"].isoformat(), finished_at=_iso(row["finished_at"]),
        log=[AttemptOut(at=a["attempted_at"].isoformat(), outcome=a["outcome"], status=a["status_code"],
                        duration_ms=a["duration_ms"], response=a["response_excerpt"], error=a["error"])
             for a in row.get("attempts_log", [])])


# Responses that carry a secret must not be kept by any cache.
_NO_STORE = {"Cache-Control": "no-store"}


class AdminWebhooksApi(Controller):
    path = "/api/v1/admin/sites/{site:str}/webhooks"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/", summary="The site's webhook endpoints (webhooks:write); never their secrets")
    async def endpoints(self, site: FromPath[str], caller: NamedDependency[Caller],
                        clock: NamedDependency[Clock]) -> WebhookListOut:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        return WebhookListOut(data=[_out(e) for e in await webhook_service.list_endpoints(found, now=clock())])

    @post("/", status_code=HTTP_201_CREATED,
          summary="Subscribe an endpoint: {url, events[], description?}; answers its secret, this once")
    async def create(self, request: Request, site: FromPath[str], data: JSONBody[WebhookIn],
                     caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings]) -> Response[WebhookWithSecretOut]:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        created = await webhook_service.create_endpoint(
            found, data.model_dump(exclude_unset=True), actor=caller.actor, now=clock(), secret_key=settings.secret_key,
            allow_private=settings.allow_private_targets, idempotency_key=idempotency_key(request))
        return Response(_with_secret(created), status_code=HTTP_201_CREATED,
                        headers={**_NO_STORE, "ETag": created.etag})

    @get("/{webhook:str}", summary="One endpoint, with its ETag")
    async def endpoint(self, site: FromPath[str], webhook: FromPath[str], caller: NamedDependency[Caller],
                       clock: NamedDependency[Clock]) -> Response[WebhookOut]:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        endpoint = await webhook_service.get_endpoint(found, webhook, now=clock())
        return Response(_out(endpoint), headers={"ETag": endpoint.etag})

    @patch("/{webhook:str}", summary="Change url, events, description or enabled (If-Match honoured)")
    async def update(self, request: Request, site: FromPath[str], webhook: FromPath[str],
                     data: JSONBody[WebhookChangeIn], caller: NamedDependency[Caller],
                     clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Response[WebhookOut]:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        changed = await webhook_service.update_endpoint(
            found, webhook, data.model_dump(exclude_unset=True), if_match=request.headers.get("if-match"), now=clock(),
            allow_private=settings.allow_private_targets)
        return Response(_out(changed), headers={"ETag": changed.etag})

    @delete("/{webhook:str}", summary="Remove an endpoint with its queued deliveries and log (If-Match honoured)")
    async def remove(self, request: Request, site: FromPath[str], webhook: FromPath[str],
                     caller: NamedDependency[Caller]) -> None:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        await webhook_service.delete_endpoint(found, webhook, if_match=request.headers.get("if-match"))

    @post("/{webhook:str}/rotate-secret", status_code=HTTP_200_OK,
          summary="A new secret, answered this once; the old one also signs for 24 hours")
    async def rotate(self, request: Request, site: FromPath[str], webhook: FromPath[str],
                     caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings]) -> Response[WebhookWithSecretOut]:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        rotated = await webhook_service.rotate_secret(found, webhook, actor=caller.actor, now=clock(),
                                                      secret_key=settings.secret_key,
                                                      idempotency_key=idempotency_key(request))
        return Response(_with_secret(rotated), headers=_NO_STORE)

    @post("/{webhook:str}/test", status_code=HTTP_202_ACCEPTED,
          summary="Send a webhook.test ping now (once; see the delivery log for the answer)")
    async def test(self, request: Request, site: FromPath[str], webhook: FromPath[str],
                   caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> QueuedOut:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        delivery = await webhook_service.send_test(found, webhook, actor=caller.actor, now=clock(),
                                                   idempotency_key=idempotency_key(request))
        return QueuedOut(queued=1, delivery=delivery)

    @get("/{webhook:str}/deliveries", summary="The delivery log of the last 30 days, newest first")
    async def deliveries(
        self, site: FromPath[str], webhook: FromPath[str], caller: NamedDependency[Caller],
        limit: str | None = Parameter(default=None, description="1-200, default 50"),
        cursor: str | None = Parameter(default=None, description="next_cursor of the previous page"),
    ) -> DeliveryPageOut:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        page = await webhook_service.deliveries(found, webhook, limit=limit, cursor=cursor)
        return DeliveryPageOut(data=[_delivery_out(row) for row in page.deliveries], next_cursor=page.next_cursor)

    @post("/{webhook:str}/deliveries/{delivery:str}/retry", status_code=HTTP_202_ACCEPTED,
          summary="Send one delivery again now, with the same webhook-id")
    async def retry(self, site: FromPath[str], webhook: FromPath[str], delivery: FromPath[str],
                    caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> QueuedOut:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        await webhook_service.retry_delivery(found, webhook, delivery, now=clock())
        return QueuedOut(queued=1, delivery=delivery)

    @post("/{webhook:str}/deliveries/retry-failed", status_code=HTTP_202_ACCEPTED,
          summary="Send every failed delivery in the log again now")
    async def retry_failed(self, site: FromPath[str], webhook: FromPath[str], caller: NamedDependency[Caller],
                           clock: NamedDependency[Clock]) -> QueuedOut:
        found = await access.site_allowing(caller, site, Action.WEBHOOKS_WRITE)
        return QueuedOut(queued=await webhook_service.redeliver_failed(found, webhook, now=clock()))
