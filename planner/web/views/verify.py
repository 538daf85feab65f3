"""Confirming an address: the link from the sign-up mail, resending it, and changing the
address (confirmed at the new one, noticed at the old one). Links work without logging in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from planner.accounts import verification
from planner.accounts.verification import VerificationError
from planner.db import get_session
from planner.mail.outbox import MailInputError
from planner.web.forms import ActionForm, EmailChangeForm, status
from planner.web.helpers import viewer

bp = Blueprint("verify", __name__, url_prefix="/account")


def _problem(message: str) -> tuple[str, int]:
    return render_template("account/link_problem.html", problem=message), 400


@bp.route("/verify/<token>")
def confirm(token: str) -> Response | tuple[str, int]:
    try:
        user = verification.confirm(get_session(), token)
    except VerificationError as error:
        return _problem(str(error))
    flash(gettext("Thank you: %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("home.index"))


@bp.route("/verify/resend", methods=["POST"])
@login_required
def resend() -> Response:
    form = ActionForm()
    user = viewer()
    if form.validate_on_submit() and user is not None:
        if verification.resend(get_session(), user):
            flash(gettext("A new confirmation mail is on its way to %(email)s.", email=user.email),
                  "info")
        else:
            flash(gettext("Your address is already confirmed."), "info")
    return redirect(url_for("account.profile"))


@bp.route("/email", methods=["GET", "POST"])
@login_required
def email() -> Response | tuple[str, int]:
    form = EmailChangeForm()
    user = viewer()
    assert user is not None
    if form.validate_on_submit():
        try:
            verification.request_change(get_session(), user, form.email.data, form.password.data)
        except (VerificationError, MailInputError) as error:
            form.email.errors.append(str(error))
        else:
            flash(gettext("Open the link we mailed to %(email)s to finish the change.",
                          email=form.email.data), "info")
            return redirect(url_for("account.profile"))
    return render_template("account/email.html", form=form), status(form)


@bp.route("/email/<token>")
def change(token: str) -> Response | tuple[str, int]:
    try:
        user = verification.confirm_change(get_session(), token)
    except VerificationError as error:
        return _problem(str(error))
    flash(gettext("Your address is now %(email)s.", email=user.email), "success")
    return redirect(url_for("home.index"))
