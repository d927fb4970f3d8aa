"""The embed loader (widget/widget.js) on a foreign page, against a fake booking page.

The fake page speaks only the embed contract, so these tests pin the loader's
own behaviour: what it mounts, how it sizes the frame, which messages it trusts.
"""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, expect

from e2e.harness import SITE, snippet
from e2e.pages import HostPage


def test_the_snippet_mounts_one_titled_iframe_where_the_script_stands(page, host_site, fake_slotwise):
    url = host_site.add_page(
        "one", '<p id="before">before</p>' + snippet(fake_slotwise.base, SITE, service="assessment")
        + '<p id="after">after</p>')
    host = HostPage(page).open(url)

    host.expect_widgets(1)
    widget = host.widget()
    expect(widget.iframe).to_have_attribute("title", "Book an appointment")
    # Mounted in a container right where the tag stands: between the two paragraphs.
    assert page.evaluate("""() => {
        const f = document.querySelector("iframe"), box = f.parentElement;
        return box.previousElementSibling.id === "before" && box.nextElementSibling.tagName === "SCRIPT";
    }""")
    assert widget.src.startswith(f"{fake_slotwise.base}/book/{SITE}?")
    params = widget.params
    assert params["embed"] == "1"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", params["wid"])
    assert params["host"] == host_site.origin
    assert params["tz"] == "Europe/London"  # the browser's zone (context option)
    assert params["locale"] == "en-GB"  # navigator.language without data-locale
    assert params["service"] == "assessment"
    assert "resource" not in params and "accent" not in params


def test_the_iframe_is_styled_without_a_style_attribute_and_loads_eagerly(page, host_site, fake_slotwise):
    url = host_site.add_page("style", snippet(fake_slotwise.base, SITE))
    iframe = HostPage(page).open(url).widget().iframe
    expect(iframe).to_have_attribute("loading", "eager")
    expect(iframe).to_have_css("border-top-width", "0px")
    expect(iframe).to_have_css("display", "block")
    assert iframe.evaluate("f => f.getBoundingClientRect().width === f.parentElement.getBoundingClientRect().width")


def test_ready_reaches_the_host_page_as_a_bubbling_dom_event(page, host_site, fake_slotwise):
    url = host_site.add_page("ready", '<div id="box"></div>' + snippet(fake_slotwise.base, SITE, target="#box"))
    host = HostPage(page).open(url)
    [ready] = host.wait_for_event("slotwise:ready")
    assert ready == {"type": "slotwise:ready", "detail": {}, "container": "box"}


def test_every_contract_event_is_dispatched_on_the_container_with_its_detail(page, host_site, fake_slotwise):
    url = host_site.add_page("events", '<div id="box"></div>' + snippet(fake_slotwise.base, SITE, target="#box"))
    host = HostPage(page).open(url)
    host.wait_for_event("slotwise:ready")
    frame = host.widget().frame
    selected = {"service": "assessment", "start": "2026-12-01T09:00:00+01:00",
                "end": "2026-12-01T09:45:00+01:00", "resources": ["anna", "room-1"]}
    booked = {"id": "b1", "service": "assessment", "start": selected["start"], "end": selected["end"]}
    frame.evaluate("([s, b]) => { fake.post('slot-selected', s); fake.post('booked', b); "
                   "fake.post('error', {message: 'Slot taken'}); fake.post('unknown-type', {}); }",
                   [selected, booked])
    host.wait_for_event("slotwise:error")
    assert [(e["type"], e["detail"]) for e in host.events()] == [
        ("slotwise:ready", {}),
        ("slotwise:slot-selected", selected),
        ("slotwise:booked", booked),
        ("slotwise:error", {"message": "Slot taken"}),
    ]
    assert {e["container"] for e in host.events()} == {"box"}


def test_the_iframe_follows_its_content_height_up_and_down_without_an_inner_scrollbar(page, host_site, fake_slotwise):
    url = host_site.add_page("resize", snippet(fake_slotwise.base, SITE))
    host = HostPage(page).open(url)
    widget = host.widget()
    host.wait_for_event("slotwise:ready")
    widget.assert_no_inner_scrollbar()
    start = widget.height()

    widget.frame.evaluate("() => fake.grow(900)")
    page.wait_for_function("h => document.querySelector('iframe').clientHeight > h + 800", arg=start)
    widget.assert_no_inner_scrollbar()

    widget.frame.evaluate("() => fake.grow(-900)")
    page.wait_for_function("h => document.querySelector('iframe').clientHeight === h", arg=start)
    widget.assert_no_inner_scrollbar()


