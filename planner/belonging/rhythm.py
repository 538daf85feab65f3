"""The group's rhythm: "23 Thursdays in a row, since 12 March" for a routine.

It is the group's streak, never a person's. A date counts when it happened (not cancelled); a
date cancelled inside a planned break neither counts nor breaks the run (the group planned to
pause), while a cancellation outside a break ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from planner.models import PlannedBreak, Routine
from planner.scheduling import recurrence


@dataclass(frozen=True)
class Rhythm:
    count: int
    since: datetime | None  # aware: the first date of the run
    unit: str  # "Thursdays", "times": what the count is of
    breaks: int  # planned breaks the run spans


WEEKDAY_PLURALS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                   "Sundays")


def in_break(day: date, breaks: list[PlannedBreak]) -> PlannedBreak | None:
    return next((b for b in breaks if b.first_day <= day <= b.last_day), None)


def unit_of(routine: Routine) -> str:
    """"Thursdays" for a weekly routine on one weekday, else "times"."""
    rule = routine.rrule or ""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    if parts.get("FREQ") == "WEEKLY" and parts.get("INTERVAL", "1") == "1":
        days = parts.get("BYDAY", recurrence.WEEKDAYS[routine.start.weekday()]).split(",")
        if len(days) == 1 and days[0] in recurrence.WEEKDAYS:
            return WEEKDAY_PLURALS[recurrence.WEEKDAYS.index(days[0])]
    return "times"


def rhythm(
    routine: Routine, past: list[recurrence.Occurrence], breaks: list[PlannedBreak]
) -> Rhythm:
    """The run ending with the latest past date (``past``: every past occurrence of the
    routine, cancelled ones included, in any order)."""
    count, since, spanned = 0, None, set()
    for occurrence in sorted(past, key=lambda o: o.start, reverse=True):
        pause = in_break(occurrence.start.date(), breaks)
        if occurrence.is_cancelled:
            if pause is None:
                break
            spanned.add(pause.id)
            continue
        count += 1
        since = occurrence.start
    return Rhythm(count=count, since=since, unit=unit_of(routine), breaks=len(spanned))
