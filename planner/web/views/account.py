"""A person's own account: profile, password, and deleting the account.

Deleting is refused while the person is the only owner of a group, because the group would be
left with nobody who can run it; the page names those groups. Otherwise the database's foreign
keys do the rest in one statement: memberships, RSVPs, regular spots and claims go with the
user (``ON DELETE CASCADE``); comments stay and show "deleted member" (``SET NULL``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from planner.accounts.passwords import check_password, hash_password
from planner.db import get_session
from planner.models import Group, Membership, User, utcnow
from planner.web.forms import DeleteAccountForm, PasswordForm, ProfileForm, status
from planner.web.views.auth import AUTH_STAMP, password_stamp

bp = Blueprint("account", __name__, url_prefix="/account")


def sole_owned_groups(db: Session, user_id: int) -> list[Group]:
    """Groups where ``user_id`` is an owner and no other owner exists (one query)."""
    other = aliased(Membership)
    other_owners = (
        select(func.count(other.id))
        .where(other.group_id == Membership.group_id, other.role == "owner")
        .where(other.user_id != user_id)
        .scalar_subquery()
    )
    return list(
        db.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id, Membership.role == "owner")
            .where(other_owners == 0)
            .order_by(Group.name)
        )
    )


@bp.route("", methods=["GET", "POST"])
@login_required
def profile():
    db = get_session()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        user.display_name = form.display_name.data
        user.timezone = form.timezone.data
        db.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form, user=user), status(form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    db = get_session()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PasswordForm()
    if form.validate_on_submit():
        if not check_password(user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            user.password_hash = hash_password(form.password.data)
            db.commit()
            # Other sessions carry the old stamp and end; this one stays logged in.
            session[AUTH_STAMP] = password_stamp(user)
            flash("Your password is changed. Other devices will need to log in again.", "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form), status(form)


@bp.route("/delete", methods=["GET", "POST"], endpoint="delete")
@login_required
def delete_account():
    db = get_session()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
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
            group_ids = select(Membership.group_id).where(Membership.user_id == user.id)
            # Their answers leave the groups' feeds and pages: mark those groups changed.
            db.execute(
                update(Group)
                .where(Group.id.in_(group_ids))
                .values(version=Group.version + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.execute(delete(User).where(User.id == user.id))
            db.commit()
            logout_user()
            session.clear()
            flash("Your account is deleted. Thank you for the time together.", "info")
            return redirect(url_for("home.index"))
    return render_template(
        "account/delete.html", form=form, blocking=blocking
    ), 409 if (blocking and form.form_errors) else status(form)
