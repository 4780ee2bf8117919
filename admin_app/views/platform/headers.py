"""The security headers of every response, set in one place (Flask-Talisman, bound in `create_app`).

- Content-Security-Policy: scripts from this site only, plus the inline scripts that carry the
  request's nonce (Flask-Admin's own, through `Admin(csp_nonce_generator=csp_nonce)`); no inline event
  handler, no `javascript:` URL, no framing (`frame-ancestors 'none'`), forms post back here only.
  Styles allow 'unsafe-inline': Bootstrap's and Select2's widgets, the date pickers and Plotly write
  `style` attributes, which a nonce cannot cover. An injected style can change how a page looks but
  runs no code and reads nothing, so the risk is far lower than inline script, which stays refused.
- X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy same-origin.
- Cache-Control no-store on every page and download, unless the view chose its caching itself
  (the static files; the Plotly asset is public and immutable; the calendar feed is private for
  5 minutes).
- Under APP_ENV=production: HSTS (a year, includeSubDomains) and a redirect from http to https. Behind
  a proxy, TRUSTED_PROXIES lets ProxyFix read X-Forwarded-Proto, so a request that came in over https
  is seen as such.

A page that sets a stricter policy of its own (the public survey and receipt pages: no script at all,
no referrer) keeps it: Talisman's values are the defaults, not overrides.
"""

from __future__ import annotations

from flask import Flask, request
from flask_talisman import Talisman

ONE_YEAR_SECONDS = 365 * 24 * 3600

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",  # + the request's nonce (content_security_policy_nonce_in)
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",  # Bootstrap's form icons are data: SVGs
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = {"browsing-topics": "()", "camera": "()", "microphone": "()", "geolocation": "()"}

# Headers a view or blueprint may set itself, stricter than the defaults below; they are kept.
OWN_HEADERS = ("Content-Security-Policy", "Referrer-Policy")


class PracticeTalisman(Talisman):
    """Talisman whose headers are defaults: a response that already carries one of OWN_HEADERS keeps it.

    (Talisman's after_request runs after the blueprints' and would otherwise replace the public pages'
    stricter policy.)
    """

    def _set_response_headers(self, response):
        own = {name: response.headers[name] for name in OWN_HEADERS if name in response.headers}
        response = super()._set_response_headers(response)
        response.headers.update(own)
        return response


def init_app(app: Flask) -> None:
    """Bind the headers to `app`. One Talisman per app: it keeps its options on itself, and the tests
    build apps with different settings in one process."""
    production = app.config.get("APP_ENV") == "production"
    app.extensions["talisman"] = PracticeTalisman(
        app,
        force_https=production,
        strict_transport_security=production,
        strict_transport_security_max_age=ONE_YEAR_SECONDS,
        strict_transport_security_include_subdomains=True,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy=PERMISSIONS_POLICY,
        # The cookie settings stay those of config.py (Talisman would otherwise set them too).
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", production),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        session_cookie_http_only=app.config.get("SESSION_COOKIE_HTTPONLY", True),
    )
    app.after_request(_no_store)


def csp_nonce() -> str:
    """This request's script nonce (Flask-Admin's `csp_nonce_generator`; `csp_nonce()` in templates)."""
    return getattr(request, "csp_nonce", "")


def _no_store(response):
    """Nothing the app answers is kept by a browser or a proxy, unless the view chose its caching."""
    if is_static(request.endpoint):
        return response
    caching = response.cache_control
    if not (caching.public or caching.private):
        caching.no_store = True
    return response


def is_static(endpoint: str | None) -> bool:
    """The app's and Flask-Admin's static files (public assets: jQuery, Bootstrap, our JS and CSS)."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))
