"""The dates that have happened: what history, the rhythm and check-ins are counted over.

A past date is an occurrence that has ended and was not cancelled. Who came is read from
:class:`~planner.models.Presence` when anyone said or confirmed it for that date, else from who
was going (the page says when it counts that way). Everything loads in a fixed number of
statements for any number of dates: history pages stay fast in old groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import clock
from planner.joining.attendance import GOING, attendance_for
from planner.models import Presence, Routine
from planner.routines.occurrences import expand_routines, routines_in_window
from planner.scheduling import recurrence


@dataclass(frozen=True)
class PastDate:
    routine: Routine
    occurrence: recurrence.Occurrence
    came: frozenset[int]  # the people who came
    confirmed: bool  # True when someone said or confirmed it; False: read off "going"

    @property
    def key(self) -> tuple[int, datetime]:
        return (self.routine.id, self.occurrence.original_start)


def history_months() -> int:
    return int(current_app.config["HISTORY_MONTHS"])


def horizon(now: datetime) -> datetime:
    """How far back history reaches (aware): ``PLANNER_HISTORY_MONTHS`` before ``now``."""
    return now - timedelta(days=round(30.44 * history_months()))


def past_dates(
    session: Session, group_ids: list[int], now: datetime, since: datetime | None = None,
    routine_ids: list[int] | None = None,
) -> list[PastDate]:
    """Every date of the groups' routines that ended before ``now`` (aware) since ``since``,
    oldest first, cancelled ones left out, with who came."""
    start = since or horizon(now)
    routines, overrides = routines_in_window(session, group_ids, start, now)
    if routine_ids is not None:
        routines = [r for r in routines if r.id in set(routine_ids)]
    pairs = [
        (r, o) for r, o in expand_routines(routines, start, now, overrides)
        if not o.is_cancelled and o.end <= now
    ]
    if not pairs:
        return []
    keys = [(r.id, o.original_start) for r, o in pairs]
    said: dict[tuple[int, datetime], dict[int, bool]] = {}
    rows = session.execute(
        select(Presence.routine_id, Presence.original_start, Presence.user_id, Presence.came)
        .where(Presence.routine_id.in_({r.id for r, _ in pairs}))
        .where(Presence.original_start >= min(o.original_start for _, o in pairs))
    )
    for row in rows:
        said.setdefault((row.routine_id, row.original_start), {})[row.user_id] = row.came
    unconfirmed = [k for k in keys if k not in said]
    going = attendance_for(session, unconfirmed) if unconfirmed else {}
    found: list[PastDate] = []
    for routine, occurrence in pairs:
        key = (routine.id, occurrence.original_start)
        if key in said:
            came = frozenset(u for u, yes in said[key].items() if yes)
            found.append(PastDate(routine, occurrence, came, True))
        else:
            attendance = going.get(key)
            ids = frozenset(
                u for u, s in (attendance.statuses().items() if attendance else ()) if s == GOING
            )
            found.append(PastDate(routine, occurrence, ids, False))
    found.sort(key=lambda d: d.occurrence.start)
    return found


def utc_now() -> datetime:
    """Aware now from the injected clock (naive UTC ``CLOCK``), for everything in this room."""
    return clock.now()
