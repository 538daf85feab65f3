"""A person's own account: profile, password, logging out everywhere, downloading one's data,
and deleting the account.

Deleting is refused while the person is the only owner of a group (see
:mod:`planner.accounts.people`); the page names those groups so the person knows what to hand
over first.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
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
from planner.models import MailSettings, User, utcnow
from planner.notify import preferences
from planner.web.forms import (
    ActionForm,
    DeleteAccountForm,
    GroupMailForm,
    MailSettingsForm,
    PasswordForm,
    ProfileForm,
    status,
)
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
        user.locale = form.locale.data or None
        touch_groups_of(get_session(), user.id)
        get_session().commit()
        flash(gettext("Your profile is saved."), "success")
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
            form.current.errors.append(gettext("That is not your current password."))
        else:
            # Other sessions carry the old stamp and end; this one stays logged in.
            session[AUTH_STAMP] = password_stamp(user)
            session[SESSION_TOKEN] = user.session_token
            flash(
                gettext("Your password is changed. Other devices will need to log in again."),
                "success",
            )
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form), status(form)


@bp.post("/sessions/end")
@login_required
def end_all_sessions() -> Response:
    """Log out on every device, this one included (a lost phone, a shared computer)."""
    if not ActionForm().validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    end_sessions(get_session(), _me())
    logout_user()
    session.clear()
    flash(gettext("You are logged out on every device. Log in again to continue."), "info")
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
                gettext(
                    "Hand over or delete the groups you own alone first: %(groups)s.",
                    groups=", ".join(g.name for g in blocking),
                )
            )
        elif not check_password(user.password_hash, form.password.data):
            form.password.errors.append(gettext("That is not your password."))
        else:
            departures.delete_account(db, user)
            logout_user()
            session.clear()
            flash(gettext("Your account is deleted. Thank you for the time together."), "info")
            return redirect(url_for("home.index"))
    code = 409 if (blocking and form.form_errors) else status(form)
    return render_template("account/delete.html", form=form, blocking=blocking), code


@bp.route("/mail", methods=["GET", "POST"])
@login_required
def mail() -> Response | tuple[str, int]:
    """Reminders, the digest and comment mail for all groups, and how much each group sends."""
    user = _me()
    session = get_session()
    mine = session.get(MailSettings, user.id)
    form = MailSettingsForm()
    if request.method == "GET" and mine is not None:
        form.reminder.data = mine.reminder or ""
        form.reminder_hour.data = "" if mine.reminder_hour is None else str(mine.reminder_hour)
        form.hours_before.data = mine.hours_before or preferences.DEFAULT_HOURS_BEFORE
        form.digest.data = "" if mine.digest_weekday is None else str(mine.digest_weekday)
        form.comments.data = mine.comments
    if form.validate_on_submit():
        saved = preferences.own_settings(session, user.id)
        saved.reminder = form.reminder.data or None
        saved.reminder_hour = int(form.reminder_hour.data) if form.reminder_hour.data else None
        saved.hours_before = form.hours_before.data or None
        saved.digest_weekday = int(form.digest.data) if form.digest.data else None
        saved.comments = bool(form.comments.data)
        saved.updated_at = utcnow()
        session.commit()
        flash(gettext("Your mail settings are saved."), "success")
        return redirect(url_for("account.mail"))
    groups = preferences.group_rows(session, user.id)
    group_forms = {}
    for row in groups:
        group_form = GroupMailForm(prefix=f"g{row.group.id}")
        group_form.scope.data = row.scope or ""
        group_forms[row.group.id] = group_form
    return render_template(
        "account/mail.html", form=form, groups=groups, group_forms=group_forms,
        category_names=preferences.CATEGORY_NAMES,
    ), status(form)


@bp.post("/mail/<slug>")
@login_required
def group_mail(slug: str) -> Response:
    """One group's scope and muted categories, from its row of the mail page."""
    user = _me()
    session = get_session()
    row = next((r for r in preferences.group_rows(session, user.id) if r.group.slug == slug),
               None)
    if row is None:
        abort(404)
    form = GroupMailForm(prefix=f"g{row.group.id}")
    if not form.validate_on_submit():
        abort(400, gettext("Choose how much mail you want from this group."))
    prefix = f"g{row.group.id}-on-"
    muted = [c for c in preferences.CATEGORIES if request.form.get(prefix + c) != "on"]
    preferences.save_group_choice(
        session, user_id=user.id, group_id=row.group.id, scope=form.scope.data or None,
        muted=muted,
    )
    session.commit()
    flash(gettext("Mail from %(group)s is saved.", group=row.group.name), "success")
    return redirect(url_for("account.mail") + f"#group-{row.group.id}")
