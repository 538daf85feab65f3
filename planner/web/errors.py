"""Friendly error pages; a reason given to ``abort(code, reason)`` is shown to the person.

A database that is down, locked past the busy timeout or answering nonsense is a 503 with
``Retry-After``, never a 500: the request's transaction is gone, so nothing was half-saved and
trying again is safe. That page is rendered straight from its template, without context
processors or ``current_user``: the usual error page asks the database who is logged in, which is
how a logged-in visitor used to get the bare "Internal Server Error" when the database was down.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, make_response, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from planner.web import i18n
from planner.web.lazy_text import lazy_gettext as _l

log = logging.getLogger(__name__)
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)

BUSY_MESSAGE = _l(
    "Many people are answering this occurrence right now and yours could not be saved. "
    "Nothing was changed: please try again in a moment."
)

UNAVAILABLE_MESSAGE = _l(
    "The planner cannot reach its database right now, or it is too busy to save this. "
    "Nothing was changed: please try again in a minute."
)
#: Seconds a client (or a calendar app) is asked to wait before trying again.
RETRY_AFTER = "5"

TITLES = {
    400: _l("That request did not make sense"),
    403: _l("You can't do that here"),
    404: _l("Nothing here"),
    405: _l("Not allowed"),
    413: _l("That was too large"),
    429: _l("Slow down a little"),
    500: _l("Something went wrong on our side"),
    503: _l("Please try again"),
}


def init_app(app: Flask) -> None:
    from planner.joining.locks import Busy

    @app.errorhandler(Busy)
    def _busy(error: Busy):
        # A bounded lock wait ran out: the transaction rolled back, so retrying is safe.
        # Logged, so a host whose busy timeout is too short for its crowds can see it.
        log.warning("lock wait ran out: %s", str(error).splitlines()[0] if str(error) else error)
        response = make_response(_render(503, str(BUSY_MESSAGE)))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database(error: Exception):  # one handler per class: Flask looks them up by type
        log.warning("database unavailable: %s", str(error).splitlines()[0] if str(error) else error)
        _drop_session()
        return unavailable()

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        reason = gettext(
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


def _drop_session() -> None:
    """Close the broken session now, so teardown does not touch the database again."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except Exception:  # noqa: BLE001 - the connection is already broken; nothing to save
            log.debug("closing a broken session failed", exc_info=True)


def unavailable():
    """The 503 page, built without the database.

    Its language is the visitor's (cookie, Accept-Language, default), never the member's:
    the usual locale selector asks who is logged in, which is a database query.
    """
    with force_locale(visitor_locale()):
        title = str(TITLES[503])
        message = str(UNAVAILABLE_MESSAGE)
        if request.accept_mimetypes.best == "text/plain" or request.path.endswith(".ics"):
            body = f"503 {title}\n{message}\n"
            response = make_response(body, 503, {"Content-Type": "text/plain"})
        else:
            html = current_app.jinja_env.get_template("unavailable.html").render(
                title=title,
                reason=message,
                static_url=url_for("static", filename="app.css"),
                home_url=url_for("home.index"),
            )
            response = make_response(html, 503)
    response.headers["Retry-After"] = RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    return response


def visitor_locale() -> str:
    """The request's locale without asking the database: a visitor's pick, else the browser's."""
    return (
        i18n.supported(request.cookies.get(i18n.COOKIE))
        or i18n.from_accept_language()
        or i18n.default_locale()
    )


def _custom(error: HTTPException) -> bool:
    """True when the view passed its own reason (werkzeug's defaults are too technical)."""
    return error.description != type(error).description


def _render(code: int, reason: str | None, error: HTTPException | None = None):
    wants_text = request.accept_mimetypes.best == "text/plain" or request.path.endswith(".ics")
    try:
        # The title's language may ask who is logged in, as the page does.
        title = str(TITLES.get(code) or gettext("Error"))
        if wants_text:
            return f"{code} {title}\n{reason or ''}\n", code, {"Content-Type": "text/plain"}
        response = render_template("error.html", code=code, title=title, reason=reason), code
    except DATABASE_ERRORS as failure:  # the page asks who is logged in, and the database is down
        log.warning("database unavailable while rendering a %s page: %s", code, failure)
        _drop_session()
        return unavailable()
    if error is not None and hasattr(error, "get_headers"):
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return response[0], code, headers
    return response
