"""The routes of the hosted booking page: parse the request, call a service or a view, render."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from slotwise.clock import Clock
from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, ResourceRef, Service, Site
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services.availability import AvailabilityQuery, AvailableSlot, parse_zone
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    SlotUnavailable,
)
from slotwise.settings import Settings
from slotwise.web.booking.assets import (
    DEFAULT_ACCENT,
    IMMUTABLE,
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
    parse_start,
    read_form_token,
)
from slotwise.web.booking.state import (
    frame_ancestors,
    held_resources,
    instant,
    own_hold,
    parse_day,
    read_state,
)
from slotwise.web.booking.views import Page, View, bare_context
from slotwise.web.security import page_csp


def is_htmx(request: Request) -> bool:
    """An htmx swap wants the partial; a history restore (Back after a miss) wants the page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def _trigger(event: str, detail: Mapping[str, Any]) -> dict[str, str]:
    """An ``HX-Trigger`` header: htmx fires ``slotwise:<event>`` and booking.js relays it to the host page."""
    return {"HX-Trigger": json.dumps({f"slotwise:{event}": detail}, separators=(",", ":"))}


def _resources_out(resources: Iterable[ResourceRef]) -> list[dict[str, str]]:
    return [{"key": r.key, "name": r.name, "kind": str(r.kind)} for r in resources]


def slot_unavailable_trigger(page: Page) -> dict[str, str]:
    """The time was taken by someone else, told to the host page."""
    return _trigger(
        "error",
        {"code": "slot-unavailable", "message": page._("This time is no longer available.")},
    )


def hold_expired_trigger(page: Page) -> dict[str, str]:
    """The customer's hold ran out, told to the host page."""
    return _trigger(
        "error", {"code": "hold-expired", "message": page._("Your reservation has expired.")}
    )


def slot_selected_trigger(page: Page, service: str, slot: AvailableSlot) -> dict[str, str]:
    """A hold was taken: the time (in the customer's zone) and whom it is with."""
    return _trigger(
        "slot-selected",
        {
            "service": service,
            "start": slot.start.astimezone(page.customer_zone).isoformat(),
            "end": slot.end.astimezone(page.customer_zone).isoformat(),
            "resources": _resources_out(slot.resources),
        },
    )


def booked_trigger(page: Page, record: Booking) -> dict[str, str]:
    """A booking was made: its id and time (in the customer's zone)."""
    return _trigger(
        "booked",
        {
            "id": record.uid,
            "service": record.service.slug,
            "start": record.start.astimezone(page.customer_zone).isoformat(),
            "end": record.end.astimezone(page.customer_zone).isoformat(),
        },
    )


async def load_step_data(
    site: str, query: Mapping[str, str]
) -> tuple[Site, availability_service.Offer | None, Sequence[Service] | None, bool]:
    """The site with what the step reads anyway: the service's offer, or else the service list.

    The offer is reused for a moment across requests, as for slots. The last
    value is True when the service asked for cannot be booked online. Raises
    NotFound when the site does not exist.
    """
    offer = services = None
    unbookable = False
    if query.get("service") and "booked" not in query:
        resource = query.get("resource")
        resource = None if resource in (None, "", "any") else resource
        try:
            # Keyed as the calendar's availability read will ask: one load, not two.
            offer = await availability_service.cached_offer(
                site, query["service"], resource=resource
            )
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


async def book_retrying_once(
    site: str,
    request_data: booking_service.BookingRequest,
    *,
    now: datetime,
    config: ServiceConfig,
    nonce: str,
) -> booking_service.BookingResult:
    """Book with the form's nonce as idempotency key; on a taken slot, try once more.

    A double click can race its twin: the twin booked the slot and recorded
    the token just now, so a second try replays its booking.
    """

    async def book() -> booking_service.BookingResult:
        return await booking_service.create_booking(
            site, request_data, actor=WIDGET_CUSTOMER, now=now, config=config, idempotency_key=nonce,
        )

    try:
        return await book()
    except SlotUnavailable:
        return await book()


NO_PUSH = {"HX-Push-Url": "false"}

# Who books through the booking page (in the widget or standalone).
WIDGET_CUSTOMER = Actor.customer("widget")


