"""Routines and their overrides as ``icalendar`` objects, and a fast RFC 5545 writer for them.

What a feed holds is described by a :class:`Feed` (built from the database by
:mod:`planner.feeds.sources`); a :class:`CalendarFormat` turns one into bytes. The built-in
``ical`` plugin registers ``ics`` and ``jcal`` on top of :meth:`Feed.calendar`.

Choices that clients force on us (DESIGN.md §5, docs/feeds.md):

* one master VEVENT per routine, ``DTSTART;TZID=`` local wall time, ``RRULE`` with ``UNTIL`` in
  UTC, one ``VTIMEZONE`` per TZID (:mod:`planner.feeds.vtimezone`, RRULE-style and cached);
* a cancelled occurrence is an ``EXDATE`` with the same TZID and local time as ``DTSTART``,
  one per line (Apple ignores UTC EXDATEs; Outlook shows a ``STATUS:CANCELLED`` instance as a
  normal event);
* a changed occurrence is a VEVENT with the same UID and a ``RECURRENCE-ID``;
* ``SEQUENCE`` of an occurrence VEVENT is the routine's plus the override's, so an edit of
  either raises it (Google only updates an event whose SEQUENCE or LAST-MODIFIED changed).

The pieces: :mod:`planner.feeds.model` (what a feed holds), :mod:`planner.feeds.build` (those
choices, as real ``icalendar`` objects that plugins may change through the ``ical_event`` hook)
and :mod:`planner.feeds.writer` (a fast RFC 5545 writer for them). This module is the public
face plugins import from; the format registry lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from planner.feeds.build import PRODID, LazyAttendance, build_calendar, occurrence_uid
from planner.feeds.model import Feed, FeedOccurrence, FeedRoutine
from planner.feeds.writer import escape_text, fold, to_ics, to_jcal

# The names plugins and views import from here (docs/feeds.md, docs/plugins.md).
__all__ = [
    "PRODID",
    "CalendarFormat",
    "Feed",
    "FeedOccurrence",
    "FeedRoutine",
    "LazyAttendance",
    "build_calendar",
    "escape_text",
    "fold",
    "formats_from",
    "occurrence_uid",
    "to_ics",
    "to_jcal",
]


@dataclass(frozen=True)
class CalendarFormat:
    """One way of serializing a :class:`Feed`; registered via ``register_calendar_formats``.

    ``key`` is also the URL suffix (``/feeds/g/<slug>.ics``), so keep it short and unique.
    """

    key: str
    media_type: str
    extension: str
    render: Callable[[Feed], bytes]
    label: str = ""


def formats_from(results: Iterable[Iterable[CalendarFormat] | None]) -> dict[str, CalendarFormat]:
    """Merge ``register_calendar_formats`` results; the first plugin to claim a key keeps it."""
    formats: dict[str, CalendarFormat] = {}
    for returned in results:
        for fmt in returned or ():
            if not isinstance(fmt, CalendarFormat):
                raise TypeError(f"{fmt!r} is not a planner.feeds.ics.CalendarFormat")
            formats.setdefault(fmt.key, fmt)
    return formats
