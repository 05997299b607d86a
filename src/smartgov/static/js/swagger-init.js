// Starts Swagger UI from the platform's own copy (no CDN, no inline script): the settings arrive as
// JSON in #swagger-settings; the session's CSRF token rides along on the requests "Try it out" sends.
(function () {
  const settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  const csrf = document.body.dataset.csrfToken;
  settings.dom_id = "#swagger-ui";
  settings.presets = [SwaggerUIBundle.presets.apis];
  if (csrf) {
    settings.requestInterceptor = function (req) { req.headers["X-CSRFToken"] = csrf; return req; };
  }
  window.ui = SwaggerUIBundle(settings);
})();
