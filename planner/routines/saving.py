"""Saving, ending, splitting and deleting a series: one place for each, so create, edit and
"change from here on" follow the same rules.

Every change here owns its transaction: the series' SEQUENCE and the group's feed version move
in the same commit as the change (calendars re-read an event only when its SEQUENCE grows; the
group's feeds are rebuilt when its version moves), and plugins hear of it only after the commit,
so a webhook never announces something that rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.joining import answers
from planner.joining.locks import occurrence_lock
from planner.models import Group, Override, Routine, bump_group_version, default_slot_rows, utcnow
from planner.plugins.activity import ActivityType
from planner.plugins.manager import notify
from planner.routines.occurrences import carry_over
from planner.scheduling import recurrence
from planner.scheduling.series import last_before, series_of


@dataclass(frozen=True)
class RoutineValues:
    """A validated routine form, as the domain needs it (no WTForms here).

    ``details`` is the activity type's submitted details (``None`` when the type has none);
    an ``activity`` whose plugin is gone (generic) leaves the stored type and details alone.
    """

    title: str
    description: str
    location: str
    timezone: str
    start: datetime
    duration_minutes: int
    rrule: str
    capacity: int | None
    max_guests: int
    activity_key: str
    activity: ActivityType
    details: dict[str, Any] | None = None
    ask_hours_before: int | None = None  # the answer nudge (planner.notify); None: off


def new_version(session: Session, routine: Routine, override: Override | None = None) -> None:
    """The series (and ``override``'s occurrence, if any) changed: both SEQUENCEs grow and the
    group's feeds are marked changed, in the caller's transaction."""
    routine.sequence += 1
    routine.updated_at = utcnow()
    bump_group_version(session, routine.group_id)
    if override is not None:
        override.sequence = max(override.sequence or 0, routine.sequence)
        override.updated_at = utcnow()


def publish(
    session: Session,
    routine: Routine,
    hook: str,
    override: Override | None = None,
    **payload: Any,
) -> None:
    """Bump the versions, commit, then tell plugins (``hook`` with ``routine`` and ``payload``)."""
    new_version(session, routine, override)
    session.commit()
    notify(hook, routine=routine, **payload)


def _apply(routine: Routine, values: RoutineValues) -> None:
    previous_key = routine.activity_key
    routine.title = values.title
    routine.description = values.description
    routine.location = values.location
    routine.timezone = values.timezone
    routine.start = values.start
    routine.duration_minutes = values.duration_minutes
    routine.rrule = values.rrule
    routine.capacity = values.capacity
    routine.max_guests = values.max_guests
    routine.ask_hours_before = values.ask_hours_before
    if values.activity.is_generic:
        return  # the plugin is gone: keep its key and details untouched
    if values.details is not None:
        previous = routine.details if previous_key == values.activity_key else None
        routine.details = values.activity.merge(previous, values.details)
    routine.activity_key = values.activity_key


def _add_default_slots(session: Session, routine: Routine, activity: ActivityType) -> None:
    """The type's first slots, named in the group's language: every member reads the same
    row, so it is the group's setting that counts, else the organizer's own language."""
    language = session.scalar(select(Group.language).where(Group.id == routine.group_id))
    if language:
        with force_locale(language):
            rows = default_slot_rows(routine.id, activity.default_slots)
    else:
        rows = default_slot_rows(routine.id, activity.default_slots)
    session.add_all(rows)


def save_routine(
    session: Session,
    values: RoutineValues,
    *,
    routine: Routine | None = None,
    group_id: int | None = None,
    created_by_id: int | None = None,
    settled: Callable[[Session, Routine, list[answers.Change]], object] | None = None,
) -> Routine:
    """Create a routine in ``group_id`` (``routine`` None) or edit ``routine``.

    A new routine starts with its type's default slots. An edit runs under the routine's lock:
    a raised capacity promotes people off the waitlist, and the before/after snapshots must not
    interleave with someone answering at the same moment; the promoted hear of it after commit.
    ``settled`` is called under the lock with the attendance changes, before the commit: the
    web layer records there who a lowered capacity made wait (this room may not know mail).
    """
    if routine is None:
        assert group_id is not None
        routine = Routine(group_id=group_id, created_by_id=created_by_id, details={})
        _apply(routine, values)
        session.add(routine)
        session.flush()
        _add_default_slots(session, routine, values.activity)
        bump_group_version(session, group_id)
        session.commit()
        notify("routine_saved", routine=routine, created=True)
        return routine
    previous_key = routine.activity_key
    with occurrence_lock(session, routine.id):
        before = answers.snapshot(session, routine)
        _apply(routine, values)
        if routine.activity_key != previous_key and not routine.slots:
            _add_default_slots(session, routine, values.activity)
        new_version(session, routine)
        changes = answers.settle(session, routine, before)
        if settled is not None:
            settled(session, routine, changes)
    notify("routine_saved", routine=routine, created=False)
    answers.notify_changes(session, routine, changes)
    return routine


def delete_routine(session: Session, routine: Routine) -> None:
    group_id = routine.group_id
    session.delete(routine)
    bump_group_version(session, group_id)
    session.commit()
    notify("routine_deleted", routine=routine)


def end_series(session: Session, routine: Routine, last_date: date) -> None:
    """End a repeating series on ``last_date``; raises :class:`recurrence.RecurrenceError` with a
    message for the person (a one-off event, a date the series cannot end on)."""
    if not routine.rrule:
        raise recurrence.RecurrenceError(
            gettext("A one-off event has nothing to end; cancel or delete it instead.")
        )
    rule = recurrence.end_rule(series_of(routine), last_date)
    if rule != routine.rrule:
        routine.rrule = rule
        publish(session, routine, "routine_saved", created=False)


def split_rules(routine: Routine, at: datetime) -> tuple[str, str, datetime]:
    """``(old_rule, new_rule, last_old_start)`` for changing the series from ``at`` on; raises
    :class:`recurrence.RecurrenceError` when it cannot be split there."""
    series = series_of(routine)
    old_rule, new_rule = recurrence.split_rule(series, at)
    return old_rule, new_rule, last_before(series, at)


def split_series(
    session: Session, routine: Routine, at: datetime, values: RoutineValues, created_by_id: int
) -> Routine:
    """Change the series from ``at`` on: the old routine ends just before it and a new routine
    (``previous_id`` pointing back) starts with it, taking along what hangs off the later
    occurrences (see :func:`planner.routines.occurrences.carry_over`)."""
    old_rule, _new_rule, _last = split_rules(routine, at)
    new = Routine(
        group_id=routine.group_id,
        created_by_id=created_by_id,
        previous_id=routine.id,
        details=dict(routine.details or {}),
        activity_key=routine.activity_key,
    )
    _apply(new, values)
    session.add(new)
    session.flush()
    routine.rrule = old_rule
    carry_over(session, routine, new, at)
    if not new.slots and values.activity_key != routine.activity_key:
        _add_default_slots(session, new, values.activity)
    publish(session, routine, "routine_saved", created=False)
    notify("routine_saved", routine=new, created=True)
    notify("occurrence_changed", routine=routine, original_start=at, change="split")
    return new
