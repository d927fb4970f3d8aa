// The demo page's own script: lists the events the widget dispatches, as an
// integrator's page would listen to them.
(function () {
  "use strict";
  var TYPES = ["ready", "slot-selected", "booked", "error"];
  function log(event) {
    var list = document.getElementById("events");
    if (!list) return;
    var item = document.createElement("li");
    var name = document.createElement("code");
    name.textContent = event.type;
    item.appendChild(name);
    item.appendChild(document.createTextNode(" " + JSON.stringify(event.detail)));
    list.appendChild(item);
  }
  TYPES.forEach(function (type) {
    document.addEventListener("slotwise:" + type, log);
  });
})();
