"""What the occurrence and routine pages show of belonging, for members only: who came, good
things, last time's good things on the next date, first-timer marks, the rhythm and breaks.

Outsiders and anonymous visitors of a public group get none of it (an empty dict), so the
cached public page carries nothing about who came with whom.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from planner.belonging import breaks, good_things, history, newcomers, presence, rhythm
from planner.belonging.hosts import date_host
from planner.belonging.past import past_dates, utc_now
from planner.groups.access import GroupAccess
from planner.joining.attendance import Attendance
from planner.models import Routine, User
from planner.scheduling import recurrence
from planner.scheduling.series import series_of
from planner.web.forms import GoodThingForm

#: How far back "last time" looks for the previous date of a routine.
LAST_TIME_DAYS = 120


def may_confirm(
    access: GroupAccess, routine: Routine, user: User, occurrence: recurrence.Occurrence,
    attendance: Attendance | None = None,
) -> bool:
    """Who may confirm who came for everyone: organizers, whoever set the routine up, and the
    date's host (:func:`~planner.belonging.hosts.date_host`, as the reminder names them)."""
    if access.can_organize or routine.created_by_id == user.id:
        return True
    host = date_host(routine, occurrence, attendance)
    return host is not None and host[0] == user.id


def occurrence_extras(
    session: Session, access: GroupAccess, routine: Routine,
    occurrence: recurrence.Occurrence, viewer: User | None, attendance: Attendance | None,
) -> dict[str, Any]:
    if not access.is_member or viewer is None:
        return {}
    now = utc_now()
    key = occurrence.original_start
    found: dict[str, Any] = {
        "who_came": presence.who_came(session, routine, occurrence, viewer.id, now,
                                      organizer=access.can_organize),
        "may_confirm": may_confirm(access, routine, viewer, occurrence, attendance),
        "good_form": GoodThingForm(formdata=None),
    }
    if found["who_came"] is not None:
        found["good_things"] = good_things.of_date(session, routine.id, key,
                                                   include_hidden=access.can_organize)
        if found["who_came"].missing:
            from sqlalchemy import select

            from planner.models import User as Person

            found["missing_names"] = list(session.scalars(select(Person.display_name).where(
                Person.id.in_(found["who_came"].missing)).order_by(Person.display_name)))
    else:
        dates = past_dates(session, [access.group.id], now,
                           since=now - timedelta(days=LAST_TIME_DAYS), routine_ids=[routine.id])
        found["last_time"] = good_things.last_time(session, routine, occurrence.start, dates)
        going = [p.user_id for p in attendance.going] if attendance is not None else []
        found["first_timers"] = newcomers.first_timers(session, routine.id, key, going)
    return found


def routine_extras(session: Session, access: GroupAccess, routine: Routine) -> dict[str, Any]:
    if not access.is_member:
        return {}
    now = utc_now()
    planned = breaks.breaks_of(session, [routine.id])[routine.id]
    try:
        past = recurrence.expand(series_of(routine), now - timedelta(days=3 * 366), now)
    except recurrence.RecurrenceError:
        past = []
    past = [o for o in past if o.end <= now]
    lines: list[str] = []
    if current_app.extensions["planner"].adds_history(routine):
        dates = past_dates(session, [access.group.id], now, routine_ids=[routine.id])
        lines = history.type_lines(session, dates, None)
    return {"rhythm": rhythm.rhythm(routine, past, planned), "planned_breaks": planned,
            "type_lines": lines}
