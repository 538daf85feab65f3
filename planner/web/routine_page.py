"""The routine form page, shared by create, edit and "change from here on": which activity
type's fields to show, the schedule in words with a preview, and every check before saving.

Not a blueprint: :mod:`planner.web.views.routines` and :mod:`planner.web.views.events` both
build this page, and a view module never imports another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext

from planner import locales
from planner.groups.access import GroupAccess
from planner.models import Group, Routine
from planner.plugins.activity import GENERIC, ActivityType, choices
from planner.routines.occurrences import utc_now
from planner.routines.saving import RoutineValues
from planner.scheduling import recurrence
from planner.scheduling import rules as schedule
from planner.web.i18n import current_locale, problem
from planner.web.routine_forms import RoutineForm

PREVIEW_COUNT = 8
DEFAULT_ACTIVITY = "gathering"


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
        pairs.insert(
            0, (current_key, gettext("Unavailable (%(key)s): keep as it is", key=current_key))
        )
    return pairs


def _activity_for(key: str) -> ActivityType:
    return current_app.extensions["planner"].activity(key)


def _details_form(activity: ActivityType, formdata: Any, stored: dict[str, Any] | None) -> Any:
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
        page.notice = gettext(
            "The plugin for this kind of activity (%(key)s) is not installed or is disabled. "
            "The routine keeps its saved details; choose another kind to change them.",
            key=key,
        )
    if not posted:
        _describe_into(page, form)
        return page, False

    form.follow_weekday(request.form.get("followed_weekday"))
    if request.form.get("preview") == "type" or type_changed:
        # Switching the kind is not a submission: nothing typed so far is judged yet.
        if type_changed:
            page.notice = fields_notice(activity)
        _describe_into(page, form)
        return page, False

    ok = form.validate()
    if unknown_key:
        form.activity.errors = [gettext("Choose a kind of activity from the list.")]
        ok = False
    if details is not None and not type_changed:
        ok = details.validate() and ok
    if type_changed:
        ok = False
        page.notice = fields_notice(activity)
    try:
        page.rule = form.schedule_rule() if _can_build_rule(form) else None
    except recurrence.RecurrenceError:
        page.rule = None
        ok = False
    if page.rule is not None:
        _preview_into(page, form)
    if form.moved_start is not None:
        typed, used = form.moved_start
        locale = current_locale()
        page.notice = gettext(
            "%(typed)s does not fit the pattern, so the first date is %(used)s, the first day "
            "that does.", typed=locales.day(typed, locale), used=locales.day(used, locale),
        )
    wants_preview = bool(form.preview.data) or type_changed
    return page, ok and page.rule is not None and not wants_preview


def fields_notice(activity: ActivityType) -> str:
    return gettext(
        "These are the fields for %(kind)s. Fill them in, then save.", kind=activity.label
    )


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
    # Before anything is submitted the schedule in words is enough; the list of dates comes
    # with "Preview", so the untouched form stays within two phone screens.
    page.preview = None


def _preview_into(page: FormPage, form: RoutineForm) -> None:
    start = form.start_naive()
    tz = form.timezone.data
    assert start is not None and page.rule is not None
    # A duration with an error is left out of the words, so the preview never says "for 1
    # hour" next to "Choose a duration of at least 1 minute".
    valid = not form.duration.errors and bool(form.duration.data) and form.duration.data > 0
    minutes = form.duration.data if valid else 60
    series = recurrence.Series(
        start=start, timezone=tz, duration=timedelta(minutes=minutes), rrule=page.rule
    )
    try:
        page.words = schedule.describe(
            page.rule, start, tz, timedelta(minutes=minutes) if valid else None,
            locale=current_locale(),
        )
        page.preview = (
            recurrence.next_occurrences(series, utc_now(), PREVIEW_COUNT) if valid else None
        )
    except recurrence.RecurrenceError as exc:
        form.repeat.errors = [*form.repeat.errors, problem(exc)]
        page.preview = None


def _fill_initial(
    form: RoutineForm, group: Group, routine: Routine | None, initial: dict[str, Any]
) -> None:
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
            ask_hours_before=None,
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
            ask_hours_before=routine.ask_hours_before,
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
    ask = values.get("ask_hours_before")
    form.ask_hours_before.data = "" if ask is None else str(ask)
    form.fill_schedule(values["rrule"], values["start"])


def render_form(
    page: FormPage, access: GroupAccess, routine: Routine | None, **extra: Any
) -> str:
    return render_template(
        "routines/form.html",
        page=page,
        form=page.form,
        group=access.group,
        access=access,
        routine=routine,
        **extra,
    )


def values_of(page: FormPage) -> RoutineValues:
    """The validated form as the domain's :class:`RoutineValues`."""
    form = page.form
    start = form.start_naive()
    assert start is not None and page.rule is not None
    return RoutineValues(
        title=form.title.data,
        description=form.description.data or "",
        location=form.location.data or "",
        timezone=form.timezone.data,
        start=start,
        duration_minutes=form.duration.data,
        rrule=page.rule,
        capacity=form.capacity.data,
        max_guests=form.max_guests.data,
        ask_hours_before=int(form.ask_hours_before.data) if form.ask_hours_before.data else None,
        activity_key=page.activity_key,
        activity=page.activity,
        details=page.details.data if page.details is not None else None,
    )
