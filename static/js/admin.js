// The back office's only script: keyboard moves on the day view, focus after htmx swaps.
// ← → change the day, ↑ ↓ move between bookings (not while typing in a field).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(document.activeElement)) return;
    var day = document.getElementById("day") || document.getElementById("week");
    if (!day) return;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var link = document.getElementById(event.key === "ArrowLeft" ? "prev-day" : "next-day");
      if (link) { event.preventDefault(); window.location.assign(link.href); }
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var links = Array.prototype.slice.call(day.querySelectorAll("a.b-link"));
      if (!links.length) return;
      var at = links.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? (at < 0 ? 0 : Math.min(at + 1, links.length - 1))
                                           : (at < 0 ? links.length - 1 : Math.max(at - 1, 0));
      event.preventDefault();
      links[next].focus();
    }
  });
  // A panel swapped in takes the focus at its heading, so a keyboard user is where the change is.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "panel") {
      target.closest(".layout") && target.closest(".layout").classList.add("with-panel");
      var heading = target.querySelector(".action h3[id]") || target.querySelector("#panel-title");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    }
  });
})();
// Copy buttons: <button data-copy="#field" data-copied="Copied"> copies the field's value (or text)
// and says so in the [role=status] beside it, or on itself when there is none. One handler for
// every page that shows something to copy: the widget snippet, a new API key, a webhook secret,
// a feed URL.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var status = button.parentNode.querySelector("[role=status]");
    function done() {
      var said = button.getAttribute("data-copied") || "✓";
      if (status) status.textContent = said; else button.textContent = said;
    }
    var text = field.value !== undefined ? field.value : field.textContent;
    if (field.select) field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { if (document.execCommand("copy")) done(); });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();

// The booking desk: picking a past customer fills name, email and phone (no inline scripts: CSP);
// on the day view, a click on a free spot of a resource's column opens the booking form for that
// resource, day and time (rounded down to the quarter hour). Keyboard users have the "Book" button.
(function () {
  "use strict";
  var ROW_MINUTES = 5; // present.ROW_MINUTES: one grid row
  document.addEventListener("click", function (event) {
    var column = event.target.closest && event.target.closest(".rows[data-book]");
    if (column && !event.target.closest(".block")) {
      var box = column.getBoundingClientRect();
      var rows = parseInt(column.parentNode.closest(".grid").getAttribute("data-rows"), 10);
      var row = Math.floor((event.clientY - box.top) / box.height * rows);
      var minutes = parseInt(column.getAttribute("data-first-hour"), 10) * 60 + row * ROW_MINUTES;
      minutes -= minutes % 15;
      var at = String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0");
      window.location.assign(column.getAttribute("data-book") + "&at=" + at);
      return;
    }
    var pick = event.target.closest && event.target.closest("button.suggestion");
    if (!pick) return;
    event.preventDefault();
    ["name", "email", "phone"].forEach(function (part) {
      var field = document.getElementById("c-" + part);
      if (field) field.value = pick.getAttribute("data-" + part) || "";
    });
    var list = document.getElementById("suggestions");
    if (list) list.textContent = "";
    var email = document.getElementById("c-email");
    if (email) email.focus();
  });
})();

// The top bar: below 60em the nav's groups fold behind a "Menu" button (admin.css), which only this
// script can open, so it stays hidden without it and the groups then show as a row. Escape or a
// click elsewhere closes the menu and the account menu (a <details>), and Escape returns the focus
// to what opened it.
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  var account = document.querySelector("details.account");
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () { setOpen(toggle.getAttribute("aria-expanded") !== "true"); });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (toggle && toggle.getAttribute("aria-expanded") === "true") { setOpen(false); toggle.focus(); }
    if (account && account.open) { account.open = false; account.querySelector("summary").focus(); }
  });
  document.addEventListener("click", function (event) {
    if (toggle && toggle.getAttribute("aria-expanded") === "true" && !toggle.parentNode.contains(event.target)) setOpen(false);
    if (account && account.open && !account.contains(event.target)) account.open = false;
  });
})();
