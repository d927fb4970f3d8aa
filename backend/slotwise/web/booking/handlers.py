"""The routes of the hosted booking page: parse the request, call a service, render a step.

What each step shows is built in ``steps`` (from data ``loading`` reads);
formatting is ``present``; the page around a step is ``render``. Errors a
service raises on purpose become a step in one place, :meth:`BookingPages._failed`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from slotwise.clock import Clock
from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, Service, Site
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services.availability import AvailabilityQuery, AvailableSlot, Offer, parse_zone
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    ServiceError,
    SlotUnavailable,
)
from slotwise.settings import Settings
from slotwise.web.booking import loading, steps
from slotwise.web.booking.assets import (
    DEFAULT_ACCENT,
    parse_accent,
    script_bundle,
    theme_css,
)
from slotwise.web.booking.forms import (
    CARRIED_PREFIXES,
    BookedSummary,
    booking_request,
    carried_values,
    form_dict,
    new_form_token,
    parse_start,
    read_form_token,
)
from slotwise.web.booking.present import Presenter
from slotwise.web.booking.render import bare_context, is_htmx, page_context, render
from slotwise.web.booking.state import (
    PageState,
    frame_ancestors,
    held_resources,
    held_token,
    instant,
    own_hold,
    parse_day,
    read_state,
)
from slotwise.web.booking.steps import Hold, Links, View
from slotwise.web.clients import client_of
from slotwise.web.security import page_csp
from slotwise.web.static import IMMUTABLE

# Who books through the booking page (in the widget or standalone).
WIDGET_CUSTOMER = Actor.customer("widget")

NO_PUSH = {"HX-Push-Url": "false"}


def _trigger(event: str, detail: Mapping[str, Any]) -> dict[str, str]:
    """An ``HX-Trigger`` header: htmx fires ``slotwise:<event>`` and booking.js relays it to the host page."""
    return {"HX-Trigger": json.dumps({f"slotwise:{event}": detail}, separators=(",", ":"))}


def _resources_out(resources: Any) -> list[dict[str, str]]:
    return [{"key": r.key, "name": r.name, "kind": str(r.kind)} for r in resources]


def slot_unavailable_trigger(p: Presenter) -> dict[str, str]:
    """The time was taken by someone else, told to the host page."""
    return _trigger("error", {"code": "slot-unavailable",
                              "message": p._("This time is no longer available.")})


def hold_expired_trigger(p: Presenter) -> dict[str, str]:
    """The customer's hold ran out, told to the host page."""
    return _trigger("error", {"code": "hold-expired", "message": p._("Your reservation has expired.")})


def slot_selected_trigger(p: Presenter, service: str, slot: AvailableSlot) -> dict[str, str]:
    """A hold was taken: the time (in the customer's zone) and whom it is with."""
    return _trigger("slot-selected", {
        "service": service,
        "start": slot.start.astimezone(p.customer_zone).isoformat(),
        "end": slot.end.astimezone(p.customer_zone).isoformat(),
        "resources": _resources_out(slot.resources),
    })


def booked_trigger(p: Presenter, booking: Booking) -> dict[str, str]:
    """A booking was made: its id and time (in the customer's zone)."""
    return _trigger("booked", {
        "id": booking.uid,
        "service": booking.service.slug,
        "start": booking.start.astimezone(p.customer_zone).isoformat(),
        "end": booking.end.astimezone(p.customer_zone).isoformat(),
    })


class _Request:
    """One request's page: the site, its state, presenter and links."""

    def __init__(self, site: Site, state: PageState) -> None:
        self.site = site
        self.state = state
        self.p = Presenter(site, state)
        self.links = Links.booking(state)

    def without_resource(self) -> _Request:
        return _Request(self.site, replace(self.state, resource=None))


