"""A stored routine as a pure :class:`~planner.scheduling.recurrence.Series`, and the date math
its exceptions need (is a time already taken, where did the old series last run).

Duck-typed on purpose: the rows are described by :class:`RoutineLike` and :class:`OverrideLike`
rather than imported, so this room stays free of SQLAlchemy and Flask and every caller (pages,
feeds, answers) builds a series the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from dateutil.rrule import rrulestr

from planner.enums import OverrideStatus
from planner.scheduling import recurrence
from planner.scheduling.catalog import N_, render
from planner.scheduling.words import At, PaddedDay

# Naive local times differ from UTC by at most 14 hours; a day's margin on each side of a window
# keeps the database filter on naive local columns safe for every zone.
ZONE_MARGIN = timedelta(days=1)


class OverrideLike(Protocol):
    """What is read of one override row."""

    @property
    def original_start(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def duration_minutes(self) -> int | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def sequence(self) -> int: ...


class RoutineLike(Protocol):
    """What is read of one routine row (its loaded overrides included)."""

    @property
    def start(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def duration(self) -> timedelta: ...
    @property
    def rrule(self) -> str: ...
    @property
    def overrides(self) -> Sequence[OverrideLike]: ...


def override_data(override: OverrideLike) -> recurrence.OverrideData:
    return recurrence.OverrideData(
        original_start=override.original_start,
        status=override.status,
        start=override.start,
        duration=(
            timedelta(minutes=override.duration_minutes)
            if override.duration_minutes is not None
            else None
        ),
        location=override.location,
        title=override.title,
        note=override.note,
        sequence=override.sequence,
    )


def series_of(
    routine: RoutineLike,
    overrides: Sequence[OverrideLike] | None = None,
    *,
    data: Sequence[recurrence.OverrideData] | None = None,
) -> recurrence.Series:
    """The pure series of a routine: with ``data`` (overrides already made pure, as a feed
    does from plain rows), else from ``overrides`` or the routine's loaded ones."""
    if data is None:
        rows = routine.overrides if overrides is None else overrides
        data = [override_data(o) for o in rows]
    return recurrence.Series(
        start=routine.start,
        timezone=routine.timezone,
        duration=routine.duration,
        rrule=routine.rrule or "",
        overrides=tuple(data),
    )


def clash(
    routine: RoutineLike, original_start: datetime, new_start: datetime, *, locale: str = "en_GB"
) -> str | None:
    """Why ``new_start`` is taken by another occurrence of the same series, or None.

    Two occurrences at one time would be one event twice in every calendar, and the other's
    key (its RECURRENCE-ID) would become ambiguous.
    """
    if new_start == original_start:
        return None
    if recurrence.produces(series_of(routine), new_start):
        return render(
            N_(
                "Another occurrence of this routine is already on %(date)s %(at)s. Choose another "
                "time, or cancel that one and change this one's note instead."
            ),
            {"date": PaddedDay(new_start.date()), "at": At(new_start)},
            locale,
        )
    for other in routine.overrides:
        if (
            other.original_start != original_start
            and other.start == new_start
            and other.status == OverrideStatus.CHANGED
        ):
            return render(
                N_(
                    "Another occurrence of this routine was already moved to %(date)s %(at)s. "
                    "Choose another time."
                ),
                {"date": PaddedDay(new_start.date()), "at": At(new_start)},
                locale,
            )
    return None


def last_before(series: recurrence.Series, at: datetime) -> datetime:
    """The series' last start before ``at``: looked for in growing windows, so a daily
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


# Counting stops here: about 19 years of a daily routine; turns past it repeat harmlessly.
MAX_COUNT = 7000
_UNTIL = re.compile(r"(^|;)UNTIL=[^;]*", re.IGNORECASE)


def occurrence_number(routine: Any, original_start: datetime) -> int:
    """How many occurrences the routine's rule produces before ``original_start`` (0 for the
    first). Rotations (whose turn it is to host) use it, so the turn follows the schedule and
    not the calendar: a fortnightly dinner passes the turn on every other week.

    Cancelled occurrences still count, so cancelling one does not reshuffle every later turn.
    """
    rule_text = (routine.rrule or "").strip()
    if not rule_text or original_start <= routine.start:
        return 0
    # Only starts before original_start matter, and original_start is itself produced, so UNTIL
    # (stored in UTC, which dateutil refuses next to a naive start) can be dropped.
    rule_text = _UNTIL.sub("", rule_text).strip(";")
    rule = rrulestr(f"RRULE:{rule_text}", dtstart=routine.start)
    count = 0
    for start in rule:
        if start >= original_start or count >= MAX_COUNT:
            break
        count += 1
    return count
