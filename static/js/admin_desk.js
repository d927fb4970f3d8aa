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
