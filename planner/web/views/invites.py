"""Invite links: organizers create and revoke them; anyone holding one can join the group.

A use is counted with one conditional ``UPDATE ... WHERE uses < max_uses`` in the same
transaction as the new membership, so concurrent joins can never exceed the maximum (PostgreSQL
re-checks the condition after waiting for the row; SQLite serializes with ``BEGIN IMMEDIATE``).
Opening a link while logged out remembers its token in the session; sign-up or log-in then
joins the group straight away (see :func:`planner.web.views.auth.after_login`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from planner.db import get_session, immediate
from planner.groups.access import organizer_access
from planner.models import Group, Invite, Membership, User, utcnow
from planner.web.forms import ActionForm, InviteForm, status
from planner.web.views.auth import PENDING_INVITE
from planner.web.views.groups import member_counts

bp = Blueprint("invites", __name__)

UNKNOWN = "This invite link does not exist. Check that you copied all of it."


class _Unusable(Exception):
    pass


def join_by_token(token: str, user: User) -> tuple[Group | None, str]:
    """Join the invite's group as ``user``: (group, message) on success or when already a
    member, (None, why) when the invite cannot be used."""
    db = get_session()
    row = db.execute(
        select(Invite, Membership.id)
        .outerjoin(
            Membership,
            (Membership.group_id == Invite.group_id) & (Membership.user_id == user.id),
        )
        .where(Invite.token == token)
    ).first()
    if row is None:
        return None, UNKNOWN
    invite, membership_id = row
    group = invite.group
    if membership_id is not None:
        return group, f"You are already a member of {group.name}."
    reason = invite.unusable_reason()
    if reason:
        return None, reason
    try:
        with immediate(db):
            now = utcnow()
            counted = db.execute(
                update(Invite)
                .where(
                    Invite.id == invite.id,
                    Invite.revoked_at.is_(None),
                    or_(Invite.expires_at.is_(None), Invite.expires_at > now),
                    or_(Invite.max_uses.is_(None), Invite.uses < Invite.max_uses),
                )
                .values(uses=Invite.uses + 1)
                .execution_options(synchronize_session=False)
            )
            if counted.rowcount != 1:
                raise _Unusable
            db.add(Membership(group_id=group.id, user_id=user.id, role="member"))
            db.flush()
    except _Unusable:
        db.refresh(invite)
        return None, invite.unusable_reason() or UNKNOWN
    except IntegrityError:  # joined a moment ago in another tab; the use was rolled back
        return group, f"You are already a member of {group.name}."
    return group, f"Welcome to {group.name}!"


def _invite_or_404(token: str) -> Invite:
    invite = get_session().scalar(select(Invite).where(Invite.token == token))
    if invite is None:
        abort(404, UNKNOWN)
    return invite


@bp.route("/invite/<token>")
def show(token: str):
    invite = _invite_or_404(token)
    group = invite.group
    reason = invite.unusable_reason()
    is_member = False
    if current_user.is_authenticated:
        is_member = (
            get_session().scalar(
                select(Membership.id).where(
                    Membership.group_id == group.id, Membership.user_id == current_user.id
                )
            )
            is not None
        )
    elif reason is None:
        session[PENDING_INVITE] = token  # joined right after sign-up or log-in
    return render_template(
        "groups/invite.html",
        invite=invite,
        group=group,
        reason=None if is_member else reason,
        is_member=is_member,
        members=member_counts(get_session(), [group.id]).get(group.id, 0),
        action=ActionForm(),
    ), (410 if reason and not is_member else 200)


@bp.route("/invite/<token>", methods=["POST"])
def accept(token: str):
    if not current_user.is_authenticated:
        _invite_or_404(token)
        session[PENDING_INVITE] = token
        return redirect(url_for("auth.login", next=url_for("invites.show", token=token)))
    group, message = join_by_token(token, current_user._get_current_object())  # type: ignore[attr-defined]
    if group is None:
        if message == UNKNOWN:
            abort(404, message)
        abort(410, message)
    flash(message, "success")
    return redirect(url_for("groups.show", slug=group.slug))


# --- organizers --------------------------------------------------------------------------------


def _render_manage(access, form: InviteForm):
    db = get_session()
    invites = list(
        db.scalars(
            select(Invite)
            .where(Invite.group_id == access.group.id)
            .order_by(Invite.created_at.desc(), Invite.id.desc())
        )
    )
    now = utcnow()
    return render_template(
        "groups/invites.html",
        group=access.group,
        access=access,
        form=form,
        invites=invites,
        now=now,
        action=ActionForm(),
    ), status(form)


@bp.route("/g/<slug>/invites")
def manage(slug: str):
    return _render_manage(organizer_access(slug), InviteForm(formdata=None))


@bp.route("/g/<slug>/invites", methods=["POST"])
def create(slug: str):
    access = organizer_access(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_manage(access, form)
    days = form.expires_in_days.data
    invite = Invite(
        token=secrets.token_urlsafe(16),  # 128 bits
        group_id=access.group.id,
        created_by_id=current_user.id,
        expires_at=utcnow() + timedelta(days=days) if days else None,
        max_uses=form.max_uses.data or None,
    )
    db = get_session()
    db.add(invite)
    db.commit()
    flash("A new invite link is ready: copy it from the list below.", "success")
    return redirect(url_for("invites.manage", slug=slug) + f"#invite-{invite.id}")


@bp.route("/g/<slug>/invites/<int:invite_id>/revoke", methods=["POST"])
def revoke(slug: str, invite_id: int):
    access = organizer_access(slug)
    db = get_session()
    invite = db.get(Invite, invite_id)
    if invite is None or invite.group_id != access.group.id:
        abort(404, "That invite does not exist in this group.")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        db.commit()
    flash("The invite link is revoked; it no longer lets anyone in.", "info")
    return redirect(url_for("invites.manage", slug=slug))
