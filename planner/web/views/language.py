"""The language switcher in the footer: a visitor's pick is kept in a cookie
(:data:`planner.web.i18n.COOKIE`), a member's also in their account (``User.locale``), which
:func:`planner.web.i18n.select_locale` reads first.
"""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext, refresh
from werkzeug.wrappers import Response

from planner.db import get_session
from planner.locales import LANGUAGES
from planner.web.helpers import viewer
from planner.web.i18n import COOKIE
from planner.web.redirects import safe_redirect

bp = Blueprint("language", __name__)

#: How long a visitor's pick is remembered.
ONE_YEAR = 365 * 24 * 60 * 60


@bp.post("/language")
def choose() -> Response:
    """Set the language from the switcher's ``locale`` and go back to ``next``."""
    code = request.form.get("locale", "")
    response = safe_redirect(request.form.get("next"), url_for("home.index"))
    if code not in LANGUAGES:
        flash(gettext("Planner does not speak that language. Pick one from the list."), "error")
        return response
    response.set_cookie(
        COOKIE,
        code,
        max_age=ONE_YEAR,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure,
    )
    person = viewer()
    if person is not None:
        person.locale = code
        get_session().commit()
    # The locale is kept on ``g`` once read; anything rendered after this (and, where one app
    # context serves several requests, as in the tests, the next page) must read it afresh.
    refresh()
    return response
