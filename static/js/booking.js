/*! Slotwise booking page: host events, focus and announcements, calendar keys, hold countdown. */
(function (W, D) {
  "use strict";
  var body = D.body, host = body.getAttribute("data-sw-host"), wid = body.getAttribute("data-sw-wid") || "";
  var framed = W.parent !== W, lastFocus = null, keyNav = false, height = 0, pending = false;
  function attr(name) { return body.getAttribute(name); }
  function byId(id) { return D.getElementById(id); }

  // To the embedding page only, and only when the server accepted its origin (never "*").
  function post(type, detail) {
    if (!host || !framed) return;
    var clean = {};
    for (var k in detail || {}) if (k !== "elt" && Object.prototype.hasOwnProperty.call(detail, k)) clean[k] = detail[k];
    try { W.parent.postMessage({ source: "slotwise", widget: wid, type: type, detail: clean }, host); } catch (e) {}
  }
  function measure() {
    pending = false;
    var h = Math.ceil(D.documentElement.getBoundingClientRect().height);
    if (h !== height) { height = h; post("resize", { height: h }); }
  }
  function resized() { if (!pending) { pending = true; W.requestAnimationFrame(measure); } }
  // The server names these in HX-Trigger headers; htmx fires them, we pass them on.
  ["slot-selected", "booked", "error"].forEach(function (type) {
    D.addEventListener("slotwise:" + type, function (e) { post(type, e.detail); });
  });

  function say(text) {
    var s = byId("sw-status");
    if (!s || !text) return;
    s.textContent = "";
    W.setTimeout(function () { s.textContent = text; }, 60);
  }
  function alertBox(text) {
    var a = byId("sw-alert");
    if (a) { a.textContent = text || ""; a.hidden = !text; }
  }
  function failed(code, message) { alertBox(message); post("error", { code: code, message: message }); }
  D.addEventListener("htmx:responseError", function () { failed("server", attr("data-sw-error")); });
  D.addEventListener("htmx:sendError", function () { failed("network", attr("data-sw-offline")); });
  D.addEventListener("htmx:beforeRequest", function () {
    var a = D.activeElement;
    lastFocus = a && a.id ? a.id : null;
  });

  // After a swap: announce the step, focus where the customer goes on (first error, the day, the heading).
  function focus(el) { if (el) el.focus(framed ? { preventScroll: true } : undefined); }
  // Bring a heading into view (a new step may start off screen on a phone); in a frame the loader
  // scrolls the host page, after the new height.
  function reveal(el) {
    if (!el) return;
    var top = el.getBoundingClientRect().top;
    if (framed) { measure(); post("scroll", { top: Math.round(top + W.scrollY) }); }
    else if (top < 0 || top > W.innerHeight - 48) el.scrollIntoView();
  }
  D.addEventListener("htmx:afterSettle", function (e) {
    var el = e.target, step = byId("sw-step"), again = lastFocus && byId(lastFocus);
    alertBox("");
    if (el.id === "sw-slots") {
      say(el.getAttribute("data-sw-announce")); select(el.getAttribute("data-sw-date"));
      return reveal(byId("sw-slots-title"));
    }
    if (!step || (el !== step && !el.contains(step))) return;
    say(step.getAttribute("data-sw-announce"));
    init();
    var invalid = step.querySelector('[aria-invalid="true"]');
    if (invalid) focus(invalid);
    else if (keyNav) focus(step.querySelector(".sw-grid button[tabindex='0']"));
    else if (again && step.contains(again) && again.tagName === "A") focus(again);
    else focus(byId("sw-step-title"));
    keyNav = false;
    reveal(invalid ? step.querySelector(".sw-errors") || invalid : byId("sw-step-title"));
  });

  // A field's error goes once the field has changed and passes the browser's own checks,
  // with its line in the summary (and the summary when it was the last).
  function fixed(e) {
    var f = e.target, id = f.id, o = f.options, x, li;
    if (!f.checkValidity || f.getAttribute("aria-invalid") !== "true" || !f.checkValidity()) return;
    if (o ? o[f.selectedIndex].defaultSelected : f.type === "checkbox" ? f.checked === f.defaultChecked : f.value === f.defaultValue) return;
    f.removeAttribute("aria-invalid"); f.removeAttribute("aria-describedby");
    byId(id + "-field").classList.remove("sw-field--invalid");
    if ((x = byId(id + "-error"))) x.remove();
    if ((x = D.querySelector('.sw-errors a[href="#' + id + '"]'))) {
      li = x.closest("ul"); x.parentNode.remove();
      if (!li.children.length) li.parentNode.remove();
    }
  }
  D.addEventListener("input", fixed);
  D.addEventListener("change", fixed);

  // Calendar (WAI-ARIA date grid): one tab stop; arrows by day and week, Home/End to the
  // week's ends, PageUp/PageDown to the previous/next month.
  function days() { return [].slice.call(D.querySelectorAll(".sw-grid button.sw-day")); }
  function rove(to) { days().forEach(function (b) { b.tabIndex = b === to ? 0 : -1; }); }
  function select(iso) {
    var chosen = null;
    days().forEach(function (b) {
      var on = b.value === iso;
      if (on) { chosen = b; b.parentNode.setAttribute("aria-selected", "true"); } else b.parentNode.removeAttribute("aria-selected");
      b.classList.toggle("sw-day--selected", on);
    });
    if (chosen) rove(chosen);
  }
  function month(which) {
    var link = byId(which === "prev" ? "sw-cal-prev" : "sw-cal-next");
    if (link) { keyNav = true; link.click(); }
  }
  D.addEventListener("keydown", function (e) {
    var b = e.target;
    if (!b.classList || !b.classList.contains("sw-day")) return;
    var list = days(), i = list.indexOf(b), weekday = b.parentNode.cellIndex, to;
    switch (e.key) {
      case "ArrowLeft": to = i - 1; break;
      case "ArrowRight": to = i + 1; break;
      case "ArrowUp": to = i - 7; break;
      case "ArrowDown": to = i + 7; break;
      case "Home": to = i - weekday; break;
      case "End": to = i + 6 - weekday; break;
      case "PageUp": e.preventDefault(); return month("prev");
      case "PageDown": e.preventDefault(); return month("next");
      case "Enter": case " ": if (b.getAttribute("aria-disabled") === "true") e.preventDefault(); return;
      default: return;
    }
    e.preventDefault();
    if (to < 0) return month("prev");
    if (to >= list.length) return month("next");
    rove(list[to]);
    list[to].focus();
  });

  // The hold's countdown; at zero fresh times replace the form, carrying what was typed.
  function countdown(el) {
    var end = Date.now() + (+el.getAttribute("data-sw-countdown")) * 1000, warned = false;
    var timer = W.setInterval(function () {
      if (!body.contains(el)) return W.clearInterval(timer);
      var left = Math.max(0, Math.round((end - Date.now()) / 1000)), form = byId("sw-form");
      el.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (left <= 60 && !warned) { warned = true; say(attr("data-sw-minute")); }
      if (left > 0) return;
      W.clearInterval(timer);
      if (form && W.htmx) W.htmx.ajax("POST", form.getAttribute("data-sw-expired-url"), { source: form, target: "#sw-step", swap: "outerHTML" });
    }, 1000);
  }
  function init() {
    var grid = D.querySelector(".sw-grid:not([data-sw-ready])"), c = D.querySelector("[data-sw-countdown]:not([data-sw-ready])");
    if (grid) { grid.setAttribute("data-sw-ready", ""); rove(grid.querySelector("[data-sw-focus]") || days()[0]); }
    if (c) { c.setAttribute("data-sw-ready", ""); countdown(c); }
  }

  init();
  if (W.ResizeObserver) new W.ResizeObserver(resized).observe(D.documentElement);
  else W.addEventListener("resize", resized);
  post("ready", { site: attr("data-sw-site") || "" });
  measure();
})(window, document);
