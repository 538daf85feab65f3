"""Security headers on every response, through Flask-Talisman, plus the two it cannot decide.

The CSP is strict: scripts and styles only from this site's own files, never inline, so an
injected ``<script>`` or ``style`` attribute does nothing even where escaping were to fail.
``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for old browsers) stops one-tap
buttons ("Cancel this date") from being framed and clicked through. Talisman is kept from
touching what it would otherwise change here: it would redirect http to https and mark the
session cookie Secure, both of which ``SESSION_COOKIE_SECURE`` already decides.

What it cannot know is per request: a URL that holds a secret (a feed or invite token) must not
travel on in a ``Referer`` header (``no-referrer``), and a page built for a logged-in person must
not stay in a shared cache or the back-forward history of a shared computer
(``private, no-store``).
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_talisman import Talisman
from werkzeug.wrappers import Response

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}
PERMISSIONS = {
    feature: "()"
    for feature in (
        "browsing-topics",
        "camera",
        "geolocation",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
}
#: Mimetypes that show a person's own data (pages and the "my data" download).
PRIVATE_TYPES = frozenset({"text/html", "application/json"})

talisman = Talisman()


def init_app(app: Flask) -> None:
    # Registered before Talisman's own hook: Flask runs after-request hooks last-registered
    # first, so this one runs after Talisman's and its Referrer-Policy wins.
    @app.after_request
    def _per_request(response: Response) -> Response:
        if request.blueprint == "feeds" or "token" in (request.view_args or {}):
            response.headers["Referrer-Policy"] = "no-referrer"
        if (
            "_user_id" in session
            and request.endpoint != "static"
            and response.mimetype in PRIVATE_TYPES
        ):
            response.headers["Cache-Control"] = "private, no-store"
        return response

    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    talisman.init_app(
        app,
        force_https=False,
        frame_options="DENY",
        strict_transport_security=secure or app.config["PREFERRED_URL_SCHEME"] == "https",
        strict_transport_security_include_subdomains=False,
        content_security_policy=CSP,
        referrer_policy="same-origin",
        permissions_policy=PERMISSIONS,
        session_cookie_secure=secure,
        session_cookie_http_only=bool(app.config["SESSION_COOKIE_HTTPONLY"]),
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
