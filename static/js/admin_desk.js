// The booking desk: picking a past customer fills name, email and phone (no inline scripts: CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
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
