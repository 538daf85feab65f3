"""Forgot password: ask for a link by mail, then choose a new password with it.

The asking page answers the same for every address (no account enumeration) and is rate
limited per client. Choosing a password logs the person in with a fresh session; the link is
spent because the password stamp inside it no longer matches.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from planner.accounts.resets import ResetError, request_reset, reset_password, user_for_token
from planner.db import get_session
from planner.web.extensions import limiter
from planner.web.forms import ForgotForm, ResetForm, status
from planner.web.lazy_text import lazy_gettext as _l
from planner.web.login_session import start_session

bp = Blueprint("reset", __name__, url_prefix="/password")

SENT = _l("If an account has that address, a mail with a reset link is on its way. "
          "The link works for one hour.")


def reset_limit() -> str:
    limit: str = current_app.config["RESET_RATE_LIMIT"]
    return limit


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(reset_limit, methods=["POST"])
def forgot() -> Response | tuple[str, int]:
    form = ForgotForm()
    if form.validate_on_submit():
        request_reset(get_session(), form.email.data)
        flash(str(SENT), "info")
        return redirect(url_for("reset.forgot"))
    return render_template("auth/forgot.html", form=form), status(form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def choose(token: str) -> Response | tuple[str, int]:
    db = get_session()
    form = ResetForm()
    try:
        user_for_token(db, token)
        if form.validate_on_submit():
            user = reset_password(db, token, form.password.data)
            start_session(user)
            flash(gettext("Your password is changed, and you are logged in."), "success")
            return redirect(url_for("home.index"))
    except ResetError as error:
        return render_template("auth/forgot.html", form=ForgotForm(), problem=str(error)), 400
    return render_template("auth/reset.html", form=form, token=token), status(form)
