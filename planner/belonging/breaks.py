"""Planned breaks: "Summer break 20 Jul - 31 Aug" cancels a routine's dates in those days
together, shows them as one break on the page and in feeds (the cancelled dates), and keeps the
rhythm unbroken. Undoing the break brings back exactly the dates it cancelled.

The dates are ordinary cancelled overrides whose note is the break's label, so every reader of
overrides (feeds, pages, answers that close on cancelled dates) treats them as cancelled without
knowing about breaks; the :class:`~planner.models.PlannedBreak` row is what tells the rhythm
that the pause was planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.enums import OverrideStatus
from planner.models import Override, PlannedBreak, Routine, bump_group_version, utcnow
from planner.scheduling import recurrence
from planner.scheduling.series import series_of
from planner.scheduling.zones import localize

MAX_DAYS = 366


class BreakError(ValueError):
    """A break that cannot be planned; ``str()`` is for the organizer."""


@dataclass(frozen=True)
class Planned:
    planned: PlannedBreak
    dates: list[recurrence.Occurrence]  # the dates it cancels


def dates_in(routine: Routine, first_day: date, last_day: date) -> list[recurrence.Occurrence]:
    """The routine's dates whose local day is within the break (as they are now)."""
    start = localize(datetime.combine(first_day, time.min), routine.timezone)
    end = localize(datetime.combine(last_day + timedelta(days=1), time.min), routine.timezone)
    try:
        return recurrence.expand(series_of(routine), start, end)
    except recurrence.RecurrenceError:
        return []


def plan_break(
    session: Session, routine: Routine, label: str, first_day: date, last_day: date,
    by: int | None,
) -> Planned:
    """Cancel every date of the routine in ``[first_day, last_day]`` (caller commits)."""
    label = label.strip()
    if not label:
        raise BreakError(gettext("Give the break a name, like “Summer break”."))
    if last_day < first_day:
        raise BreakError(gettext("The break's last day comes before its first."))
    if (last_day - first_day).days > MAX_DAYS:
        raise BreakError(gettext("A break can last a year at most."))
    overlapping = session.scalar(select(PlannedBreak.id).where(
        PlannedBreak.routine_id == routine.id, PlannedBreak.first_day <= last_day,
        PlannedBreak.last_day >= first_day))
    if overlapping is not None:
        raise BreakError(gettext("This break overlaps another planned break of the routine."))
    dates = [d for d in dates_in(routine, first_day, last_day) if not d.is_cancelled]
    if not dates:
        raise BreakError(gettext("The routine has no dates in those days."))
    planned = PlannedBreak(routine_id=routine.id, label=label[:80], first_day=first_day,
                           last_day=last_day, created_by_id=by, created_at=utcnow())
    session.add(planned)
    existing = {o.original_start: o for o in routine.overrides}
    for occurrence in dates:
        override = existing.get(occurrence.original_start)
        if override is None:
            override = Override(routine_id=routine.id, original_start=occurrence.original_start)
            session.add(override)
            routine.overrides.append(override)
        override.status = OverrideStatus.CANCELLED
        override.note = planned.label
        override.sequence = (override.sequence or 0) + 1
        override.updated_at = utcnow()
    routine.sequence += 1
    routine.updated_at = utcnow()
    bump_group_version(session, routine.group_id)
    session.flush()
    return Planned(planned=planned, dates=dates)


def undo_break(session: Session, routine: Routine, planned: PlannedBreak) -> int:
    """Bring back the dates the break cancelled (those still cancelled under its label); a
    date that was also changed keeps its change. Returns how many came back."""
    restored = 0
    for override in list(routine.overrides):
        day = override.original_start.date()
        if not (planned.first_day <= day <= planned.last_day):
            continue
        if override.status != OverrideStatus.CANCELLED or override.note != planned.label:
            continue
        changed = any(v is not None for v in (override.start, override.duration_minutes,
                                              override.location, override.title))
        if changed:
            override.status = OverrideStatus.CHANGED
            override.note = None
            override.sequence = (override.sequence or 0) + 1
            override.updated_at = utcnow()
        else:
            routine.overrides.remove(override)
            session.delete(override)
        restored += 1
    session.delete(planned)
    routine.sequence += 1
    routine.updated_at = utcnow()
    bump_group_version(session, routine.group_id)
    return restored


def breaks_of(session: Session, routine_ids: list[int]) -> dict[int, list[PlannedBreak]]:
    """Each routine's planned breaks, by first day (one statement)."""
    found: dict[int, list[PlannedBreak]] = {r: [] for r in routine_ids}
    if not routine_ids:
        return found
    for row in session.scalars(select(PlannedBreak).where(
            PlannedBreak.routine_id.in_(routine_ids)).order_by(PlannedBreak.first_day)):
        found[row.routine_id].append(row)
    return found
