"""A person's own account: profile, password, logging out everywhere, downloading one's data,
and deleting the account.

Deleting is refused while the person is the only owner of a group (see
:mod:`planner.accounts.people`); the page names those groups so the person knows what to hand
over first.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, session, url_for
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from planner.accounts import export
from planner.accounts.passwords import check_password
from planner.accounts.people import (
    change_password,
    end_sessions,
    password_stamp,
    sole_owned_groups,
    touch_groups_of,
)
from planner.db import get_session
from planner.joining import departures
from planner.models import User
from planner.web.forms import ActionForm, DeleteAccountForm, PasswordForm, ProfileForm, status
from planner.web.helpers import AUTH_STAMP, SESSION_TOKEN, viewer

bp = Blueprint("account", __name__, url_prefix="/account")


def _me() -> User:
    user = viewer()
    assert user is not None  # every view here is login_required
    return user


@bp.route("", methods=["GET", "POST"])
@login_required
def profile() -> Response | tuple[str, int]:
    user = _me()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        user.display_name = form.display_name.data
        user.timezone = form.timezone.data
        touch_groups_of(get_session(), user.id)
        get_session().commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("account.profile"))
    return render_template(
        "account/profile.html", form=form, user=user, action=ActionForm()
    ), status(form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | tuple[str, int]:
    user = _me()
    form = PasswordForm()
    if form.validate_on_submit():
        if not change_password(get_session(), user, form.current.data, form.password.data):
            form.current.errors.append("That is not your current password.")
        else:
            # Other sessions carry the old stamp and end; this one stays logged in.
            session[AUTH_STAMP] = password_stamp(user)
            session[SESSION_TOKEN] = user.session_token
            flash("Your password is changed. Other devices will need to log in again.", "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form), status(form)


@bp.post("/sessions/end")
@login_required
def end_all_sessions() -> Response:
    """Log out on every device, this one included (a lost phone, a shared computer)."""
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    end_sessions(get_session(), _me())
    logout_user()
    session.clear()
    flash("You are logged out on every device. Log in again to continue.", "info")
    return redirect(url_for("home.index"))


@bp.get("/my-data.json")
@login_required
def my_data() -> Response:
    """A download, not a page: the browser saves it under a dated name."""
    document = export.my_data(get_session(), _me())
    response = jsonify(document)
    stamp = document["exported_at"][:10]
    response.headers["Content-Disposition"] = f'attachment; filename="planner-my-data-{stamp}.json"'
    return response


@bp.route("/delete", methods=["GET", "POST"], endpoint="delete")
@login_required
def delete_account() -> Response | tuple[str, int]:
    db = get_session()
    user = _me()
    blocking = sole_owned_groups(db, user.id)
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if blocking:
            form.form_errors.append(
                "Hand over or delete the groups you own alone first: "
                + ", ".join(g.name for g in blocking)
                + "."
            )
        elif not check_password(user.password_hash, form.password.data):
            form.password.errors.append("That is not your password.")
        else:
            departures.delete_account(db, user)
            logout_user()
            session.clear()
            flash("Your account is deleted. Thank you for the time together.", "info")
            return redirect(url_for("home.index"))
    code = 409 if (blocking and form.form_errors) else status(form)
    return render_template("account/delete.html", form=form, blocking=blocking), code
