// Swagger UI for this service's OpenAPI document (a file, not an inline script: the page's CSP forbids those).
// "openapi.json" is relative to the page, so the same page works on the service's port and through the ingress.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // The default validator badge would call a server on the internet.
    validatorUrl: null,
    displayRequestDuration: true,
  });
});
