"""One occurrence: its page, and the organizers' exceptions to the series.

An occurrence is ``(routine, original_start)``; its page lives at
``/g/<slug>/r/<routine_id>/<YYYYMMDDTHHMM>`` and a key the series does not produce is a 404.
Exceptions are :class:`planner.models.Override` rows (cancel, restore, change one) or a split
of the routine ("change from here on"), after which answers, claims and comments on later
occurrences that still exist move with them to the new series.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from planner.db import get_session
from planner.groups.access import group_access
from planner.joining.panel import occurrence_context
from planner.models import Override, Routine, utcnow
from planner.plugins.manager import notify
from planner.routines.occurrences import carry_over, load_routine, occurrence_or_404, series_of
from planner.scheduling import recurrence
from planner.web.routine_forms import ActionForm, CancelForm, EndSeriesForm, OccurrenceForm
from planner.web.views.routines import (
    add_default_slots,
    apply_form,
    build_form_page,
    new_version,
    organizer_routine,
    render_form,
)

bp = Blueprint("events", __name__)


def _viewer() -> Any:
    # The real object, not the request-bound proxy: plugins may keep it.
    return current_user._get_current_object() if current_user.is_authenticated else None


def occurrence_url(slug: str, routine: Routine, key: str) -> str:
    return url_for("events.show", slug=slug, routine_id=routine.id, key=key)


@bp.route("/g/<slug>/r/<int:routine_id>/<key>")
def show(slug: str, routine_id: int, key: str):
    access = group_access(slug)
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    occurrence = occurrence_or_404(routine, key)
    viewer = _viewer()
    context = occurrence_context(session, routine, occurrence, viewer) or {}
    plugins = current_app.extensions["planner"]
    activity = plugins.activity(routine.activity_key)
    end_form = EndSeriesForm(formdata=None)
    end_form.last_date.data = occurrence.original_start.date()
    page: dict[str, Any] = {
        "group": access.group,
        "access": access,
        "routine": routine,
        "occurrence": occurrence,
        "activity": activity,
        "panels": plugins.panels(
            occurrence=occurrence,
            routine=routine,
            viewer=viewer,
            attendance=context.get("attendance"),
        ),
        "cancel_form": CancelForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "end_form": end_form,
        "title": occurrence.title or routine.title,
        "location": occurrence.location or routine.location,
        "is_first": occurrence.original_start == routine.start,
    }
    return render_template("events/show.html", **{**context, **page})


# --------------------------------------------------------------------------- exceptions


def _load(slug: str, routine_id: int, key: str):
    access, session, routine = organizer_routine(slug, routine_id)
    occurrence = occurrence_or_404(routine, key)
    override = next(
        (o for o in routine.overrides if o.original_start == occurrence.original_start), None
    )
    return access, session, routine, occurrence, override


def _bump(session, routine: Routine, override: Override | None) -> None:
    """A change to one occurrence is a new version of it and of the series (whose EXDATEs and
    RECURRENCE-IDs calendars re-read only when SEQUENCE grows)."""
    new_version(session, routine)
    if override is not None:
        override.sequence = max(override.sequence or 0, routine.sequence)
        override.updated_at = utcnow()


def _override_for(session, routine: Routine, occurrence, override: Override | None) -> Override:
    """The occurrence's override, added (to the session and ``routine.overrides``, which the
    page and the feed read next) when it has none yet."""
    if override is None:
        override = Override(routine_id=routine.id, original_start=occurrence.original_start)
        session.add(override)
        routine.overrides.append(override)
    return override


def _drop(session, routine: Routine, override: Override) -> None:
    """Back to what the series says: the override goes from the session and the routine's
    loaded list alike, so nothing later in this request still sees it."""
    routine.overrides.remove(override)
    session.delete(override)


def _commit_and_notify(session, routine: Routine, occurrence, change: str) -> None:
    """Plugins hear of a change only once it is committed (a webhook must not announce a
    cancellation that rolled back)."""
    session.commit()
    notify(
        "occurrence_changed",
        routine=routine,
        original_start=occurrence.original_start,
        change=change,
    )


def _has_changes(override: Override) -> bool:
    return any(
        value is not None
        for value in (override.start, override.duration_minutes, override.location, override.title)
    )


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/cancel", methods=["POST"])
@login_required
def cancel(slug: str, routine_id: int, key: str):
    access, session, routine, occurrence, override = _load(slug, routine_id, key)
    form = CancelForm()
    if not form.validate():
        for message in form.reason.errors:
            flash(message, "error")
        return redirect(occurrence_url(slug, routine, key))
    override = _override_for(session, routine, occurrence, override)
    override.status = "cancelled"
    override.note = form.reason.data or None
    _bump(session, routine, override)
    _commit_and_notify(session, routine, occurrence, "cancelled")
    flash("This occurrence is cancelled. Members see it marked as such.", "success")
    return redirect(occurrence_url(slug, routine, key))


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/restore", methods=["POST"])
@login_required
def restore(slug: str, routine_id: int, key: str):
    access, session, routine, occurrence, override = _load(slug, routine_id, key)
    form = ActionForm()
    if not form.validate() or override is None or override.status != "cancelled":
        flash("This occurrence is not cancelled.", "info")
        return redirect(occurrence_url(slug, routine, key))
    if _has_changes(override):
        override.status = "changed"
        override.note = None
        _bump(session, routine, override)
    else:
        _drop(session, routine, override)
        _bump(session, routine, None)
    _commit_and_notify(session, routine, occurrence, "restored")
    flash("This occurrence is on again.", "success")
    return redirect(occurrence_url(slug, routine, key))


def _clash(routine: Routine, original_start: datetime, new_start: datetime) -> str | None:
    """Why ``new_start`` is taken by another occurrence of the same series, or None.

    Two occurrences at one time would be one event twice in every calendar, and the other's
    key (its RECURRENCE-ID) would become ambiguous.
    """
    if new_start == original_start:
        return None
    series = series_of(routine)
    if recurrence.produces(series, new_start):
        return (
            f"Another occurrence of this routine is already on {new_start:%A %d %B %Y at %H:%M}."
            " Choose another time, or cancel that one and change this one's note instead."
        )
    for other in routine.overrides:
        if (
            other.original_start != original_start
            and other.start == new_start
            and other.status == "changed"
        ):
            return (
                f"Another occurrence of this routine was already moved to "
                f"{new_start:%A %d %B %Y at %H:%M}. Choose another time."
            )
    return None


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/change", methods=["GET", "POST"])
@login_required
def change(slug: str, routine_id: int, key: str):
    access, session, routine, occurrence, override = _load(slug, routine_id, key)
    if occurrence.is_cancelled:
        flash("This occurrence is cancelled: restore it before changing it.", "info")
        return redirect(occurrence_url(slug, routine, key))
    posted = request.method == "POST"
    form = OccurrenceForm() if posted else OccurrenceForm(formdata=None)
    if not posted:
        local_start = recurrence.to_local_naive(occurrence.start, routine.timezone)
        if override is not None and override.start is not None:
            local_start = override.start
        form.start_date.data = local_start.date()
        form.start_time.data = local_start.time()
        form.duration.data = int((occurrence.end - occurrence.start).total_seconds() // 60)
        form.location.data = occurrence.location or routine.location
        form.title.data = occurrence.title or routine.title
        form.note.data = occurrence.note or ""
    status = 200
    if posted:
        if form.validate():
            new_start = form.start_naive()
            problem = _clash(routine, occurrence.original_start, new_start)
            if problem:
                form.start_date.errors = [*form.start_date.errors, problem]
            else:
                _save_change(session, routine, occurrence, override, form)
                flash("This occurrence is changed. Members see it marked as such.", "success")
                return redirect(occurrence_url(slug, routine, key))
        status = 422
    return (
        render_template(
            "events/change.html",
            group=access.group,
            access=access,
            routine=routine,
            occurrence=occurrence,
            form=form,
        ),
        status,
    )


def _save_change(session, routine, occurrence, override, form: OccurrenceForm) -> None:
    new_start = form.start_naive()
    values = {
        "start": None if new_start == occurrence.original_start else new_start,
        "duration_minutes": (
            None if form.duration.data == routine.duration_minutes else form.duration.data
        ),
        "location": None if form.location.data == routine.location else form.location.data,
        "title": None if form.title.data == routine.title else form.title.data,
        "note": form.note.data or None,
    }
    change_kind = "changed"
    if all(v is None for v in values.values()):
        if override is not None:  # back to exactly what the series says
            _drop(session, routine, override)
        _bump(session, routine, None)
        change_kind = "restored"
    else:
        override = _override_for(session, routine, occurrence, override)
        override.status = "changed"
        for name, value in values.items():
            setattr(override, name, value)
        _bump(session, routine, override)
    _commit_and_notify(session, routine, occurrence, change_kind)


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/split", methods=["GET", "POST"])
@login_required
def split(slug: str, routine_id: int, key: str):
    """Change the series from this occurrence on: the old routine ends just before it and a
    new routine (``previous_id`` pointing back) starts with it."""
    access, session, routine, occurrence, _override = _load(slug, routine_id, key)
    at = occurrence.original_start
    series = series_of(routine)
    try:
        old_rule, new_rule = recurrence.split_rule(series, at)
    except recurrence.RecurrenceError as exc:
        flash(f"{exc} Edit the routine to change all of it.", "info")
        return redirect(url_for("routines.edit", slug=slug, routine_id=routine.id))
    last_old = _last_before(series, at)
    page, ready = build_form_page(access, routine, initial={"start": at, "rrule": new_rule})
    if ready:
        new_start = page.form.start_naive()
        assert new_start is not None
        if new_start <= last_old:
            page.form.start_date.errors = [
                *page.form.start_date.errors,
                "The new series must start after the last occurrence of the old one "
                f"({last_old:%A %d %B %Y at %H:%M}).",
            ]
            ready = False
    if not ready:
        return (
            render_form(
                page,
                access,
                routine,
                heading=f"Change “{routine.title}” from {at:%A %d %B %Y} on",
                split_from=occurrence,
                action=url_for("events.split", slug=slug, routine_id=routine.id, key=key),
            ),
            page.status,
        )
    new = Routine(
        group_id=routine.group_id,
        created_by_id=current_user.id,
        previous_id=routine.id,
        details=dict(routine.details or {}),
        activity_key=routine.activity_key,
    )
    apply_form(new, page, routine.activity_key)
    session.add(new)
    session.flush()
    routine.rrule = old_rule
    carry_over(session, routine, new, at)
    if not new.slots and page.activity_key != routine.activity_key:
        add_default_slots(session, new, page.activity)
    _bump(session, routine, None)
    session.commit()
    notify("routine_saved", routine=routine, created=False)
    notify("routine_saved", routine=new, created=True)
    notify("occurrence_changed", routine=routine, original_start=at, change="split")
    flash("From this date on the routine follows the new settings.", "success")
    return redirect(url_for("routines.show", slug=slug, routine_id=new.id))


def _last_before(series: recurrence.Series, at: datetime) -> datetime:
    """The old series' last start before ``at``: looked for in growing windows, so a daily
    routine that ran for years does not expand its whole history."""
    plain = recurrence.Series(series.start, series.timezone, series.duration, series.rrule)
    end = recurrence.localize(at, series.timezone)
    for days in (62, 800, 40_000):
        begin = max(end - timedelta(days=days), recurrence.localize(series.start, series.timezone))
        found = [o.original_start for o in recurrence.expand(plain, begin, end)]
        found = [v for v in found if v < at]
        if found:
            return max(found)
    return series.start
