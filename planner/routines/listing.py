"""The group page's list of routines: each with its schedule in words and its next date,
however far away.

The front page used to show only the next four weeks, so a weekly routine starting in five
weeks made the group look empty. This list always names every routine that still has a date
ahead. Loaded in a fixed number of statements (routines, overrides, attendance, the viewer's
regular rows) whatever the number of routines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.joining.attendance import Attendance, attendance_for
from planner.locales import FALLBACK
from planner.models import Group, Regular, Routine, User
from planner.routines.occurrences import (
    Upcoming,
    expand_routines,
    routines_in_window,
    upcoming_items,
    utc_now,
)
from planner.scheduling import recurrence
from planner.scheduling import rules as schedule
from planner.scheduling.series import series_of

# Cancelled dates are skipped to find the next real one, but not forever: a daily routine with
# a long run of cancellations still shows, with "no date ahead", rather than scanning years.
LOOKAHEAD = 60
FIRST_LOOK = 4
# The farthest next_occurrences() ever looks (its last preview window): overrides beyond it
# cannot matter, and reading them as rows up to here keeps the page free of ORM objects.
HORIZON = timedelta(days=36600)


@dataclass(frozen=True)
class RoutineRow:
    """One routine as the group page lists it."""

    routine: Routine
    activity: Any
    words: str
    next: recurrence.Occurrence | None
    attendance: Attendance | None
    regular: bool


def next_date(
    routine: Routine, now: datetime, overrides: list[Any] | None = None
) -> recurrence.Occurrence | None:
    """The routine's next occurrence that is not cancelled, or None (ended, or unreadable).

    Asks for a few dates first and for ``LOOKAHEAD`` only when those are all cancelled: asking
    a weekly routine for 60 dates expands ten years of it (the preview windows grow 8 weeks, a
    year, ten years), which was most of a busy group page's time."""
    series = series_of(routine, overrides=overrides)
    for count in (FIRST_LOOK, LOOKAHEAD):
        try:
            ahead = recurrence.next_occurrences(series, now, count)
        except recurrence.RecurrenceError:
            return None
        found = next((o for o in ahead if not o.is_cancelled), None)
        if found is not None or len(ahead) < count:
            return found
    return None


def words_of(routine: Routine) -> str:
    try:
        return schedule.describe(
            routine.rrule, routine.start, routine.timezone, routine.duration, with_zone=False,
            locale=str(get_locale() or FALLBACK),
        )
    except recurrence.RecurrenceError:
        return str(gettext("The saved schedule cannot be read."))


def group_overview(
    session: Session, group: Group, viewer: User | None, days: int, now: datetime | None = None
) -> tuple[list[RoutineRow], list[Upcoming]]:
    """The group page's two lists from one read: every routine with its next date (those with
    a date ahead first, soonest first, then the ones that have ended), and the dates of the
    next ``days`` as :func:`planner.routines.occurrences.group_upcoming` gives them.

    Read apart, each list loaded the routines, their overrides and the answers again: on the
    bench's busy group (50 routines, 200 members answering) that was two of the page's three
    largest costs twice over. The overrides read up to ``HORIZON`` include every one the
    shorter window needs, and the next dates lie in or near that window, so one
    :func:`attendance_for` of both lists' dates reads hardly more rows than either."""
    now = now or utc_now()
    routines, overrides = routines_in_window(session, [group.id], now, now + HORIZON)
    nexts = {r.id: next_date(r, now, overrides[r.id]) for r in routines}
    pairs = expand_routines(routines, now, now + timedelta(days=days), overrides)
    keys = [(r.id, o.original_start) for r in routines if (o := nexts[r.id]) is not None]
    keys += [(r.id, o.original_start) for r, o in pairs]
    found = attendance_for(session, keys)
    return _rows(session, routines, nexts, found, viewer), upcoming_items(group, pairs, found)


def _rows(
    session: Session,
    routines: list[Routine],
    nexts: dict[int, recurrence.Occurrence | None],
    found: dict[tuple[int, datetime], Attendance],
    viewer: User | None,
) -> list[RoutineRow]:
    regular: set[int] = set()
    if viewer is not None and routines:
        regular = set(
            session.scalars(
                select(Regular.routine_id).where(
                    Regular.user_id == viewer.id,
                    Regular.routine_id.in_([r.id for r in routines]),
                )
            )
        )
    plugins = current_app.extensions["planner"]
    rows = []
    for routine in routines:
        occurrence = nexts[routine.id]
        rows.append(
            RoutineRow(
                routine=routine,
                activity=plugins.activity(routine.activity_key),
                words=words_of(routine),
                next=occurrence,
                attendance=(
                    found.get((routine.id, occurrence.original_start)) if occurrence else None
                ),
                regular=routine.id in regular,
            )
        )
    rows.sort(
        key=lambda r: (r.next is None, r.next.start.timestamp() if r.next else 0, r.routine.id)
    )
    return rows
