"""What a feed holds, read from the database once (:mod:`planner.feeds.sources`), so that a
:class:`planner.feeds.ics.CalendarFormat` can render it without a single lazy load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from planner.scheduling.recurrence import Occurrence, Series

if TYPE_CHECKING:
    from icalendar import Calendar

    from planner.joining.attendance import Attendance

#: (routine id, original start): the key attendance is loaded and looked up by.
AttendanceKey = tuple[int, datetime]
AttendanceLoader = Callable[[list[AttendanceKey]], "dict[AttendanceKey, Attendance]"]


@dataclass
class FeedRoutine:
    """A routine as a feed needs it: read once from the database, no lazy loads after."""

    routine: Any  # planner.models.Routine, read-only; handed to plugins
    series: Series  # overrides already trimmed to the feed's window
    uid: str
    title: str
    description: str  # organizer's text plus the activity type's describe()
    location: str
    url: str  # the routine page; an occurrence's page is url + "/" + key
    categories: tuple[str, ...] = ()
    sequence: int = 0
    created: datetime | None = None  # naive UTC
    modified: datetime | None = None  # naive UTC
    # original_start -> (override sequence, override updated_at naive UTC)
    override_meta: dict[datetime, tuple[int, datetime]] = field(default_factory=dict)

    def occurrence_url(self, occurrence: Occurrence) -> str:
        return f"{self.url}/{occurrence.key}"

    def occurrence_modified(self, occurrence: Occurrence) -> datetime | None:
        meta = self.override_meta.get(occurrence.original_start)
        if meta is None:
            return self.modified
        return max(filter(None, (self.modified, meta[1])))


@dataclass
class FeedOccurrence:
    """One occurrence written as its own VEVENT (personal feed, "add to calendar")."""

    routine: FeedRoutine
    occurrence: Occurrence
    attendance: Any = None  # planner.joining.answers.Attendance


@dataclass
class Feed:
    """Everything a :class:`CalendarFormat` needs; formats must not query the database.

    ``routines`` become recurring series (group and routine feeds); ``occurrences`` become
    standalone VEVENTs (personal feed, single occurrence). ``window_start`` bounds what is
    listed: overrides and one-offs that ended before it are left out, which keeps a years-old
    group's feed small (Google drops feeds over 1 MB whole).
    """

    name: str
    window_start: datetime  # aware UTC
    routines: list[FeedRoutine] = field(default_factory=list)
    occurrences: list[FeedOccurrence] = field(default_factory=list)
    description: str = ""
    url: str = ""
    refresh_minutes: int = 360
    stamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Loads {(routine_id, original_start): Attendance} for the override VEVENTs of series.
    attendance_loader: AttendanceLoader | None = None
    # The personal feed's owner: their "maybe" or waitlisted answers become STATUS:TENTATIVE.
    viewer_id: int | None = None
    # Called as decorate(event=, occurrence=, routine=, attendance=): the ical_event hook.
    decorate: Callable[..., Any] | None = None
    # decorates(routine): whether ``decorate`` may change that routine's events at all; the
    # others are written without an ``icalendar`` object or a hook call. None: assume it may.
    decorates: Callable[[Any], bool] | None = None
    _calendar: Calendar | None = field(default=None, repr=False)

    def calendar(self) -> Calendar:
        """The feed as an ``icalendar.Calendar``, built once per Feed."""
        if self._calendar is None:
            from planner.feeds.build import build_calendar  # build imports this module

            self._calendar = build_calendar(self)
        return self._calendar

    @property
    def built_calendar(self) -> Calendar | None:
        """The calendar if :meth:`calendar` built it already, else None."""
        return self._calendar

    def ics(self) -> bytes:
        """The feed as RFC 5545 bytes, written without building a whole ``icalendar.Calendar``
        when none was built yet (:func:`planner.feeds.build.render_ics`). Nothing is kept:
        each call builds (and has plugins decorate) afresh; one format renders one Feed."""
        from planner.feeds.build import render_ics  # build imports this module

        return render_ics(self)
