"""Invite links: the page a link opens, accepting it, and the organizers' list.

Opening a link while logged out remembers its token in the session; sign-up or log-in then
joins the group straight away (see :func:`planner.web.views.auth.after_login`). What joining
means is :mod:`planner.groups.invites`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from planner.db import get_session
from planner.groups import invite_mail, invites, membership
from planner.groups.access import GroupAccess, organizer_access
from planner.groups.membership import member_counts
from planner.models import Invite, utcnow
from planner.web.extensions import limiter
from planner.web.forms import ActionForm, InviteForm, InviteMailForm, status
from planner.web.helpers import PENDING_INVITE, viewer

bp = Blueprint("invites", __name__)


def _invite_or_404(token: str) -> Invite:
    invite = invites.invite_by_token(get_session(), token)
    if invite is None:
        abort(404, invites.UNKNOWN)
    return invite


@bp.route("/invite/<token>")
def show(token: str) -> tuple[str, int]:
    db = get_session()
    invite = _invite_or_404(token)
    group = invite.group
    reason = invite.unusable_reason()
    is_member = False
    if current_user.is_authenticated:
        is_member = membership.is_member(db, group.id, current_user.id)
    elif reason is None:
        session[PENDING_INVITE] = token  # joined right after sign-up or log-in
    if reason and not is_member:
        # A dead link is no longer a key to the group: it says why, and nothing about the group
        # (a revoked link of a private group must not keep showing its name and members).
        return render_template("groups/invite_unusable.html", reason=reason), 410
    return render_template(
        "groups/invite.html",
        invite=invite,
        group=group,
        is_member=is_member,
        members=member_counts(db, [group.id]).get(group.id, 0),
        action=ActionForm(),
    ), 200


@bp.route("/invite/<token>", methods=["POST"])
def accept(token: str) -> Response:
    person = viewer()
    if person is None:
        _invite_or_404(token)
        session[PENDING_INVITE] = token
        return redirect(url_for("auth.login", next=url_for("invites.show", token=token)))
    group, message = invites.join_by_token(get_session(), token, person)
    if group is None:
        abort(404 if message == invites.UNKNOWN else 410, message)
    flash(message, "success")
    return redirect(url_for("groups.show", slug=group.slug))


# --- organizers --------------------------------------------------------------------------------


def _render_manage(
    access: GroupAccess, form: InviteForm, mail_form: InviteMailForm | None = None
) -> tuple[str, int]:
    mail_form = mail_form or InviteMailForm(formdata=None)
    code = status(mail_form) if mail_form.errors else status(form)
    return render_template(
        "groups/invites.html",
        group=access.group,
        access=access,
        form=form,
        mail_form=mail_form,
        invites=invites.group_invites(get_session(), access.group.id),
        now=utcnow(),
        action=ActionForm(),
    ), code


@bp.route("/g/<slug>/invites")
def manage(slug: str) -> tuple[str, int]:
    return _render_manage(organizer_access(slug), InviteForm(formdata=None))


@bp.route("/g/<slug>/invites", methods=["POST"])
def create(slug: str) -> Response | tuple[str, int]:
    access = organizer_access(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_manage(access, form)
    invite = invites.create_invite(
        get_session(),
        access.group.id,
        current_user.id,
        form.expires_in_days.data,
        form.max_uses.data,
    )
    flash(gettext("A new invite link is ready: copy it from the list below."), "success")
    return redirect(url_for("invites.manage", slug=slug) + f"#invite-{invite.id}")


@bp.route("/g/<slug>/invites/<int:invite_id>/revoke", methods=["POST"])
def revoke(slug: str, invite_id: int) -> Response:
    access = organizer_access(slug)
    db = get_session()
    invite = invites.group_invite(db, access.group.id, invite_id)
    if invite is None:
        abort(404, gettext("That invite does not exist in this group."))
    invites.revoke_invite(db, invite)
    flash(gettext("The invite link is revoked; it no longer lets anyone in."), "info")
    return redirect(url_for("invites.manage", slug=slug))


def _invite_mail_limit() -> str:
    limit: str = current_app.config["INVITE_MAIL_RATE_LIMIT"]
    return limit


def _addresses_in_request() -> int:
    """The rate limit counts mails, not requests: a paste of 50 costs 50."""
    text = request.form.get("addresses", "")
    return max(1, min(len(invite_mail._SEPARATORS.split(text.strip())), invite_mail.MAX_ADDRESSES))


@bp.route("/g/<slug>/invites/mail", methods=["POST"])
@limiter.limit(
    _invite_mail_limit, key_func=lambda: f"invite-mail:{(request.view_args or {}).get('slug')}",
    cost=_addresses_in_request,
)
def mail(slug: str) -> Response | tuple[str, int]:
    access = organizer_access(slug)
    form = InviteMailForm()
    if form.validate_on_submit():
        try:
            result = invite_mail.invite_by_email(
                get_session(), access.group, current_user, form.addresses.data, form.note.data
            )
        except invite_mail.InviteMailError as error:
            form.addresses.errors.append(str(error))
        else:
            if result.mailed:
                flash(ngettext("Invite mails are on their way to %(num)d address.",
                               "Invite mails are on their way to %(num)d addresses.",
                               len(result.mailed)), "success")
            if result.skipped_members:
                flash(gettext("Already members, so not invited: %(names)s.",
                              names=", ".join(result.skipped_members)), "info")
            return redirect(url_for("invites.manage", slug=slug))
    return _render_manage(access, InviteForm(formdata=None), form)
