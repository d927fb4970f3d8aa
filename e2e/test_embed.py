"""The real server: /widget.js, security headers, /demo, framing rules, locales."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.harness import RECORD_JS, SITE, snippet
from e2e.pages import HostPage, assert_accessible

CSP_VIOLATIONS_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (p.split() for p in csp.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


# --- /widget.js --------------------------------------------------------------

def test_the_loader_is_served_as_javascript_with_a_content_hash_etag(slotwise):
    status, headers, body = slotwise.get("/widget.js")
    assert status == 200
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["etag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    assert headers["cache-control"] == "public, max-age=300, stale-while-revalidate=86400"
    assert headers["x-content-type-options"] == "nosniff"
    assert b"slotwise" in body and len(body) < 6000


def test_a_matching_if_none_match_answers_304_without_a_body(slotwise):
    _, headers, _ = slotwise.get("/widget.js")
    etag = headers["etag"]
    for sent in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        status, again, body = slotwise.get("/widget.js", {"If-None-Match": sent})
        assert (status, body, again["etag"]) == (304, b"", etag), sent
    status, _, body = slotwise.get("/widget.js", {"If-None-Match": '"stale"'})
    assert status == 200 and body


# --- the security baseline ---------------------------------------------------

@pytest.mark.parametrize("path", ["/healthz", "/no-such-page", f"/api/v1/sites/{SITE}/services", "/widget.js"])
def test_responses_without_their_own_policy_get_the_strict_baseline(slotwise, path):
    _, headers, _ = slotwise.get(path)
    csp = _directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers.get("x-frame-options", "DENY") == "DENY"  # legacy twin of frame-ancestors 'none'


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_openapi_ui_renders_without_csp_violations(page: Page, slotwise, path):
    page.add_init_script(CSP_VIOLATIONS_JS)
    page.route(re.compile(r"^https://"), lambda route: route.abort())  # offline: CDNs fail fast, not slowly
    response = page.goto(slotwise.base + path, wait_until="load")
    assert response and response.status == 200
    assert page.evaluate("() => window.__csp") == []
    # Whatever it may load, nobody may frame it.
    csp = _directives(response.headers.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"] or response.headers.get("x-frame-options") == "DENY"


# --- /demo --------------------------------------------------------------------

def test_the_demo_page_embeds_the_widget_from_the_other_loopback_origin(slotwise):
    port = slotwise.base.rsplit(":", 1)[1]
    for page_origin, widget_origin in ((slotwise.base, f"http://localhost:{port}"),
                                       (f"http://localhost:{port}", slotwise.base)):
        status, headers, body = slotwise.get("/demo", {"Host": page_origin.removeprefix("http://")})
        assert status == 200, body[:500]
        html = body.decode()
        assert f'<script async src="{widget_origin}/widget.js" data-site="{SITE}"></script>' in html
        assert f'<noscript><p><a href="{widget_origin}/book/{SITE}">' in html
        assert "&lt;script async src=" in html  # the snippet, shown for copying
        csp = _directives(headers["content-security-policy"])
        assert csp["script-src"] == ["'self'", widget_origin]
        assert csp["frame-src"] == [widget_origin]
        assert "'unsafe-inline'" not in headers["content-security-policy"]


def test_the_demo_page_is_accessible_and_violates_no_csp(page: Page, slotwise, axe_source):
    page.add_init_script(CSP_VIOLATIONS_JS)
    page.goto(slotwise.base + "/demo")
    host = HostPage(page)
    host.expect_widgets(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Physiotherapy at the harbour")
    assert not host.widget().src.startswith(slotwise.base)  # cross-origin, as on a customer's site
    assert_accessible(page, axe_source, "demo page")
    assert page.evaluate("() => window.__csp") == []


def test_the_demo_page_receives_ready_from_its_cross_origin_widget(page: Page, slotwise):
    page.add_init_script(RECORD_JS)
    page.goto(slotwise.base + "/demo")
    host = HostPage(page)
    host.wait_for_event("slotwise:ready")
    expect(page.get_by_test_id("demo-events")).to_contain_text("slotwise:ready")
    host.widget().assert_no_inner_scrollbar()


# --- framing rules -----------------------------------------------------------

def test_the_booking_page_may_be_framed_only_by_the_sites_allowed_origins(slotwise, host_site):
    _, headers, _ = slotwise.get(f"/book/{SITE}?embed=1")
    ancestors = _directives(headers["content-security-policy"])["frame-ancestors"]
    assert host_site.origin in ancestors and "https://harbour-physio.example" in ancestors
    assert "*" not in ancestors and "http://127.0.0.3" not in " ".join(ancestors)
    _, headers, _ = slotwise.get("/book/no-such-site?embed=1")
    assert _directives(headers["content-security-policy"])["frame-ancestors"] == ["'none'"]


def test_an_unknown_origin_cannot_frame_the_booking_page(page: Page, slotwise, unknown_site):
    url = unknown_site.add_page("thief", snippet(slotwise.base, SITE))
    host = HostPage(page).open(url)
    host.expect_widgets(1)  # the loader mounts; the browser refuses the content
    page.wait_for_function("() => window.__frameLoads.length === 1")
    frame = host.widget().frame
    assert not frame.url.startswith(slotwise.base)  # Chromium swaps in its error page
    assert 'data-sw-step' not in frame.content()
    assert host.events() == []  # and no slotwise:ready ever reached the page


# --- locales -----------------------------------------------------------------

def test_data_locale_de_shows_the_booking_page_in_german(page: Page, slotwise, host_site):
    url = host_site.add_page("german", snippet(slotwise.base, SITE, locale="de"), lang="de", title="Praxis")
    host = HostPage(page).open(url)
    host.wait_for_event("slotwise:ready")
    widget = host.widget()
    expect(widget.iframe).to_have_attribute("title", "Termin buchen")
    frame = page.frame_locator("iframe")
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    expect(frame.get_by_role("heading", name="Leistung wählen")).to_be_visible()


# --- several widgets -----------------------------------------------------------

def test_two_real_widgets_on_one_page_keep_their_own_step_and_height(page: Page, slotwise, host_site):
    url = host_site.add_page(
        "two-real", '<div id="a"></div><div id="b"></div>'
        + snippet(slotwise.base, SITE, target="#a") + snippet(slotwise.base, SITE, target="#b", service="rueckenfit"))
    host = HostPage(page).open(url)
    host.wait_for_event("slotwise:ready", count=2)
    a, b = host.widget_in("#a"), host.widget_in("#b")
    step_a = a.iframe.content_frame.locator("#sw-step")
    step_b = b.iframe.content_frame.locator("#sw-step")
    expect(step_a).to_have_attribute("data-sw-step", "services")
    expect(step_b).to_have_attribute("data-sw-step", "calendar")
    a.assert_no_inner_scrollbar()
    b.assert_no_inner_scrollbar()

    # Moving on in widget a changes a only.
    link = step_a.get_by_role("link", name="Rückenfit")
    link.focus()
    page.keyboard.press("Enter")
    expect(step_a).to_have_attribute("data-sw-step", "calendar")
    expect(step_b).to_have_attribute("data-sw-step", "calendar")
    a.assert_no_inner_scrollbar()
    b.assert_no_inner_scrollbar()
    assert {e["container"] for e in host.events("slotwise:ready")} == {"a", "b"}
