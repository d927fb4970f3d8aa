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
