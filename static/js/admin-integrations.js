// The back office's copy buttons: a button with data-copy="<input id>" copies that field's value
// and says so in the live region beside it (pages that show a secret once: webhooks, feed URLs).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var said = button.parentNode.querySelector(".copied");
    function done() { if (said) said.textContent = said.getAttribute("data-copied-text"); }
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (document.execCommand("copy")) done();
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
