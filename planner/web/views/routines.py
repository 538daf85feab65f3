"""Routines: create, edit, delete, end; the routine page and the longer upcoming list.

Saving goes through one function for create, edit and "change from here on" so the rules are
the same everywhere: every field, the activity type's details and the schedule are validated
before anything is written, the group's feed version is bumped in the same transaction, and
plugins hear about it only after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.db import get_session
from planner.groups.access import GroupAccess, group_access, organizer_access
from planner.joining import answers
from planner.joining.locks import occurrence_lock
from planner.models import Routine, bump_group_version, default_slot_rows, utcnow
from planner.plugins.activity import GENERIC, ActivityType, choices
from planner.plugins.manager import notify
from planner.routines.occurrences import group_upcoming, load_routine, routine_occurrences, utc_now
from planner.scheduling import recurrence
from planner.scheduling import rules as schedule
from planner.web.routine_forms import ActionForm, EndSeriesForm, RoutineForm

bp = Blueprint("routines", __name__)

PREVIEW_COUNT = 8
DEFAULT_ACTIVITY = "gathering"


def group_url(slug: str) -> str:
    return url_for("groups.show", slug=slug)


def viewer() -> Any:
    # The real object, not the request-bound proxy: plugins may keep it.
    return current_user._get_current_object() if current_user.is_authenticated else None


def organizer_routine(slug: str, routine_id: int) -> tuple[GroupAccess, Session, Routine]:
    """The access, session and routine for an organizer's page: 404 when the group is hidden
    from the person or the routine is not the group's, 403 for a plain member."""
    access = organizer_access(slug)
    session = get_session()
    return access, session, load_routine(session, access.group, routine_id)


def new_version(session: Session, routine: Routine) -> None:
    """The series changed: calendars re-read an event only when its SEQUENCE grows, and the
    group's feeds are rebuilt when the group's version moves (same transaction)."""
    routine.sequence += 1
    routine.updated_at = utcnow()
    bump_group_version(session, routine.group_id)


# --------------------------------------------------------------------------- the form page


@dataclass
class FormPage:
    """Everything the routine form template shows besides the form itself."""

    form: RoutineForm
    details: Any
    activity: ActivityType
    activity_key: str
    notice: str | None = None
    preview: list[recurrence.Occurrence] | None = None
    words: str | None = None
    rule: str | None = None

    @property
    def status(self) -> int:
        """422 when the person must correct something; 200 for a preview or a new type."""
        failed = bool(self.form.errors) or bool(self.details is not None and self.details.errors)
        return 422 if request.method == "POST" and failed else 200


def activity_pairs(current_key: str | None) -> list[tuple[str, str]]:
    """``(key, label)`` of every installed type, the core's first; a routine whose plugin is
    gone keeps its key as the first option so saving other fields does not change its type."""
    types = current_app.extensions["planner"].activity_types
    pairs = [(key, f"{a.icon} {a.label}") for key, a in types.items()]
    pairs.sort(key=lambda c: (c[0] != DEFAULT_ACTIVITY, c[1].lower()))
    if current_key and current_key not in types:
        pairs.insert(0, (current_key, f"Unavailable ({current_key}): keep as it is"))
    return pairs


def _activity_for(key: str) -> ActivityType:
    return current_app.extensions["planner"].activity(key)


def _details_form(activity: ActivityType, formdata: Any, stored: dict | None) -> Any:
    if formdata is not None:
        return activity.form(formdata=formdata, prefix="details")
    return activity.form(data=activity.clean(stored) if stored else None, prefix="details")


def build_form_page(
    access: GroupAccess,
    routine: Routine | None,
    initial: dict[str, Any] | None = None,
) -> tuple[FormPage, bool]:
    """The form page for a new routine (``routine`` None), an edit, or a split (``initial``
    overriding the routine's values). Returns ``(page, ready_to_save)``."""
    group = access.group
    posted = request.method == "POST"
    form = RoutineForm() if posted else RoutineForm(formdata=None)
    stored_key = routine.activity_key if routine is not None else None
    pairs = activity_pairs(stored_key)
    form.activity.choices = choices(pairs)
    if not posted:
        _fill_initial(form, group, routine, initial or {})

    key = form.activity.data or stored_key or DEFAULT_ACTIVITY
    known = {value for value, _label in pairs}
    unknown_key = key not in known
    if unknown_key:
        key = stored_key or DEFAULT_ACTIVITY
        form.activity.data = key
    activity = _activity_for(key)
    shown = request.form.get("shown_activity") if posted else key
    type_changed = posted and shown != key and not unknown_key
    stored_details = routine.details if routine is not None and stored_key == key else None
    if activity.is_generic or activity is GENERIC:
        details = None
    elif posted and not type_changed:
        details = _details_form(activity, request.form, None)
    else:
        details = _details_form(activity, None, stored_details)

    page = FormPage(form=form, details=details, activity=activity, activity_key=key)
    if activity.is_generic:
        page.notice = (
            f"The plugin for this kind of activity ({key}) is not installed or is disabled. "
            "The routine keeps its saved details; choose another kind to change them."
        )
    if not posted:
        _describe_into(page, form)
        return page, False

    ok = form.validate()
    if unknown_key:
        form.activity.errors = ["Choose a kind of activity from the list."]
        ok = False
    if details is not None and not type_changed:
        ok = details.validate() and ok
    if type_changed:
        ok = False
        page.notice = f"These are the fields for {activity.label}. Fill them in, then save."
    try:
        page.rule = form.schedule_rule() if _can_build_rule(form) else None
    except recurrence.RecurrenceError:
        page.rule = None
        ok = False
    if page.rule is not None:
        _preview_into(page, form)
    if form.moved_start is not None:
        typed, used = form.moved_start
        page.notice = (
            f"{typed:%A %d %B %Y} does not fit the pattern, so the first date is "
            f"{used:%A %d %B %Y}, the first day that does."
        )
    wants_preview = bool(form.preview.data) or type_changed
    return page, ok and page.rule is not None and not wants_preview


