"""Checks on the raw request that no single form or view should have to repeat.

A NUL character (``\\0``) is valid in a URL escape (``%00``) and in form data, but PostgreSQL
text cannot hold it: psycopg refuses the statement, which would surface as a 500 wherever the
value reaches a query, whether a slug in the path, a token, or any text field of any form. No
person types one on purpose, so the request is refused as a whole, with a reason, before any
view runs; both databases then behave the same. In the path it names nothing (404, as any
malformed slug, key or token does); in the query string or a form it is a bad request (400).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, abort, request

from planner.web.lazy_text import lazy_gettext as _l

NUL = "\x00"
NUL_IN_PATH = _l("No page has a NUL character (\\0) in its address. Check the link.")
NUL_IN_DATA = _l(
    "The request contained a NUL character (\\0), which no field accepts. "
    "Remove it and try again."
)


def _any_nul(pairs: Iterable[tuple[str, str]]) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs)


def nul_in_data() -> bool:
    """True when the query string or the form data of the current request holds a NUL."""
    if _any_nul(request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        return _any_nul(request.form.items(multi=True))
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        if NUL in request.path:
            abort(404, str(NUL_IN_PATH))
        if nul_in_data():
            abort(400, str(NUL_IN_DATA))
