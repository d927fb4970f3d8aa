// Starts Swagger UI on /schema from our own copy of it (see web/api_docs.py):
// no CDN, no inline script under the page's CSP, no validator badge from swagger.io.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({ url: root.dataset.specUrl, domNode: root, deepLinking: true, validatorUrl: null });
});
