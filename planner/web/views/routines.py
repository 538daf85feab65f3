"""Routines: create, edit, delete, end; the routine page and the longer upcoming list.

Create, edit and "change from here on" share one form page (:mod:`planner.web.routine_page`)
and one save (:func:`planner.routines.saving.save_routine`), so the rules are the same
everywhere; these views only turn the outcome into a message and a redirect.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from planner import locales
from planner.db import get_session
from planner.groups.access import GroupAccess, group_access, organizer_access
from planner.joining.answers import Change
from planner.models import Routine
from planner.notify import changes as notices
from planner.routines.occurrences import group_upcoming, load_routine, routine_occurrences
from planner.routines.saving import delete_routine, end_series, save_routine
from planner.scheduling import recurrence
from planner.scheduling import rules as schedule
from planner.web.belonging_page import routine_extras
from planner.web.confirm import confirm_page, confirmed
from planner.web.forms import ActionForm
from planner.web.helpers import organizer_routine, viewer
from planner.web.i18n import current_locale, problem
from planner.web.page_cache import group_page
from planner.web.redirects import is_key
from planner.web.routine_forms import EndSeriesForm
from planner.web.routine_page import build_form_page, render_form, values_of

bp = Blueprint("routines", __name__)


def _saved(slug: str, routine: Routine, message: str, notice: str | None) -> Response:
    flash(message, "success")
    if notice:
        flash(notice, "info")
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


# --------------------------------------------------------------------------- create / edit


@bp.route("/g/<slug>/routines/new", methods=["GET", "POST"])
@login_required
def create(slug: str) -> Response | tuple[str, int]:
    access = organizer_access(slug)
    page, ready = build_form_page(access, None)
    if not ready:
        return render_form(page, access, None, heading=gettext("New routine")), page.status
    routine = save_routine(
        get_session(), values_of(page), group_id=access.group.id, created_by_id=current_user.id
    )
    return _saved(
        slug, routine, gettext("“%(title)s” is set up.", title=routine.title), page.notice
    )


@bp.route("/g/<slug>/r/<int:routine_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, routine_id: int) -> Response | tuple[str, int]:
    access, session, routine = organizer_routine(slug, routine_id)
    page, ready = build_form_page(access, routine)
    if not ready:
        heading = gettext("Edit “%(title)s”", title=routine.title)
        return render_form(page, access, routine, heading=heading), page.status
    actor = current_user.id
    before = notices.series_state(routine)

    def settled(session: Session, routine: Routine, moved: list[Change]) -> None:
        notices.capacity_lowered(session, routine, moved, actor_id=actor)
        notices.series_edited(session, routine, before, actor_id=actor)

    save_routine(session, values_of(page), routine=routine, settled=settled)
    return _saved(slug, routine, gettext("Saved."), page.notice)


@bp.route("/g/<slug>/r/<int:routine_id>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str, routine_id: int) -> Response | str:
    access, session, routine = organizer_routine(slug, routine_id)
    form = ActionForm()
    if request.method == "POST" and form.validate():
        title = routine.title
        delete_routine(session, routine)
        flash(gettext("“%(title)s” was deleted.", title=title), "success")
        return redirect(url_for("groups.show", slug=slug))
    return render_template(
        "routines/delete.html", group=access.group, routine=routine, form=form, access=access
    )


@bp.route("/g/<slug>/r/<int:routine_id>/end", methods=["POST"])
@login_required
def end(slug: str, routine_id: int) -> Response | str:
    _access, session, routine = organizer_routine(slug, routine_id)
    back = request.form.get("next_key")
    form = EndSeriesForm()
    target = url_for("routines.show", slug=slug, routine_id=routine.id)
    if back and is_key(back):  # a key, never free text copied into Location
        target = url_for("events.show", slug=slug, routine_id=routine.id, key=back)
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(target)
    last = form.last_date.data
    if not confirmed():
        return confirm_page(
            title=gettext(
                "End “%(title)s” on %(day)s?", title=routine.title,
                day=locales.day(last, current_locale()),
            ),
            consequences=[
                gettext(
                    "%(day)s becomes the last date; every later date disappears from the group "
                    "page and from members' calendars.", day=locales.day(last, current_locale()),
                ),
                gettext("Past dates and their answers stay."),
            ],
            button=gettext("Yes, end the series"),
            back=target,
        )
    try:
        notices.series_ended(session, routine, last, actor_id=current_user.id)
        end_series(session, routine, last)
    except recurrence.RecurrenceError as exc:
        flash(problem(exc), "error")
        return redirect(target)
    flash(
        gettext("The series now ends on %(day)s.", day=locales.day(last, current_locale())),
        "success",
    )
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


# --------------------------------------------------------------------------- pages


@bp.route("/g/<slug>/r/<int:routine_id>")
def show(slug: str, routine_id: int) -> Response:
    return group_page(slug, _render_show, routine_id=routine_id)


def _render_show(access: GroupAccess, routine_id: int, **marks: object) -> str:
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    upcoming, past = routine_occurrences(routine)
    related = session.execute(
        select(Routine.id, Routine.title, Routine.previous_id).where(
            Routine.group_id == access.group.id,
            (Routine.previous_id == routine.id) | (Routine.id == routine.previous_id),
        )
    ).all()
    previous = next((r for r in related if r.id == routine.previous_id), None)
    successors = [r for r in related if r.previous_id == routine.id]
    activity = current_app.extensions["planner"].activity(routine.activity_key)
    end_form = EndSeriesForm(formdata=None)
    # The next date ahead, never a day before the series starts: ending on today's date
    # before the first meeting would leave nothing at all.
    first = upcoming[0].original_start if upcoming else routine.start
    end_form.last_date.data = first.date()
    return render_template(
        "routines/show.html",
        belonging=routine_extras(session, access, routine),
        group=access.group,
        access=access,
        routine=routine,
        upcoming=upcoming,
        past=past,
        previous=previous,
        successors=successors,
        activity=activity,
        words=_words(routine),
        end_form=end_form,
        **marks,
    )


def _words(routine: Routine) -> str:
    try:
        return schedule.describe(
            routine.rrule, routine.start, routine.timezone, routine.duration,
            locale=current_locale(),
        )
    except recurrence.RecurrenceError as exc:
        return gettext("The saved schedule cannot be read: %(problem)s", problem=problem(exc))


@bp.route("/g/<slug>/upcoming")
def upcoming(slug: str) -> str:
    access = group_access(slug)
    days = request.args.get("days", default=182, type=int) or 182
    days = max(1, min(days, 366))
    items = group_upcoming(get_session(), access.group, viewer(), days=days, limit=300)
    return render_template(
        "routines/upcoming.html", group=access.group, access=access, upcoming=items, days=days
    )