class BookingPages(Controller):
    path = "/book/{site:str}"
    include_in_schema = False

    async def _form_page(
        self, request: Request, site: str, clock: Clock, settings: Settings
    ) -> tuple[dict[str, str], Page] | None:
        """The posted form and the page it describes; None for an unknown site."""
        form = form_dict(await request.form())
        try:
            site_info = await availability_service.get_site(site)
        except NotFound:
            return None
        state = read_state(
            site_info,
            form,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        return form, Page(site_info, state, settings, clock())

    def _render(
        self,
        request: Request,
        page: Page | None,
        view: View,
        settings: Settings,
        headers: Mapping[str, str] | None = None,
    ) -> Template:
        context = {
            **(page.common() if page else bare_context(request)),
            **view.context,
            "step_template": view.template,
        }
        partial = is_htmx(request)
        all_headers = {
            "Content-Security-Policy": page_csp(
                frame_ancestors(page.site if page else None, settings)
            ),
            "Cache-Control": "no-store",
            "Vary": "HX-Request, HX-Target, HX-History-Restore-Request, Accept-Language",
            **view.headers,
            **(headers or {}),
        }
        if request.method == "POST" and not {"HX-Push-Url", "HX-Replace-Url"} & all_headers.keys():
            # htmx would otherwise put the POST's own URL into the history,
            # and a reload of it is a GET that has no page.
            all_headers["HX-Push-Url"] = "false"
        return Template(
            template_name=view.template if partial else "widget/page.html",
            context=context,
            status_code=view.status,
            headers=all_headers,
            media_type="text/html",
        )

    def _not_found(self, request: Request, settings: Settings) -> Template:
        return self._render(request, None, View("widget/_notfound.html", {}, status=404), settings)

    @get("/", name="booking-page")
    async def page(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template:
        query = {k: v for k, v in request.query_params.items()}
        now = clock()
        if is_htmx(request) and request.headers.get("hx-target") == "sw-slots":
            fragment = await self._day_fragment(request, site, query, now, settings)
            if fragment is not None:
                return fragment
        try:
            site_info, offer, services, unbookable = await load_step_data(site, query)
        except NotFound:
            return self._not_found(request, settings)
        state = read_state(
            site_info,
            query,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(site_info, state, settings, now)
        page, view = await self._step(page, offer, services, unbookable, query)
        return self._render(request, page, view, settings)

    async def _step(
        self,
        page: Page,
        offer: availability_service.Offer | None,
        services: Sequence[Service] | None,
        unbookable: bool,
        query: Mapping[str, str],
    ) -> tuple[Page, View]:
        """The step the URL names (confirmation, services, resources, details or calendar).

        The page comes back too: an unknown resource is dropped from its state.
        """
        state, now = page.state, page.now
        booked = BookedSummary.read(page.settings, query.get("booked"))
        if booked is not None:
            return page, page.confirmation_view(booked)
        if offer is None:
            message = page.unbookable() if unbookable else None
            return page, await page.services_view(message, services)

        chooses = offer.service.offers_choice
        key = state.resource_key
        if key is not None and key not in offer.service.rules.resource_groups[0]:
            page = Page(page.site, replace(state, resource=None), page.settings, now)
            if chooses:
                return page, page.resources_view(offer, page._("Please choose again."))
        elif chooses and state.resource is None and state.month is None and "start" not in query:
            return page, page.resources_view(offer)

        start = parse_start(query.get("start"))
        if start is not None:
            until = parse_start(query.get("until"))
            hold = query.get("hold") or None
            if hold and until is not None and until <= now:
                return page, await page.expired_view(offer.service, start, [])
            view = page.details_view(
                offer,
                start,
                hold=hold,
                until=until,
                resources=held_resources(offer, query.get("with")),
            )
            return page, view

        return page, await page.calendar_view(offer)
    async def _day_fragment(
        self,
        request: Request,
        site: str,
        query: Mapping[str, str],
        now: datetime,
        settings: Settings,
    ) -> Template | None:
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
                AvailabilityQuery(
                    service=service,
                    start=day,
                    end=day,
                    zone=zone,
                    resource=None if resource in (None, "", "any") else resource,
                ),
                now=now,
            )
        except (NotFound, InvalidInput):
            return None
        state = read_state(
            result.site,
            query,
            accept_language=request.headers.get("accept-language"),
            settings=settings,
        )
        page = Page(result.site, state, settings, now)
        view = View("widget/_slots.html", {"day": page.day_view(day, result.slots, result.service)})
        return self._render(request, page, view, settings)

    @post("/hold", name="booking-hold")
    async def hold(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        found = await self._form_page(request, site, clock, settings)
        if found is None:
            return self._not_found(request, settings)
        form, page = found
        state, now = page.state, page.now
        carried = carried_values(form)
        start = parse_start(form.get("start"))
        if not state.service:
            return self._render(request, page, await page.services_view(), settings)
        try:
            offer = await availability_service.load_offer(site, state.service)
        except NotFound:
            return self._render(
                request, page, await page.services_view(page.unbookable()), settings
            )
        if start is None:
            return self._render(
                request,
                page,
                await page.calendar_view(offer, page._("Please choose a time.")),
                settings,
            )
        try:
            result = own_hold(state, offer, start, now)
            if result is None:
                result = await booking_service.take_hold(
                    site, state.service, start, resource=state.resource_key, actor=WIDGET_CUSTOMER,
                    now=now,
                )
        except SlotUnavailable as exc:
            view = page.taken_view(offer.service, start, exc.alternatives, carried)
            headers = {**NO_PUSH, **slot_unavailable_trigger(page)}
            return self._render(request, page, view, settings, headers=headers)
        except InvalidInput:
            page = Page(page.site, replace(state, resource=None), settings, now)
            return self._render(
                request, page, page.resources_view(offer, page._("Please choose again.")), settings
            )
        except NotFound:  # the service was switched off a moment ago
            return self._render(
                request, page, await page.services_view(page.unbookable()), settings
            )

        slot = result.slot
        details_url = state.url(
            month=None,
            day=None,
            held=None,
            start=slot.start.astimezone(page.zone).isoformat(),
            hold=result.token,
            until=instant(result.expires_at),
            **{"with": ",".join(r.key for r in slot.resources)},
        )
        if not is_htmx(request) and not carried:
            # Post/Redirect/Get: a reload must not take a second hold on the same time.
            return Redirect(details_url, status_code=303, headers={"Cache-Control": "no-store"})
        view = page.details_view(
            offer,
            slot.start,
            hold=result.token,
            until=result.expires_at,
            resources=slot.resources,
            values=dict(carried),
        )
        headers = {
            "HX-Push-Url": details_url,
            **slot_selected_trigger(page, offer.service.slug, slot),
        }
        return self._render(request, page, view, settings, headers=headers)

    @post("/confirm", name="booking-confirm")
    async def confirm(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
        config: NamedDependency[ServiceConfig],
    ) -> Template:
        found = await self._form_page(request, site, clock, settings)
        if found is None:
            return self._not_found(request, settings)
        form, page = found
        state = page.state
        start = parse_start(form.get("start"))
        if not state.service or start is None:
            return self._render(
                request,
                page,
                await page.services_view(
                    page._("Something went wrong. Please choose your appointment again.")
                ),
                settings,
                NO_PUSH,
            )
        try:
            offer = await availability_service.load_offer(site, state.service)
        except NotFound:
            return self._render(
                request, page, await page.services_view(page.unbookable()), settings
            )

        hold = form.get("hold") or None
        until = parse_start(form.get("until"))
        typed = {k: v for k, v in form.items() if k.startswith(CARRIED_PREFIXES)}

        def form_again(
            problems: Sequence[FieldProblem] = (),
            notice: str | None = None,
            token: str | None = None,
        ) -> Template:
            view = page.details_view(
                offer,
                start,
                hold=hold,
                until=until,
                values=typed,
                problems=problems,
                form_token=token,
                status=422,
                notice=notice,
            )
            return self._render(request, page, view, settings, NO_PUSH)

        token = form.get("form")
        nonce = read_form_token(settings, token, site)
        if nonce is None:
            return form_again(
                notice=page._("This form has expired. Please check your details and send it again.")
            )

        request_data = booking_request(form, offer.service, state, start, hold)
        try:
            result = await book_retrying_once(
                site, request_data, now=page.now, config=config, nonce=nonce
            )
        except InvalidInput as exc:
            return form_again(exc.problems, token=token)
        except NotFound:  # the service was switched off a moment ago
            return self._render(
                request, page, await page.services_view(page.unbookable()), settings
            )
        except IdempotencyConflict:
            return form_again(
                notice=page._(
                    "This form was already used for a booking. "
                    "Please start again to make another one."
                )
            )
        except SlotUnavailable as exc:
            view = page.taken_view(offer.service, start, exc.alternatives, carried_values(form))
            headers = {**NO_PUSH, **slot_unavailable_trigger(page)}
            return self._render(request, page, view, settings, headers=headers)

        record = result.booking
        summary = BookedSummary.of(record, result.manage_token)
        view = page.confirmation_view(
            summary,
            customer={
                "name": record.customer.name,
                "email": record.customer.email,
                "phone": record.customer.phone or "",
            },
            answers=page.answer_rows(offer.service, record.answers),
        )
        headers = {
            # Replace, not push: Back should not return to a form already sent.
            "HX-Replace-Url": state.url(
                service=record.service.slug, month=None, day=None, booked=summary.sign(settings)
            ),
            **booked_trigger(page, record),
        }
        return self._render(request, page, view, settings, headers=headers)

    @post("/expired", name="booking-expired")
    async def expired(
        self,
        request: Request,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The countdown ran out: fresh times of the same day, with what was typed carried along."""
        found = await self._form_page(request, site, clock, settings)
        if found is None:
            return self._not_found(request, settings)
        form, page = found
        start = parse_start(form.get("start"))
        try:
            offer = await availability_service.load_offer(site, page.state.service or "")
        except NotFound:
            return self._render(request, page, await page.services_view(), settings, NO_PUSH)
        if start is None:
            return self._render(request, page, await page.calendar_view(offer), settings, NO_PUSH)
        view = await page.expired_view(offer.service, start, carried_values(form))
        headers = {**NO_PUSH, **hold_expired_trigger(page)}
        return self._render(request, page, view, settings, headers=headers)

    @get("/app.js", name="booking-script", sync_to_thread=False)
    def script(self) -> Response[str]:
        """htmx followed by booking.js; immutable, its URL carries both files' hashes."""
        return Response(
            script_bundle(), media_type="text/javascript", headers={"Cache-Control": IMMUTABLE}
        )

    @get("/theme.css", name="booking-theme", sync_to_thread=False)
    def theme(self, request: Request) -> Response[str]:
        """The page's stylesheet in the accent colour (no inline styles under our CSP)."""
        accent = parse_accent(request.query_params.get("accent")) or DEFAULT_ACCENT
        return Response(
            theme_css(accent), media_type="text/css", headers={"Cache-Control": IMMUTABLE}
        )
