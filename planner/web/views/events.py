"""One occurrence: its page, and the organizers' exceptions to the series.

An occurrence is ``(routine, original_start)``; its page lives at
``/g/<slug>/r/<routine_id>/<YYYYMMDDTHHMM>`` and a key the series does not produce is a 404.
The exceptions themselves (cancel, restore, change one, change from here on) are
:mod:`planner.routines.overrides` and :mod:`planner.routines.saving`; these views read the form
and say what happened.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from planner import locales
from planner.db import get_session
from planner.groups.access import GroupAccess
from planner.joining.panel import occurrence_context
from planner.models import Routine
from planner.notify import changes as notices
from planner.routines.occurrences import load_routine, occurrence_or_404
from planner.routines.overrides import (
    OccurrenceChange,
    cancel_occurrence,
    change_occurrence,
    override_of,
    restore_occurrence,
)
from planner.routines.saving import split_rules, split_series
from planner.scheduling import recurrence
from planner.scheduling.series import clash
from planner.web.belonging_page import occurrence_extras
from planner.web.confirm import confirm_page, confirmed
from planner.web.forms import ActionForm
from planner.web.helpers import occurrence_url, organizer_occurrence, viewer
from planner.web.i18n import current_locale, problem
from planner.web.page_cache import group_page
from planner.web.routine_forms import CancelForm, EndSeriesForm, OccurrenceForm
from planner.web.routine_page import build_form_page, render_form, values_of

bp = Blueprint("events", __name__)


@bp.route("/g/<slug>/r/<int:routine_id>/<key>")
def show(slug: str, routine_id: int, key: str) -> Response:
    return group_page(slug, _render_show, routine_id=routine_id, key=key)


def _render_show(access: GroupAccess, routine_id: int, key: str, **marks: object) -> str:
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    occurrence = occurrence_or_404(routine, key)
    person = viewer()
    context = occurrence_context(session, routine, occurrence, person) or {}
    plugins = current_app.extensions["planner"]
    end_form = EndSeriesForm(formdata=None)
    end_form.last_date.data = occurrence.original_start.date()
    page: dict[str, Any] = {
        "group": access.group,
        "access": access,
        "routine": routine,
        "occurrence": occurrence,
        "activity": plugins.activity(routine.activity_key),
        "panels": plugins.panels(
            occurrence=occurrence,
            routine=routine,
            viewer=person,
            attendance=context.get("attendance"),
        ),
        "cancel_form": CancelForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "end_form": end_form,
        "title": occurrence.title or routine.title,
        "location": occurrence.location or routine.location,
        "is_first": occurrence.original_start == routine.start,
    }
    page["belonging"] = occurrence_extras(
        session, access, routine, occurrence, person, context.get("attendance")
    )
    return render_template("events/show.html", **{**context, **page}, **marks)


# --------------------------------------------------------------------------- exceptions


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/cancel", methods=["POST"])
@login_required
def cancel(slug: str, routine_id: int, key: str) -> Response | str:
    _access, session, routine, occurrence = organizer_occurrence(slug, routine_id, key)
    form = CancelForm()
    if not form.validate():
        for message in form.reason.errors:
            flash(str(message), "error")
        return redirect(occurrence_url(slug, routine, key))
    if not confirmed():
        return confirm_page(
            title=gettext(
                "Cancel %(title)s on %(day)s?", title=occurrence.title or routine.title,
                day=locales.short_day(occurrence.start, current_locale()),
            ),
            consequences=[
                gettext(
                    "Members see the date as cancelled, on the page and in their calendars."
                ),
                gettext("Answers are kept; you can undo the cancellation."),
            ],
            button=gettext("Yes, cancel this date"),
            back=occurrence_url(slug, routine, key),
        )
    notices.cancelled(session, routine, occurrence.original_start, actor_id=current_user.id)
    cancel_occurrence(session, routine, occurrence, form.reason.data)
    flash(gettext("This occurrence is cancelled. Members see it marked as such."), "success")
    return redirect(occurrence_url(slug, routine, key))


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/restore", methods=["POST"])
@login_required
def restore(slug: str, routine_id: int, key: str) -> Response:
    _access, session, routine, occurrence = organizer_occurrence(slug, routine_id, key)
    if not ActionForm().validate() or not occurrence.is_cancelled:
        flash(gettext("This occurrence is not cancelled."), "info")
    else:
        notices.date_changed(session, routine, occurrence.original_start,
                             actor_id=current_user.id)
        restore_occurrence(session, routine, occurrence)
        flash(gettext("This occurrence is on again."), "success")
    return redirect(occurrence_url(slug, routine, key))


def _fill_change(form: OccurrenceForm, routine: Routine, occurrence: recurrence.Occurrence) -> None:
    """The change form starts from what the occurrence is now."""
    override = override_of(routine, occurrence)
    local_start = recurrence.to_local_naive(occurrence.start, routine.timezone)
    if override is not None and override.start is not None:
        local_start = override.start
    form.start_date.data = local_start.date()
    form.start_time.data = local_start.time()
    form.duration.data = int((occurrence.end - occurrence.start).total_seconds() // 60)
    form.location.data = occurrence.location or routine.location
    form.title.data = occurrence.title or routine.title
    form.note.data = occurrence.note or ""


def _change_of(form: OccurrenceForm) -> OccurrenceChange:
    return OccurrenceChange(
        start=form.start_naive(),
        duration_minutes=form.duration.data,
        location=form.location.data or "",
        title=form.title.data,
        note=form.note.data or None,
    )


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/change", methods=["GET", "POST"])
@login_required
def change(slug: str, routine_id: int, key: str) -> Response | tuple[str, int]:
    access, session, routine, occurrence = organizer_occurrence(slug, routine_id, key)
    if occurrence.is_cancelled:
        flash(gettext("This occurrence is cancelled: restore it before changing it."), "info")
        return redirect(occurrence_url(slug, routine, key))
    posted = request.method == "POST"
    form = OccurrenceForm() if posted else OccurrenceForm(formdata=None)
    if not posted:
        _fill_change(form, routine, occurrence)
    elif form.validate():
        problem = clash(routine, occurrence.original_start, form.start_naive())
        if problem:
            form.start_date.errors = [*form.start_date.errors, problem]
        else:
            notices.date_changed(session, routine, occurrence.original_start,
                                 actor_id=current_user.id)
            change_occurrence(session, routine, occurrence, _change_of(form))
            flash(
                gettext("This occurrence is changed. Members see it marked as such."), "success"
            )
            return redirect(occurrence_url(slug, routine, key))
    page = render_template(
        "events/change.html",
        group=access.group,
        access=access,
        routine=routine,
        occurrence=occurrence,
        form=form,
    )
    return page, 422 if posted else 200


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/split", methods=["GET", "POST"])
@login_required
def split(slug: str, routine_id: int, key: str) -> Response | tuple[str, int]:
    """Change the series from this occurrence on (see :func:`split_series`)."""
    access, session, routine, occurrence = organizer_occurrence(slug, routine_id, key)
    at = occurrence.original_start
    try:
        _old_rule, new_rule, last_old = split_rules(routine, at)
    except recurrence.RecurrenceError as exc:
        flash(
            gettext("%(problem)s Edit the routine to change all of it.", problem=problem(exc)),
            "info",
        )
        return redirect(url_for("routines.edit", slug=slug, routine_id=routine.id))
    page, ready = build_form_page(access, routine, initial={"start": at, "rrule": new_rule})
    new_start = page.form.start_naive()
    if ready and new_start is not None and new_start <= last_old:
        page.form.start_date.errors = [
            *page.form.start_date.errors,
            gettext(
                "The new series must start after the last occurrence of the old one "
                "(%(day)s at %(time)s).",
                day=locales.day(last_old, current_locale()),
                time=locales.clock(last_old, current_locale()),
            ),
        ]
        ready = False
    if not ready:
        heading = gettext(
            "Change “%(title)s” from %(day)s on", title=routine.title,
            day=locales.day(at, current_locale()),
        )
        action = url_for("events.split", slug=slug, routine_id=routine.id, key=key)
        form_page = render_form(
            page, access, routine, heading=heading, split_from=occurrence, action=action
        )
        return form_page, page.status
    notices.series_changed(session, routine, at, actor_id=current_user.id)
    new = split_series(session, routine, at, values_of(page), current_user.id)
    flash(gettext("From this date on the routine follows the new settings."), "success")
    return redirect(url_for("routines.show", slug=slug, routine_id=new.id))
