"""Friendly error pages; a reason given to ``abort(code, reason)`` is shown to the person."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "That request did not make sense",
    403: "You can't do that here",
    404: "Nothing here",
    405: "Not allowed",
    413: "That was too large",
    429: "Slow down a little",
    500: "Something went wrong on our side",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        reason = (
            "The form expired or was sent from another site. Reload the page and try again."
        )
        return _render(400, reason)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        description = error.description if _custom(error) else None
        return _render(error.code, description, error)

    @app.errorhandler(500)
    def _server(_error):
        return _render(500, None)


def _custom(error: HTTPException) -> bool:
    """True when the view passed its own reason (werkzeug's defaults are too technical)."""
    return error.description != type(error).description


def _render(code: int, reason: str | None, error: HTTPException | None = None):
    wants_text = request.accept_mimetypes.best == "text/plain" or request.path.endswith(".ics")
    title = TITLES.get(code, "Error")
    if wants_text:
        return f"{code} {title}\n{reason or ''}\n", code, {"Content-Type": "text/plain"}
    response = render_template("error.html", code=code, title=title, reason=reason), code
    if error is not None and hasattr(error, "get_headers"):
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return response[0], code, headers
    return response