def test_messages_from_anyone_but_the_widgets_own_frame_are_ignored(page, host_site, fake_slotwise):
    url = host_site.add_page(
        "forged", '<div id="a"></div><div id="b"></div>'
        + snippet(fake_slotwise.base, SITE, target="#a") + snippet(fake_slotwise.base, SITE, target="#b"))
    host = HostPage(page).open(url)
    host.wait_for_event("slotwise:ready", count=2)
    a, b = host.widget_in("#a"), host.widget_in("#b")
    height_b = b.height()

    # The host page itself (wrong origin, wrong source) pretends to be widget a.
    page.evaluate("wid => window.postMessage({source: 'slotwise', widget: wid, type: 'booked', detail: {id: 'x'}}, '*')",
                  a.wid)
    # Frame a (right origin, wrong source) pretends to be widget b.
    a.frame.evaluate("wid => parent.postMessage({source: 'slotwise', widget: wid, type: 'booked', detail: {id: 'y'}}, '*')",
                     b.wid)
    a.frame.evaluate("wid => parent.postMessage({source: 'slotwise', widget: wid, type: 'resize', detail: {height: 2000}}, '*')",
                     b.wid)
    # Something the loader does accept, posted after the forgeries: once it has
    # arrived, the forgeries have been handled too (messages are delivered in order).
    a.frame.evaluate("() => fake.post('error', {message: 'sentinel'})")
    host.wait_for_event("slotwise:error")
    assert host.events("slotwise:booked") == []
    assert b.height() == height_b


def test_two_widgets_on_one_page_work_independently(page, host_site, fake_slotwise):
    url = host_site.add_page(
        "two", '<div id="a"></div><div id="b"></div>'
        + snippet(fake_slotwise.base, SITE, target="#a", service="assessment")
        + snippet(fake_slotwise.base, SITE, target="#b", service="rueckenfit", locale="de"))
    host = HostPage(page).open(url)
    host.expect_widgets(2)
    host.wait_for_event("slotwise:ready", count=2)
    a, b = host.widget_in("#a"), host.widget_in("#b")
    assert a.wid != b.wid
    assert (a.params["service"], b.params["service"]) == ("assessment", "rueckenfit")
    expect(b.iframe).to_have_attribute("title", "Termin buchen")

    b.frame.evaluate("() => { fake.grow(500); fake.post('booked', {id: 'in-b'}); }")
    [booked] = host.wait_for_event("slotwise:booked")
    assert booked["container"] == "b" and booked["detail"] == {"id": "in-b"}
    page.wait_for_function("() => document.querySelector('#b iframe').clientHeight > 700")
    a.assert_no_inner_scrollbar()
    b.assert_no_inner_scrollbar()
    assert a.height() < b.height()


def test_a_target_that_appears_after_the_async_script_runs_is_still_used(page, host_site, fake_slotwise):
    # The tag comes first, its target later in the document.
    url = host_site.add_page("late-target", snippet(fake_slotwise.base, SITE, target="#later")
                             + "<p>text</p>" * 50 + '<section id="later"></section>')
    host = HostPage(page).open(url)
    expect(page.locator("#later iframe")).to_have_count(1)
    host.expect_widgets(1)


def test_loading_the_loader_twice_mounts_each_tag_once(page, host_site, fake_slotwise):
    url = host_site.add_page("twice", snippet(fake_slotwise.base, SITE) + snippet(fake_slotwise.base, SITE))
    host = HostPage(page).open(url)
    host.wait_for_event("slotwise:ready", count=2)
    host.expect_widgets(2)
    # A tag added later is mounted by the already-loaded copy, too.
    page.evaluate("""base => { const s = document.createElement("script");
        s.src = base + "/widget.js"; s.dataset.site = "harbour-physio"; s.id = "late";
        document.querySelector("main").appendChild(s); }""", fake_slotwise.base)
    host.expect_widgets(3)
    expect(page.locator("script[data-slotwise-mounted]")).to_have_count(3)


def test_the_german_title_follows_data_locale(page, host_site, fake_slotwise):
    url = host_site.add_page("de", snippet(fake_slotwise.base, SITE, locale="de"), lang="de")
    widget = HostPage(page).open(url).widget()
    expect(widget.iframe).to_have_attribute("title", "Termin buchen")
    assert widget.params["locale"] == "de"


def test_the_loader_sets_no_cookie_and_uses_no_storage(context: BrowserContext, host_site, fake_slotwise):
    page = context.new_page()
    url = host_site.add_page("nostate", snippet(fake_slotwise.base, SITE))
    HostPage(page).open(url).wait_for_event("slotwise:ready")
    assert context.cookies() == []
    assert page.evaluate("() => [document.cookie, localStorage.length, sessionStorage.length]") == ["", 0, 0]


def test_the_mount_api_embeds_a_widget_into_any_element(page, host_site, fake_slotwise):
    # A page that builds its own markup: the loader comes without data-site, then mount() is called.
    url = host_site.add_page("api", f'<div id="later"></div><script src="{fake_slotwise.base}/widget.js"></script>')
    host = HostPage(page).open(url)
    page.wait_for_function("() => window.Slotwise && typeof Slotwise.mount === 'function'")
    host.expect_widgets(0)
    page.evaluate("() => Slotwise.mount('#later', {site: 'harbour-physio', service: 'rueckenfit', locale: 'de'})")
    [ready] = host.wait_for_event("slotwise:ready")
    assert ready["container"] == "later"
    widget = host.widget()
    assert widget.src.startswith(f"{fake_slotwise.base}/book/{SITE}?")
    assert (widget.params["service"], widget.params["locale"]) == ("rueckenfit", "de")
    expect(widget.iframe).to_have_attribute("title", "Termin buchen")
