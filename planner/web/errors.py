"""Friendly error pages; a reason given to ``abort(code, reason)`` is shown to the person."""

from __future__ import annotations

from flask import Flask, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

BUSY_MESSAGE = (
    "Many people are answering this occurrence right now and yours could not be saved. "
    "Nothing was changed: please try again in a moment."
)

TITLES = {
    400: "That request did not make sense",
    403: "You can't do that here",
    404: "Nothing here",
    405: "Not allowed",
    413: "That was too large",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "Please try again",
}


def init_app(app: Flask) -> None:
    from planner.joining.locks import Busy

    @app.errorhandler(Busy)
    def _busy(_error: Busy):
        # A bounded lock wait ran out: the transaction rolled back, so retrying is safe.
        response = make_response(_render(503, BUSY_MESSAGE))
        response.headers["Retry-After"] = "2"
        return response

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