def _can_build_rule(form: RoutineForm) -> bool:
    """The schedule can be checked only once the start and the zone are themselves valid."""
    return not (
        form.start_date.errors
        or form.start_time.errors
        or form.timezone.errors
        or form.start_naive() is None
    )


def _describe_into(page: FormPage, form: RoutineForm) -> None:
    start = form.start_naive()
    if start is None:
        return
    try:
        rule = form.schedule_rule()
    except recurrence.RecurrenceError:
        form.repeat.errors = []
        form.rrule.errors = []
        return
    page.rule = rule
    _preview_into(page, form)


def _preview_into(page: FormPage, form: RoutineForm) -> None:
    start = form.start_naive()
    tz = form.timezone.data
    assert start is not None and page.rule is not None
    minutes = form.duration.data if not form.duration.errors and form.duration.data else 60
    series = recurrence.Series(
        start=start, timezone=tz, duration=timedelta(minutes=minutes), rrule=page.rule
    )
    try:
        page.words = schedule.describe(page.rule, start, tz, timedelta(minutes=minutes))
        page.preview = recurrence.next_occurrences(series, utc_now(), PREVIEW_COUNT)
    except recurrence.RecurrenceError as exc:
        form.repeat.errors = [*form.repeat.errors, str(exc)]
        page.preview = None


def _fill_initial(form: RoutineForm, group, routine: Routine | None, initial: dict) -> None:
    if routine is None:
        start = datetime.combine(utc_now().date() + timedelta(days=7), datetime.min.time())
        start = start.replace(hour=19)
        values: dict[str, Any] = dict(
            activity=DEFAULT_ACTIVITY,
            title="",
            description="",
            location="",
            timezone=group.timezone,
            start=start,
            duration=120,
            capacity=None,
            max_guests=0,
            rrule=f"FREQ=WEEKLY;BYDAY={recurrence.WEEKDAYS[start.weekday()]}",
        )
    else:
        values = dict(
            activity=routine.activity_key,
            title=routine.title,
            description=routine.description,
            location=routine.location,
            timezone=routine.timezone,
            start=routine.start,
            duration=routine.duration_minutes,
            capacity=routine.capacity,
            max_guests=routine.max_guests,
            rrule=routine.rrule,
        )
    values.update(initial)
    form.activity.data = values["activity"]
    form.title.data = values["title"]
    form.description.data = values["description"]
    form.location.data = values["location"]
    form.timezone.data = values["timezone"]
    form.start_date.data = values["start"].date()
    form.start_time.data = values["start"].time()
    form.duration.data = values["duration"]
    form.capacity.data = values["capacity"]
    form.max_guests.data = values["max_guests"]
    form.fill_schedule(values["rrule"], values["start"])


def apply_form(routine: Routine, page: FormPage, previous_key: str | None) -> None:
    """Copy validated form values onto ``routine`` (new or existing)."""
    form = page.form
    start = form.start_naive()
    assert start is not None and page.rule is not None
    routine.title = form.title.data
    routine.description = form.description.data or ""
    routine.location = form.location.data or ""
    routine.timezone = form.timezone.data
    routine.start = start
    routine.duration_minutes = form.duration.data
    routine.rrule = page.rule
    routine.capacity = form.capacity.data
    routine.max_guests = form.max_guests.data
    if page.activity.is_generic:
        return  # the plugin is gone: keep its key and details untouched
    if page.details is not None:
        previous = routine.details if previous_key == page.activity_key else None
        routine.details = page.activity.merge(previous, page.details.data)
    routine.activity_key = page.activity_key


