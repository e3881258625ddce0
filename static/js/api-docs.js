// The API documentation page (/api/docs/): Swagger UI over the schema this site serves.
// The Content-Security-Policy runs no inline script, so what the UI needs comes from the
// page's data- attributes.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  var csrfToken = root.dataset.csrfToken;
  function sameSite(url) {
    return new URL(url, window.location.href).origin === window.location.origin;
  }
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    // Every area's operations listed (not folded away), their details on a click.
    docExpansion: "list",
    // No badge fetched from validator.swagger.io: the page asks no other host for anything.
    validatorUrl: null,
    // "Try it out" runs as the signed-in staff member, whose writes Django's CSRF check
    // wants the token on; it never goes with a request to another site.
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (["GET", "HEAD", "OPTIONS"].indexOf(method) === -1 && sameSite(request.url)) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
