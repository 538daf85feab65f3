"""The group's rhythm: "23 Thursdays in a row, since 12 March" for a routine.

It is the group's streak, never a person's. A date counts when it happened (not cancelled); a
date cancelled inside a planned break neither counts nor breaks the run (the group planned to
pause), while a cancellation outside a break ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import ngettext

from planner.models import PlannedBreak, Routine
from planner.scheduling import recurrence


@dataclass(frozen=True)
class Rhythm:
    count: int
    since: datetime | None  # aware: the first date of the run
    unit: str  # "Thursdays", "times": what the count is of
    breaks: int  # planned breaks the run spans

    @property
    def words(self) -> str:
        """"23 Thursdays in a row", "1 time in a row": the run in the reader's language."""
        return run_words(self.unit, self.count)

    @property
    def break_words(self) -> str:
        """"across 2 planned breaks" (empty without one)."""
        if not self.breaks:
            return ""
        text: str = ngettext("across %(num)d planned break", "across %(num)d planned breaks",
                             self.breaks)
        return text


WEEKDAY_PLURALS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                   "Sundays")


def run_words(unit: str, count: int) -> str:
    """The run of ``count`` dates of ``unit`` ("Thursdays", "times"), whole and pluralized in
    the reader's language: one message per weekday, since languages inflect them apart."""
    words = {
        "Mondays": lambda n: ngettext("%(num)d Monday in a row", "%(num)d Mondays in a row", n),
        "Tuesdays": lambda n: ngettext("%(num)d Tuesday in a row", "%(num)d Tuesdays in a row",
                                       n),
        "Wednesdays": lambda n: ngettext("%(num)d Wednesday in a row",
                                         "%(num)d Wednesdays in a row", n),
        "Thursdays": lambda n: ngettext("%(num)d Thursday in a row",
                                        "%(num)d Thursdays in a row", n),
        "Fridays": lambda n: ngettext("%(num)d Friday in a row", "%(num)d Fridays in a row", n),
        "Saturdays": lambda n: ngettext("%(num)d Saturday in a row",
                                        "%(num)d Saturdays in a row", n),
        "Sundays": lambda n: ngettext("%(num)d Sunday in a row", "%(num)d Sundays in a row", n),
    }
    pick = words.get(unit)
    text: str = (
        pick(count) if pick is not None
        else ngettext("%(num)d time in a row", "%(num)d times in a row", count)
    )
    return text


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