def add_default_slots(session, routine: Routine, activity: ActivityType) -> None:
    session.add_all(default_slot_rows(routine.id, activity.default_slots))


def render_form(page: FormPage, access: GroupAccess, routine: Routine | None, **extra: Any):
    return render_template(
        "routines/form.html",
        page=page,
        form=page.form,
        group=access.group,
        access=access,
        routine=routine,
        **extra,
    )


# --------------------------------------------------------------------------- create / edit


@bp.route("/g/<slug>/routines/new", methods=["GET", "POST"])
@login_required
def create(slug: str):
    access = organizer_access(slug)
    page, ready = build_form_page(access, None)
    if not ready:
        return render_form(page, access, None, heading="New routine"), page.status
    session = get_session()
    routine = Routine(group_id=access.group.id, created_by_id=current_user.id, details={})
    apply_form(routine, page, None)
    session.add(routine)
    session.flush()
    add_default_slots(session, routine, page.activity)
    bump_group_version(session, access.group.id)
    session.commit()
    notify("routine_saved", routine=routine, created=True)
    flash(f"“{routine.title}” is set up.", "success")
    if page.notice:
        flash(page.notice, "info")
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


@bp.route("/g/<slug>/r/<int:routine_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, routine_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    previous_key = routine.activity_key
    page, ready = build_form_page(access, routine)
    if not ready:
        heading = f"Edit “{routine.title}”"
        return render_form(page, access, routine, heading=heading), page.status
    # Under the routine's lock: a raised capacity promotes people off the waitlist, and the
    # before/after snapshots must not interleave with someone answering at the same moment.
    with occurrence_lock(session, routine.id):
        before = answers.snapshot(session, routine)
        apply_form(routine, page, previous_key)
        if routine.activity_key != previous_key and not routine.slots:
            add_default_slots(session, routine, page.activity)
        new_version(session, routine)
    notify("routine_saved", routine=routine, created=False)
    answers.announce(session, routine, before)
    flash("Saved.", "success")
    if page.notice:
        flash(page.notice, "info")
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


@bp.route("/g/<slug>/r/<int:routine_id>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str, routine_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    form = ActionForm()
    if request.method == "POST" and form.validate():
        title = routine.title
        session.delete(routine)
        bump_group_version(session, access.group.id)
        session.commit()
        notify("routine_deleted", routine=routine)
        flash(f"“{title}” was deleted.", "success")
        return redirect(group_url(slug))
    return render_template(
        "routines/delete.html", group=access.group, routine=routine, form=form, access=access
    )


@bp.route("/g/<slug>/r/<int:routine_id>/end", methods=["POST"])
@login_required
def end(slug: str, routine_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    back = request.form.get("next_key")
    form = EndSeriesForm()
    target = url_for("routines.show", slug=slug, routine_id=routine.id)
    if back:
        target = url_for("events.show", slug=slug, routine_id=routine.id, key=back)
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(target)
    if not routine.rrule:
        flash("A one-off event has nothing to end; cancel or delete it instead.", "error")
        return redirect(target)
    from planner.routines.occurrences import series_of

    try:
        rule = recurrence.end_rule(series_of(routine), form.last_date.data)
    except recurrence.RecurrenceError as exc:
        flash(str(exc), "error")
        return redirect(target)
    if rule != routine.rrule:
        routine.rrule = rule
        new_version(session, routine)
        session.commit()
        notify("routine_saved", routine=routine, created=False)
    flash(f"The series now ends on {form.last_date.data:%A %d %B %Y}.", "success")
    return redirect(url_for("routines.show", slug=slug, routine_id=routine.id))


# --------------------------------------------------------------------------- pages


@bp.route("/g/<slug>/r/<int:routine_id>")
def show(slug: str, routine_id: int):
    access = group_access(slug)
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
    activity = _activity_for(routine.activity_key)
    words = _words(routine)
    end_form = EndSeriesForm(formdata=None)
    end_form.last_date.data = utc_now().date()
    return render_template(
        "routines/show.html",
        group=access.group,
        access=access,
        routine=routine,
        upcoming=upcoming,
        past=past,
        previous=previous,
        successors=successors,
        activity=activity,
        words=words,
        end_form=end_form,
    )


def _words(routine: Routine) -> str:
    try:
        return schedule.describe(routine.rrule, routine.start, routine.timezone, routine.duration)
    except recurrence.RecurrenceError as exc:
        return f"The saved schedule cannot be read: {exc}"


@bp.route("/g/<slug>/upcoming")
def upcoming(slug: str):
    access = group_access(slug)
    days = request.args.get("days", default=182, type=int) or 182
    days = max(1, min(days, 366))
    items = group_upcoming(get_session(), access.group, viewer(), days=days, limit=300)
    return render_template(
        "routines/upcoming.html", group=access.group, access=access, upcoming=items, days=days
    )
