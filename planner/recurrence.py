"""Pure recurrence: expand a series into occurrences in a window and apply overrides.

CONTRACT STUB (implemented by the routines/recurrence work): signatures below are fixed.
No Flask, no database: only dateutil and zoneinfo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

KEY_FORMAT = "%Y%m%dT%H%M"


class RecurrenceError(ValueError):
    """A rule or series that cannot be used; ``str(error)`` is a message for the person."""


@dataclass(frozen=True)
class OverrideData:
    original_start: datetime  # naive local: the RECURRENCE-ID
    status: str  # "cancelled" | "changed"
    start: datetime | None = None  # naive local new start
    duration: timedelta | None = None
    location: str | None = None
    title: str | None = None
    note: str | None = None
    sequence: int = 0


@dataclass(frozen=True)
class Series:
    start: datetime  # naive local wall-clock
    timezone: str  # IANA zone name
    duration: timedelta
    rrule: str = ""  # RRULE value without "RRULE:"; "" = one-off; UNTIL in UTC ("...Z")
    overrides: tuple[OverrideData, ...] = ()


@dataclass(frozen=True)
class Occurrence:
    original_start: datetime  # naive local: the key
    start: datetime  # aware, in the series zone, after any override
    end: datetime  # aware
    status: str  # "scheduled" | "changed" | "cancelled"
    title: str | None = None  # override values; None when not overridden
    location: str | None = None
    note: str | None = None
    sequence: int = 0

    @property
    def key(self) -> str:
        return self.original_start.strftime(KEY_FORMAT)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"


def expand(series: Series, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences overlapping the aware half-open window ``[start, end)``, in start order."""
    raise NotImplementedError


def occurrence_at(series: Series, original_start: datetime) -> Occurrence | None:
    """The occurrence whose key is ``original_start``, or None if the series never produces it."""
    raise NotImplementedError
