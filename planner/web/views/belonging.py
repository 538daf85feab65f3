"""Belonging pages: who came, good things, a member's shared history, planned breaks and the
check-in prompt (docs/belonging.md).

Everything here is for the group's members only: an outsider gets 404 even in a public group
(the history of who came with whom is nobody else's business), and only organizers see who did
not come.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from planner.belonging import breaks, good_things, history, presence
from planner.belonging.past import past_dates, utc_now
from planner.db import get_session
from planner.groups.access import GroupAccess, group_access
from planner.joining.attendance import attendance_of
from planner.models import CheckinPrompt, GoodThing, Membership, PlannedBreak, Routine, User
from planner.notify import checkin_mail
from planner.routines.occurrences import load_routine, occurrence_or_404
from planner.scheduling.recurrence import Occurrence
from planner.web.belonging_page import may_confirm
from planner.web.forms import ActionForm, BreakForm, CheckinMessageForm, GoodThingForm, status
from planner.web.helpers import form_error, occurrence_url, viewer

bp = Blueprint("belonging", __name__)


def members_only(slug: str) -> GroupAccess:
    """The group for one of its members; 404 for everyone else, public group or not."""
    access = group_access(slug)
    if not access.is_member:
        abort(404)
    return access


def _me() -> User:
    person = viewer()
    assert person is not None  # login_required
    return person


def _date(
    slug: str, routine_id: int, key: str
) -> tuple[GroupAccess, Session, Routine, Occurrence]:
    access = members_only(slug)
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    return access, session, routine, occurrence_or_404(routine, key)


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/presence")
@login_required
def say_presence(slug: str, routine_id: int, key: str) -> Response:
    _, session, routine, occurrence = _date(slug, routine_id, key)
    form = ActionForm()
    came = request.form.get("came")
    if not form.validate_on_submit() or came not in ("yes", "no"):
        abort(400, gettext("Say whether you were there."))
    try:
        presence.say(session, routine, occurrence, _me().id, came == "yes", utc_now())
    except presence.PresenceError as error:
        abort(400, str(error))
    session.commit()
    flash(gettext("Thanks for saying.") if came == "yes"
          else gettext("Thanks: hope to see you next time."), "success")
    return redirect(occurrence_url(slug, routine, key) + "#who-came")


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/who-came", methods=["GET", "POST"])
@login_required
def confirm_list(slug: str, routine_id: int, key: str) -> Response | tuple[str, int]:
    access, session, routine, occurrence = _date(slug, routine_id, key)
    user = _me()
    attendance = attendance_of(session, routine.id, occurrence.original_start)
    if not may_confirm(access, routine, user, occurrence, attendance):
        abort(403, gettext("Only the host or an organizer can confirm who came."))
    form = ActionForm()
    going = attendance.going
    if form.validate_on_submit():
        try:
            ids = {int(v) for v in request.form.getlist("came")}
        except ValueError:
            abort(400, gettext("Tick the people who came."))
        try:
            count = presence.confirm(session, routine, occurrence, user.id, ids, utc_now())
        except presence.PresenceError as error:
            abort(400, str(error))
        session.commit()
        flash(ngettext("Saved: %(num)d came.", "Saved: %(num)d came.", count), "success")
        return redirect(occurrence_url(slug, routine, key) + "#who-came")
    return render_template("belonging/who_came.html", group=access.group, routine=routine,
                           occurrence=occurrence, going=going, form=form), status(form)


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/good-things")
@login_required
def add_good_thing(slug: str, routine_id: int, key: str) -> Response:
    _, session, routine, occurrence = _date(slug, routine_id, key)
    form = GoodThingForm()
    if not form.validate_on_submit():
        abort(400, form_error(form))
    user = _me()
    state = presence.who_came(session, routine, occurrence, user.id, utc_now())
    came = state is not None and (state.mine is True or (state.mine is None and state.ask))
    try:
        good_things.add(session, routine, occurrence, user.id, form.body.data, came)
    except good_things.GoodThingError as error:
        abort(400, str(error))
    session.commit()
    flash(gettext("Thanks for sharing it."), "success")
    return redirect(occurrence_url(slug, routine, key) + "#good-things")


@bp.post("/g/<slug>/good-things/<int:thing_id>/<action>")
@login_required
def change_good_thing(slug: str, thing_id: int, action: str) -> Response:
    access = members_only(slug)
    session = get_session()
    row = session.get(GoodThing, thing_id)
    routine = session.get(Routine, row.routine_id) if row is not None else None
    if row is None or routine is None or routine.group_id != access.group.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    if action == "delete" and row.user_id == _me().id:
        good_things.delete(session, row, routine)
        message = gettext("Your good thing is deleted.")
    elif action == "hide" and access.can_organize:
        good_things.hide(session, row, routine)
        message = gettext("Hidden from the group.")
    else:
        abort(403, gettext("Only its author can delete it, and only organizers can hide it."))
    key = row.original_start.strftime("%Y%m%dT%H%M")
    session.commit()
    flash(message, "success")
    return redirect(occurrence_url(slug, routine, key) + "#good-things")


@bp.route("/g/<slug>/people/<int:user_id>")
@login_required
def person(slug: str, user_id: int) -> str:
    access = members_only(slug)
    session = get_session()
    me = _me()
    their = session.scalar(select(Membership).where(
        Membership.group_id == access.group.id, Membership.user_id == user_id))
    if their is None:
        abort(404)
    other = session.get(User, user_id)
    assert other is not None
    now = utc_now()
    dates = past_dates(session, [access.group.id], now)
    own = me.id == user_id
    mine = access.membership
    assert mine is not None
    shared = [] if own or their.hide_history or mine.hide_history else history.shared_with(
        dates, me.id, user_id)
    stats = history.own(dates, me.id, now) if own else []
    lines = history.type_lines(session, dates, me.id) if own else (
        history.type_lines(session, dates, me.id, user_id) if shared else [])
    members = list(session.execute(
        select(User.id, User.display_name).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == access.group.id, User.id != me.id)
        .order_by(User.display_name)))
    return render_template(
        "belonging/person.html", group=access.group, other=other, own=own, shared=shared,
        stats=stats, membership=mine, their=their, members=members, action=ActionForm(),
        type_lines=lines,
        unconfirmed=any(not d.confirmed for d in dates),
        months=current_app.config["HISTORY_MONTHS"],
    )


@bp.post("/g/<slug>/me/<what>")
@login_required
def my_settings(slug: str, what: str) -> Response:
    access = members_only(slug)
    session = get_session()
    me = _me()
    mine = access.membership
    assert mine is not None
    if not ActionForm().validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    if what == "hide":
        mine.hide_history = request.form.get("hide") == "yes"
        flash(gettext("You're hidden from others' history.") if mine.hide_history
              else gettext("You appear in shared history again."), "success")
    elif what == "checkins":
        mine.checkins = request.form.get("checkins") == "yes"
        flash(gettext("Check-ins about you are on.") if mine.checkins
              else gettext("Nobody will be prompted to check on you."), "success")
    elif what == "buddy":
        raw = request.form.get("buddy", "")
        buddy = int(raw) if raw.isdigit() else None
        if buddy is not None and session.scalar(select(Membership.id).where(
                Membership.group_id == access.group.id, Membership.user_id == buddy)) is None:
            abort(400, gettext("Choose a member of this group."))
        mine.buddy_id = None if buddy == me.id else buddy
        flash(gettext("Your buddy is saved."), "success")
    elif what == "forget":
        routine_ids = list(session.scalars(select(Routine.id).where(
            Routine.group_id == access.group.id)))
        gone = presence.forget(session, me.id, routine_ids)
        flash(ngettext("Your attendance history here is deleted (%(num)d date).",
                       "Your attendance history here is deleted (%(num)d dates).", gone),
              "success")
    else:
        abort(404)
    from planner.models import bump_group_version

    bump_group_version(session, access.group.id)
    session.commit()
    return redirect(url_for("belonging.person", slug=slug, user_id=me.id))


@bp.route("/g/<slug>/r/<int:routine_id>/breaks", methods=["GET", "POST"])
@login_required
def plan_break(slug: str, routine_id: int) -> Response | tuple[str, int]:
    access = members_only(slug)
    if not access.can_organize:
        abort(403, gettext("Only the group's organizers can plan a break."))
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    form = BreakForm()
    if form.validate_on_submit():
        try:
            planned = breaks.plan_break(session, routine, form.label.data, form.first_day.data,
                                        form.last_day.data, _me().id)
        except breaks.BreakError as error:
            form.first_day.errors = [str(error)]
        else:
            told = checkin_mail.break_planned(session, access.group, routine, planned)
            session.commit()
            flash(gettext("%(label)s: %(dates)s off (%(told)s told).",
                          label=planned.planned.label,
                          dates=ngettext("%(num)d date is", "%(num)d dates are",
                                         len(planned.dates)),
                          told=ngettext("%(num)d person", "%(num)d people", told)),
                  "success")
            return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))
    existing = breaks.breaks_of(session, [routine.id])[routine.id]
    return render_template("belonging/breaks.html", group=access.group, routine=routine,
                           form=form, breaks=existing, action=ActionForm()), status(form)


@bp.post("/g/<slug>/r/<int:routine_id>/breaks/<int:break_id>/undo")
@login_required
def undo_break(slug: str, routine_id: int, break_id: int) -> Response:
    access = members_only(slug)
    if not access.can_organize:
        abort(403, gettext("Only the group's organizers can undo a break."))
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    planned = session.get(PlannedBreak, break_id)
    if planned is None or planned.routine_id != routine.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    back = breaks.undo_break(session, routine, planned)
    session.commit()
    flash(ngettext("The break is undone: %(num)d date is on again.",
                   "The break is undone: %(num)d dates are on again.", back), "success")
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


@bp.route("/g/<slug>/check-in/<int:prompt_id>", methods=["GET", "POST"])
@login_required
def checkin(slug: str, prompt_id: int) -> Response | tuple[str, int]:
    access = members_only(slug)
    session = get_session()
    prompt = session.get(CheckinPrompt, prompt_id)
    me = _me()
    if prompt is None or prompt.group_id != access.group.id or prompt.recipient_id != me.id:
        abort(404)
    absent = session.get(User, prompt.absent_id)
    routine = session.get(Routine, prompt.routine_id) if prompt.routine_id else None
    if absent is None:
        abort(404)
    form = CheckinMessageForm()
    if request.method == "GET":
        what = routine.title if routine else access.group.name
        form.text.data = gettext(
            "Hi %(name)s, we've missed you at %(what)s. Hope all is well — see you soon?",
            name=absent.display_name, what=what,
        )
    if form.validate_on_submit():
        checkin_mail.send_personal(session, access.group, me, absent, form.text.data)
        session.commit()
        flash(gettext("Your message is on its way to %(name)s.", name=absent.display_name),
              "success")
        return redirect(url_for("groups.show", slug=slug))
    return render_template("belonging/checkin.html", group=access.group, absent=absent,
                           routine=routine, form=form), status(form)
