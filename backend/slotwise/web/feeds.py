"""Calendar feeds out: making a feed URL (admin API) and serving ``/feeds/<token>.ics``.

The admin routes pass the usual gate (``web/admin_api.py``): the site through
``access.site_for`` (another site's key: 404), ``Action.FEEDS_MANAGE``
through ``access.authorize`` (needs ``bookings:read``: 403 without). The
feed itself needs no key: its URL is the secret. See ``docs/feeds.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_304_NOT_MODIFIED

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.services import access
from slotwise.services import feeds as feed_service
from slotwise.services.access import Caller
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import NotFound
from slotwise.settings import Settings
from slotwise.web.admin_api import provide_caller
from slotwise.web.booking_api import idempotency_key

# Litestar adds "; charset=utf-8" to text/ types itself: naming it here would say it twice.
MEDIA_TYPE = "text/calendar"
SUFFIX = ".ics"


@dataclass(frozen=True)
class FeedUrlOut:
    url: str  # https://…/feeds/<token>.ics: shown once; making it again replaces it


class AdminFeedsApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    async def _issue(self, request: Request, site: str, resource: str | None, caller: Caller, clock: Clock,
                     config: ServiceConfig, settings: Settings) -> FeedUrlOut:
        found = await access.site_for(caller, site)
        if resource is not None:  # a key or a res_ id; staff are judged by the key
            resource = await feed_service.active_resource_key(found, resource)
        access.authorize(caller, Action.FEEDS_MANAGE, found, None if resource is None else [resource])
        token = await feed_service.issue_feed(found, resource, actor=caller.actor, now=clock(),
                                              secret_key=config.secret_key,
                                              idempotency_key=idempotency_key(request))
        return FeedUrlOut(url=feed_service.feed_url(settings.base_url, token))

    @post("/resources/{key:str}/feed", status_code=HTTP_201_CREATED,
          summary="A new calendar feed URL of one resource; the old URL stops working (needs bookings:read)")
    async def resource_feed(self, request: Request, site: FromPath[str], key: FromPath[str],
                            caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                            config: NamedDependency[ServiceConfig],
                            settings: NamedDependency[Settings]) -> FeedUrlOut:
        return await self._issue(request, site, key, caller, clock, config, settings)

    @post("/feed", status_code=HTTP_201_CREATED,
          summary="A new calendar feed URL of the whole site; the old URL stops working (needs bookings:read)")
    async def site_feed(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller],
                        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig],
                        settings: NamedDependency[Settings]) -> FeedUrlOut:
        return await self._issue(request, site, None, caller, clock, config, settings)


@get("/feeds/{name:str}", summary="A calendar feed (iCalendar): its URL is the secret", tags=["feeds"],
     media_type=MEDIA_TYPE)
async def calendar_feed(request: Request, name: FromPath[str], clock: NamedDependency[Clock]) -> Response[bytes]:
    if not name.endswith(SUFFIX):
        raise _gone_or_never()
    try:
        feed = await feed_service.read_feed(name.removesuffix(SUFFIX), now=clock())
    except NotFound:
        raise _gone_or_never() from None
    headers = {
        "ETag": feed.etag,
        "Last-Modified": feed_service.http_date(feed.last_modified),
        # Only the subscriber's own calendar program may keep a copy, not a shared cache.
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if feed_service.not_modified(if_none_match=request.headers.get("if-none-match"),
                                 if_modified_since=request.headers.get("if-modified-since"),
                                 etag=feed.etag, last_modified=feed.last_modified):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers, media_type=MEDIA_TYPE)
    # About 0.25 ms of CPU per event: off the event loop, so other requests go on meanwhile.
    body = await anyio.to_thread.run_sync(feed.render)
    return Response(body, headers={**headers, "Content-Disposition": 'inline; filename="calendar.ics"'},
                    media_type=MEDIA_TYPE)


def _gone_or_never() -> NotFound:
    # One answer for a token never issued and one replaced: nothing tells them apart.
    return NotFound("feed", "", detail="There is no calendar feed at this address (it may have been replaced).")