class BookingPages(Controller):
    path = "/book/{site:str}"
    include_in_schema = False

    # --- rendering

    def _render(self, request: Request, page: _Request | None, view: View, settings: Settings,
                headers: Mapping[str, str] | None = None) -> Template:
        context = (page_context(page.site, page.state, hold_action=page.links.hold_action)
                   if page else bare_context(request))
        return render(request, context, view, page_template="widget/page.html", headers={
            "Content-Security-Policy": page_csp(frame_ancestors(page.site if page else None, settings)),
            "Cache-Control": "no-store",
            "Vary": "HX-Request, HX-Target, HX-History-Restore-Request, Accept-Language",
            **(headers or {}),
        })

    def _not_found(self, request: Request, settings: Settings) -> Template:
        return self._render(request, None, View("widget/_notfound.html", {}, status=404), settings)

    async def _failed(self, request: Request, page: _Request, exc: ServiceError, settings: Settings,
                      now: datetime, *, service: Service | None = None, start: datetime | None = None,
                      carried: list[tuple[str, str]] | None = None) -> Template:
        """A service refused: the one place that turns its reason into a step of this page.

        ``service`` and ``start`` are what was being booked, ``carried`` what
        the customer typed, for offering other times when that one is gone.
        """
        if isinstance(exc, NotFound) and exc.what == "site":
            return self._not_found(request, settings)
        if isinstance(exc, SlotUnavailable) and service is not None and start is not None:
            view = steps.taken_step(page.p, page.links, service, start, exc.alternatives, carried or [])
            return self._render(request, page, view, settings,
                                {**NO_PUSH, **slot_unavailable_trigger(page.p)})
        if isinstance(exc, NotFound):  # the service is unknown, or was switched off a moment ago
            view = await loading.services_view(page.p, now, message=steps.unbookable_message(page.p))
            return self._render(request, page, view, settings, NO_PUSH)
        raise exc

    # --- GET: any step, from the URL alone

    @get("/", name="booking-page")
    async def page(self, request: Request, site: FromPath[str], clock: NamedDependency[Clock],
                   settings: NamedDependency[Settings]) -> Template:
        query = dict(request.query_params.items())
        now = clock()
        if is_htmx(request) and request.headers.get("hx-target") == "sw-slots":
            fragment = await self._day_fragment(request, site, query, now, settings)
            if fragment is not None:
                return fragment
        try:
            site_info, offer, services, unbookable = await self._step_data(site, query)
        except NotFound:
            return self._not_found(request, settings)
        page = _Request(site_info, read_state(site_info, query, settings=settings,
                                              accept_language=request.headers.get("accept-language")))
        page, view = await self._step(page, offer, services, unbookable, query, now, settings)
        return self._render(request, page, view, settings)

    @staticmethod
    async def _step_data(site: str, query: Mapping[str, str]) -> tuple[Site, Offer | None, Any, bool]:
        """The site with what the step reads anyway: the service's offer, or else the service list.

        The last value is True when the service asked for cannot be booked
        online. Raises NotFound when the site does not exist.
        """
        offer = services = None
        unbookable = False
        if query.get("service") and "booked" not in query:
            resource = query.get("resource")
            resource = None if resource in (None, "", "any") else resource
            try:
                # Keyed as the calendar's availability read will ask: one load, not two.
                offer = await availability_service.cached_offer(site, query["service"], resource=resource)
            except InvalidInput:  # a resource that does not give the service: asked again below
                offer = await availability_service.cached_offer(site, query["service"])
            except NotFound as exc:
                if exc.what == "site":
                    raise
                unbookable = True
        if offer is None:
            site_info, services = await availability_service.list_services(site)
        else:
            site_info = offer.site
        return site_info, offer, services, unbookable

    async def _step(self, page: _Request, offer: Offer | None, services: Any, unbookable: bool,
                    query: Mapping[str, str], now: datetime, settings: Settings) -> tuple[_Request, View]:
        """The step the URL names: confirmation, services, resources, details or calendar.

        The page comes back too: an unknown resource is dropped from its state.
        """
        p = page.p
        booked = BookedSummary.read(settings, query.get("booked"))
        if booked is not None:
            service = offer.service if offer is not None and offer.service.slug == booked.service else None
            return page, steps.confirmation_step(p, booked, base_url=settings.base_url, now=now,
                                                 service=service)
        if offer is None:
            message = steps.unbookable_message(p) if unbookable else None
            return page, await loading.services_view(p, now, message=message, services=services)

        chooses = offer.service.offers_choice
        key = page.state.resource_key
        if key is not None and key not in offer.service.rules.resource_groups[0]:
            page = page.without_resource()
            if chooses:
                return page, steps.resources_step(page.p, page.links, offer, page.p._("Please choose again."))
        elif chooses and page.state.resource is None and page.state.month is None and "start" not in query:
            return page, steps.resources_step(p, page.links, offer)

        start = parse_start(query.get("start"))
        if start is None:
            return page, await loading.calendar_view(page.p, page.links, offer, now)
        hold = Hold(query.get("hold") or None, parse_start(query.get("until")))
        if hold.token and hold.until is not None and hold.until <= now:
            return page, await loading.expired_view(page.p, page.links, offer.service, start, [], now)
        return page, steps.details_step(page.p, page.links, offer, start, hold, now=now,
                                        form_token=new_form_token(settings, page.site.slug),
                                        resources=held_resources(offer, query.get("with")))

    async def _day_fragment(self, request: Request, site: str, query: Mapping[str, str], now: datetime,
                            settings: Settings) -> Template | None:
        """Only the day's free times, behind a click on a day: the hot path, one availability read.

        The site comes with the availability answer (no read of its own); the
        zone is the one the full page would use. None when anything is off:
        the caller then renders the whole step, which explains what is wrong.
        """
        day, service = parse_day(query.get("date")), query.get("service")
        if day is None or not service:
            return None
        zone = None if query.get("times") == "site" else parse_zone(query.get("tz") or "")
        resource = query.get("resource")
        try:
            result = await availability_service.get_availability(
                site,
                AvailabilityQuery(service=service, start=day, end=day, zone=zone,
                                  resource=None if resource in (None, "", "any") else resource),
                now=now,
            )
        except (NotFound, InvalidInput):
            return None
        page = _Request(result.site, read_state(result.site, query, settings=settings,
                                                accept_language=request.headers.get("accept-language")))
        return self._render(request, page, steps.day_step(page.p, day, result.slots, result.service),
                            settings)

    # --- POST: take a hold, book, start again after a hold ran out

    async def _posted(self, request: Request, site: str,
                      settings: Settings) -> tuple[dict[str, str], _Request] | None:
        """The posted form and the page it describes; None for an unknown site."""
        form = form_dict(await request.form())
        try:
            site_info = await availability_service.get_site(site)
        except NotFound:
            return None
        state = read_state(site_info, form, settings=settings,
                           accept_language=request.headers.get("accept-language"))
        return form, _Request(site_info, state)

    @post("/hold", name="booking-hold")
    async def hold(self, request: Request, site: FromPath[str], clock: NamedDependency[Clock],
                   settings: NamedDependency[Settings]) -> Template | Redirect:
        posted = await self._posted(request, site, settings)
        if posted is None:
            return self._not_found(request, settings)
        form, page = posted
        now, state = clock(), page.state
        carried = carried_values(form)
        start = parse_start(form.get("start"))
        if not state.service:
            return self._render(request, page, await loading.services_view(page.p, now), settings)
        try:
            offer = await availability_service.load_offer(site, state.service)
        except ServiceError as exc:
            return await self._failed(request, page, exc, settings, now)
        if start is None:
            view = await loading.calendar_view(page.p, page.links, offer, now,
                                               message=page.p._("Please choose a time."))
            return self._render(request, page, view, settings)
        try:
            # Picking another time releases the hold the page still carries (state.held).
            result = own_hold(state, offer, start, now) or await booking_service.take_hold(
                site, state.service, start, resource=state.resource_key, actor=WIDGET_CUSTOMER, now=now,
                replaces=held_token(state), client=client_of(request, settings.trusted_proxies),
                holds_per_client=settings.holds_per_client)
        except InvalidInput:  # the chosen resource does not give this service (any more)
            page = page.without_resource()
            return self._render(request, page, steps.resources_step(
                page.p, page.links, offer, page.p._("Please choose again.")), settings)
        except ServiceError as exc:
            return await self._failed(request, page, exc, settings, now, service=offer.service,
                                      start=start, carried=carried)

        slot = result.slot
        details_url = state.url(
            month=None, day=None, held=None,
            start=slot.start.astimezone(page.p.zone).isoformat(), hold=result.token,
            until=instant(result.expires_at), **{"with": ",".join(r.key for r in slot.resources)},
        )
        if not is_htmx(request) and not carried:
            # Post/Redirect/Get: a reload must not take a second hold on the same time.
            return Redirect(details_url, status_code=303, headers={"Cache-Control": "no-store"})
        view = steps.details_step(page.p, page.links, offer, slot.start, Hold(result.token, result.expires_at),
                                  now=now, form_token=new_form_token(settings, site),
                                  resources=slot.resources, values=dict(carried))
        return self._render(request, page, view, settings, {
            "HX-Push-Url": details_url, **slot_selected_trigger(page.p, offer.service.slug, slot)})

    @post("/confirm", name="booking-confirm")
    async def confirm(self, request: Request, site: FromPath[str], clock: NamedDependency[Clock],
                      settings: NamedDependency[Settings],
                      config: NamedDependency[ServiceConfig]) -> Template:
        posted = await self._posted(request, site, settings)
        if posted is None:
            return self._not_found(request, settings)
        form, page = posted
        now, state, p = clock(), page.state, page.p
        start = parse_start(form.get("start"))
        if not state.service or start is None:
            view = await loading.services_view(
                p, now, message=p._("Something went wrong. Please choose your appointment again."))
            return self._render(request, page, view, settings, NO_PUSH)
        try:
            offer = await availability_service.load_offer(site, state.service)
        except ServiceError as exc:
            return await self._failed(request, page, exc, settings, now)
        hold = Hold(form.get("hold") or None, parse_start(form.get("until")))
        typed = {k: v for k, v in form.items() if k.startswith(CARRIED_PREFIXES)}

        def form_again(problems: list[FieldProblem] | None = None, notice: str | None = None,
                       token: str | None = None) -> Template:
            view = steps.details_step(p, page.links, offer, start, hold, now=now,
                                      form_token=token or new_form_token(settings, site), values=typed,
                                      resources=held_resources(offer, form.get("with")),
                                      problems=problems or [], notice=notice, status=422)
            return self._render(request, page, view, settings, NO_PUSH)

        token = form.get("form")
        nonce = read_form_token(settings, token, site)
        if nonce is None:
            return form_again(notice=p._("This form has expired. Please check your details and send it again."))
        try:
            result = await self._book(site, booking_request(form, offer.service, state, start, hold.token),
                                      now=now, config=config, nonce=nonce)
        except InvalidInput as exc:
            return form_again(exc.problems, token=token)
        except IdempotencyConflict:
            return form_again(notice=p._("This form was already used for a booking. "
                                         "Please start again to make another one."))
        except ServiceError as exc:
            return await self._failed(request, page, exc, settings, now, service=offer.service,
                                      start=start, carried=carried_values(form))

        booking = result.booking
        summary = BookedSummary.of(booking, result.manage_token)
        view = steps.confirmation_step(
            p, summary, base_url=settings.base_url, now=now, service=offer.service,
            customer={"name": booking.customer.name, "email": booking.customer.email,
                      "phone": booking.customer.phone or "", "address": booking.address or ""},
            answers=p.answer_rows(offer.service, booking.answers),
        )
        return self._render(request, page, view, settings, {
            # Replace, not push: Back should not return to a form already sent.
            "HX-Replace-Url": state.url(service=booking.service.slug, month=None, day=None,
                                        booked=summary.sign(settings)),
            **booked_trigger(p, booking),
        })

    @staticmethod
    async def _book(site: str, request_data: booking_service.BookingRequest, *, now: datetime,
                    config: ServiceConfig, nonce: str) -> booking_service.BookingResult:
        """Book with the form's nonce as idempotency key; on a taken slot, try once more.

        A double click can race its twin: the twin booked the slot and recorded
        the nonce just now, so a second try replays its booking.
        """
        async def book() -> booking_service.BookingResult:
            return await booking_service.create_booking(site, request_data, actor=WIDGET_CUSTOMER,
                                                        now=now, config=config, idempotency_key=nonce)

        try:
            return await book()
        except SlotUnavailable:
            return await book()

    @post("/expired", name="booking-expired")
    async def expired(self, request: Request, site: FromPath[str], clock: NamedDependency[Clock],
                      settings: NamedDependency[Settings]) -> Template:
        """The countdown ran out: fresh times of the same day, with what was typed carried along."""
        posted = await self._posted(request, site, settings)
        if posted is None:
            return self._not_found(request, settings)
        form, page = posted
        now = clock()
        start = parse_start(form.get("start"))
        try:
            offer = await availability_service.load_offer(site, page.state.service or "")
        except NotFound:
            return self._render(request, page, await loading.services_view(page.p, now), settings, NO_PUSH)
        if start is None:
            view = await loading.calendar_view(page.p, page.links, offer, now)
            return self._render(request, page, view, settings, NO_PUSH)
        view = await loading.expired_view(page.p, page.links, offer.service, start, carried_values(form), now)
        return self._render(request, page, view, settings, {**NO_PUSH, **hold_expired_trigger(page.p)})

    # --- the page's own script and stylesheet

    @get("/app.js", name="booking-script", sync_to_thread=False)
    def script(self) -> Response[str]:
        """htmx followed by booking.js; immutable, its URL carries both files' hashes."""
        return Response(script_bundle(), media_type="text/javascript", headers={"Cache-Control": IMMUTABLE})

    @get("/theme.css", name="booking-theme", sync_to_thread=False)
    def theme(self, request: Request) -> Response[str]:
        """The page's stylesheet in the accent colour (no inline styles under our CSP)."""
        accent = parse_accent(request.query_params.get("accent")) or DEFAULT_ACCENT
        return Response(theme_css(accent), media_type="text/css", headers={"Cache-Control": IMMUTABLE})

