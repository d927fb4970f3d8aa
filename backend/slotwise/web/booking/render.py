"""Rendering a step: as the whole page, or as the partial htmx swaps in. Shared by the booking
page and the manage pages, which differ only in their page template and headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

from slotwise.domain.model import Site
from slotwise.i18n import negotiate, template_gettext
from slotwise.web.booking.assets import (
    DEFAULT_ACCENT,
    HTMX_CONFIG,
    parse_accent,
    script_url,
    theme_url,
)
from slotwise.web.booking.state import PageState
from slotwise.web.booking.steps import View


def is_htmx(request: Request) -> bool:
    """An htmx swap wants the partial; a history restore (Back after a miss) wants the page."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def page_context(site: Site, state: PageState, *, hold_action: str) -> dict[str, Any]:
    """What the page around every step needs: language, theme, scripts, where picking a time posts."""
    accent = state.accent or parse_accent(site.accent) or DEFAULT_ACCENT
    return {
        "lang": state.locale,
        "site": site,
        "state": state,
        "host": state.host,
        "theme_url": theme_url(site.slug, accent),
        "script_url": script_url(site.slug),
        "htmx_config": HTMX_CONFIG,
        "hold_action": hold_action,
        **template_gettext(state.locale),
    }


def bare_context(request: Request) -> dict[str, Any]:
    """The page around a step without a site (an unknown slug or link): the browser's language."""
    locale = negotiate(request.query_params.get("locale"), request.headers.get("accept-language"), None)
    slug = request.path_params.get("site", "x")
    return {
        "lang": locale, "site": None, "state": None, "host": None,
        "theme_url": theme_url(slug, DEFAULT_ACCENT), "script_url": script_url(slug),
        "htmx_config": HTMX_CONFIG, **template_gettext(locale),
    }


def render(request: Request, context: Mapping[str, Any], view: View, *, page_template: str,
           headers: Mapping[str, str]) -> Template:
    """The step's partial for an htmx swap, else the whole page with the step included."""
    all_headers = {**headers, **view.headers}
    if request.method == "POST" and not {"HX-Push-Url", "HX-Replace-Url"} & all_headers.keys():
        # htmx would otherwise put the POST's own URL into the history, and a
        # reload of it is a GET that has no page.
        all_headers["HX-Push-Url"] = "false"
    return Template(
        template_name=view.template if is_htmx(request) else page_template,
        context={**context, **view.context, "step_template": view.template},
        status_code=view.status,
        headers=all_headers,
        media_type="text/html",
    )
