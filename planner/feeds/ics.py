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

The writer (:func:`to_ics`) exists because icalendar's own ``to_ical`` spends most of a large
feed's render in generic content-line handling; ours writes the same lines, escapes TEXT values
and folds at 75 octets without splitting a UTF-8 character. Plugins still get, and may change,
real ``icalendar.Event`` objects through the ``ical_event`` hook.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur
from icalendar.cal.component import Component
from icalendar.parser import Parameters
from icalendar.prop import (
    vCategory,
    vDDDTypes,
    vDuration,
    vInt,
    vText,
    vUri,
)

from planner.feeds.vtimezone import vtimezone
from planner.scheduling.recurrence import (
    Occurrence,
    Series,
    expand,
    localize,
    next_occurrences,
    produces,
)

log = logging.getLogger(__name__)

PRODID = "-//planner//planner feeds 1.0//EN"


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
    attendance_loader: Callable[[list[tuple[int, datetime]]], dict] | None = None
    # The personal feed's owner: their "maybe" or waitlisted answers become STATUS:TENTATIVE.
    viewer_id: int | None = None
    # Called as decorate(event=, occurrence=, routine=, attendance=): the ical_event hook.
    decorate: Callable[..., Any] | None = None
    _calendar: Calendar | None = field(default=None, repr=False)

    def calendar(self) -> Calendar:
        """The feed as an ``icalendar.Calendar``, built once per Feed."""
        if self._calendar is None:
            self._calendar = build_calendar(self)
        return self._calendar


# -- building -----------------------------------------------------------------------------------


def _dt(value: datetime, params: Parameters) -> vDDDTypes:
    """A ``vDDDTypes`` made without its generic type dispatch, which costs more than the rest
    of an event; the result is the same object ``vDDDTypes(value)`` gives (``dt``, ``params``).
    ``params`` may be shared: nothing mutates a property's parameters in place."""
    prop = object.__new__(vDDDTypes)
    prop.dt = value
    prop.params = params
    return prop


_NO_PARAMS = Parameters()
# Components are OrderedDicts with upper-case keys; our keys are upper-case already, so setting
# them directly skips icalendar's per-call key normalization (a tenth of a large render).
_put = OrderedDict.__setitem__


def _utc(naive_utc: datetime) -> vDDDTypes:
    return _dt(naive_utc.replace(tzinfo=UTC, microsecond=0), _NO_PARAMS)


class _Zone:
    """A routine's zone with its shared TZID parameter."""

    __slots__ = ("info", "params")

    def __init__(self, name: str):
        self.info = ZoneInfo(name)
        self.params = Parameters({"TZID": name})

    def local(self, naive: datetime) -> vDDDTypes:
        return _dt(naive.replace(tzinfo=self.info), self.params)

    def instant(self, aware: datetime) -> vDDDTypes:
        return _dt(aware.astimezone(self.info), self.params)


def _text_join(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


@dataclass
class _Shared:
    """Property values common to every VEVENT of one routine, built once and shared.

    Sharing is safe because nothing mutates a property value in place: plugins replace values
    (``event.pop``/``event.add``), and the writer memoizes a shared value's line.
    """

    uid: vText
    stamp: vDDDTypes
    summary: vText
    location: vText | None
    categories: vCategory | None
    confirmed: vText


def _shared(item: FeedRoutine, stamp: vDDDTypes) -> _Shared:
    return _Shared(
        uid=vText(item.uid),
        stamp=stamp,
        summary=vText(item.title),
        location=vText(item.location) if item.location else None,
        categories=vCategory(list(item.categories)) if item.categories else None,
        confirmed=vText("CONFIRMED"),
    )


def _master(
    item: FeedRoutine, shared: _Shared, zone: _Zone, first: datetime, exdates: list[datetime]
) -> Event:
    series = item.series
    event = Event()
    _put(event, "UID", shared.uid)
    _put(event, "DTSTAMP", shared.stamp)
    _put(event, "SEQUENCE", vInt(item.sequence))
    if item.modified:
        _put(event, "LAST-MODIFIED", _utc(item.modified))
    _put(event, "DTSTART", zone.local(first))
    # The exact end (through UTC): every instance keeps the master's exact duration
    # (RFC 5545 3.8.5.3), so a first occurrence across a DST change must not skew it.
    begins = localize(first, series.timezone).astimezone(UTC)
    _put(event, "DTEND", zone.instant(begins + series.duration))
    if series.rrule:
        _put(event, "RRULE", vRecur.from_ical(series.rrule))
    if exdates:
        _put(event, "EXDATE", [zone.local(ex) for ex in exdates])
    _put(event, "SUMMARY", shared.summary)
    if shared.location is not None:
        _put(event, "LOCATION", shared.location)
    _put(event, "DESCRIPTION", vText(_text_join(item.description, item.url)))
    _put(event, "URL", vUri(item.url))
    if shared.categories is not None:
        _put(event, "CATEGORIES", shared.categories)
    _put(event, "STATUS", shared.confirmed)
    return event


def _instance(
    item: FeedRoutine,
    shared: _Shared,
    occurrence: Occurrence,
    zone: _Zone,
    *,
    uid: vText,
    recurrence_id: bool,
) -> Event:
    event = Event()
    _put(event, "UID", uid)
    _put(event, "DTSTAMP", shared.stamp)
    _put(event, "SEQUENCE", vInt(item.sequence + occurrence.sequence))
    modified = item.occurrence_modified(occurrence)
    if modified:
        _put(event, "LAST-MODIFIED", _utc(modified))
    if recurrence_id:
        _put(event, "RECURRENCE-ID", zone.local(occurrence.original_start))
    _put(event, "DTSTART", zone.instant(occurrence.start))
    _put(event, "DTEND", zone.instant(occurrence.end))
    _put(event, "SUMMARY", vText(occurrence.title) if occurrence.title else shared.summary)
    if occurrence.location:
        _put(event, "LOCATION", vText(occurrence.location))
    elif shared.location is not None:
        _put(event, "LOCATION", shared.location)
    url = item.occurrence_url(occurrence)
    _put(event, "DESCRIPTION", vText(_text_join(occurrence.note, item.description, url)))
    _put(event, "URL", vUri(url))
    if shared.categories is not None:
        _put(event, "CATEGORIES", shared.categories)
    _put(event, "STATUS", vText("CANCELLED") if occurrence.is_cancelled else shared.confirmed)
    return event


def _decorate(feed: Feed, event: Event, occurrence, routine, attendance) -> None:
    if feed.decorate is None:
        return
    feed.decorate(event=event, occurrence=occurrence, routine=routine, attendance=attendance)


@dataclass
class _Plan:
    """What one series contributes, decided before any event is built."""

    item: FeedRoutine
    zone: _Zone
    exdates: list[datetime]
    changed: list[Occurrence]
    first: datetime  # the master's DTSTART: the rule's first occurrence
    skip: bool = False


def _overridden(series: Series) -> list[Occurrence]:
    """The occurrences that have an override and that the rule really produces.

    One ``expand`` over the span of all overrides (original and moved times) instead of one
    ``occurrence_at`` per override: a stale override (its time no longer produced by the rule)
    drops out, exactly as the app's pages ignore it.
    """
    if not series.overrides:
        return []
    times = [o.original_start for o in series.overrides]
    times += [o.start for o in series.overrides if o.start is not None]
    longest = max(
        [series.duration, timedelta(days=1)]
        + [o.duration for o in series.overrides if o.duration is not None]
    )
    lo = localize(min(times), series.timezone) - longest
    hi = localize(max(times), series.timezone) + longest
    keys = {o.original_start for o in series.overrides}
    return [o for o in expand(series, lo, hi) if o.original_start in keys]


def _plan(item: FeedRoutine, cutoff: datetime) -> _Plan:
    series = item.series
    plan = _Plan(item, _Zone(series.timezone), [], [], series.start)
    if series.rrule and not produces(series, series.start):
        # RFC 5545 counts DTSTART as the first instance even when the rule does not produce it
        # (19:00 on a Sunday with BYDAY=MO,TH); the app, like dateutil, does not. Start the
        # master at the rule's real first occurrence so every reader agrees.
        bare = replace(series, overrides=())
        found = next_occurrences(bare, localize(series.start, series.timezone), 1)
        if not found:
            plan.skip = True
            return plan
        plan.first = found[0].original_start
    for occurrence in _overridden(series):
        original_start = localize(occurrence.original_start, series.timezone)
        original_end = original_start.astimezone(UTC) + series.duration
        # Leave out what cannot show from the window on: the feed stays small for old groups.
        if max(occurrence.end, original_end) < cutoff and series.rrule:
            continue
        if occurrence.is_cancelled:
            plan.exdates.append(occurrence.original_start)
        else:
            plan.changed.append(occurrence)
    if not series.rrule and plan.exdates:
        # A cancelled one-off is left out: subscribers' calendars drop it on the next poll.
        plan.skip = True
    return plan


def _series_events(plan: _Plan, feed: Feed, attendance: dict, stamp, zones: dict) -> list:
    item, zone = plan.item, plan.zone
    series = item.series
    if plan.skip:
        return []
    shared = _shared(item, stamp)
    _note_zone(zones, series.timezone, plan.first.date())
    if not series.rrule and plan.changed:
        # A changed one-off is written as its changed self, under the series' UID.
        occurrence = plan.changed[0]
        event = _instance(item, shared, occurrence, zone, uid=shared.uid, recurrence_id=False)
        _decorate(feed, event, occurrence, item.routine, _attendance(attendance, item, occurrence))
        _note_zone(zones, series.timezone, occurrence.start.date())
        return [event]
    master = _master(item, shared, zone, plan.first, sorted(plan.exdates))
    _decorate(feed, master, None, item.routine, None)
    events = [master]
    for occurrence in plan.changed:
        event = _instance(item, shared, occurrence, zone, uid=shared.uid, recurrence_id=True)
        _decorate(feed, event, occurrence, item.routine, _attendance(attendance, item, occurrence))
        events.append(event)
        _note_zone(zones, series.timezone, occurrence.start.date())
    return events


class _LazyBatch:
    """Attendance for a feed's override VEVENTs, loaded in one batch when first needed.

    Most plugins look at a routine's activity type first and return; only when one of them
    really reads an attendance does the feed pay for loading all of them (a fixed few queries).
    """

    def __init__(self, loader: Callable[[list], dict] | None, keys: list):
        self.loader = loader
        self.keys = keys
        self.loaded: dict | None = None

    def get(self, key):
        if self.loaded is None:
            self.loaded = self.loader(self.keys) if (self.loader and self.keys) else {}
        return self.loaded.get(key)


class LazyAttendance:
    """Stands in for a :class:`planner.joining.answers.Attendance` handed to ``ical_event``: every
    attribute and method is the real one's, read on first use."""

    __slots__ = ("_batch", "_key")

    def __init__(self, batch: _LazyBatch, key: tuple[int, datetime]):
        self._batch = batch
        self._key = key

    def __getattr__(self, name: str):
        return getattr(self._batch.get(self._key), name)

    def __repr__(self) -> str:
        return f"LazyAttendance({self._batch.get(self._key)!r})"


def _attendance(batch: _LazyBatch, item: FeedRoutine, occurrence: Occurrence):
    if batch.loader is None:
        return None
    return LazyAttendance(batch, (item.routine.id, occurrence.original_start))


def _note_zone(zones: dict[str, date], name: str, first: date) -> None:
    known = zones.get(name)
    if known is None or first < known:
        zones[name] = first


def occurrence_uid(item: FeedRoutine, occurrence: Occurrence) -> str:
    """A standalone occurrence's UID: distinct from the series' UID, so importing it next to a
    subscribed group feed is never mistaken for (and never replaces) the series."""
    local, _, domain = item.uid.partition("@")
    return f"{local}-{occurrence.key}@{domain}"


def _standalone(standalone: FeedOccurrence, feed: Feed, stamp, zones: dict) -> Event:
    item, occurrence = standalone.routine, standalone.occurrence
    zone = _Zone(item.series.timezone)
    uid = vText(occurrence_uid(item, occurrence))
    event = _instance(item, _shared(item, stamp), occurrence, zone, uid=uid, recurrence_id=False)
    att = standalone.attendance
    tentative = att is not None and feed.viewer_id is not None and not occurrence.is_cancelled
    if tentative and att.status_of(feed.viewer_id) in ("maybe", "waitlisted"):
        event["STATUS"] = vText("TENTATIVE")
    _decorate(feed, event, occurrence, item.routine, att)
    _note_zone(zones, item.series.timezone, occurrence.start.date())
    return event


def build_calendar(feed: Feed) -> Calendar:
    """The feed as an ``icalendar.Calendar`` (VTIMEZONEs first, as Outlook prefers)."""
    cal = Calendar()
    cal["VERSION"] = vText("2.0")
    cal["PRODID"] = vText(PRODID)
    cal["CALSCALE"] = vText("GREGORIAN")
    cal["METHOD"] = vText("PUBLISH")
    cal["X-WR-CALNAME"] = vText(feed.name)
    cal["NAME"] = vText(feed.name)
    if feed.description:
        cal["X-WR-CALDESC"] = vText(feed.description)
    refresh = vDuration(timedelta(minutes=feed.refresh_minutes))
    refresh.params["VALUE"] = "DURATION"
    cal["REFRESH-INTERVAL"] = refresh
    cal["X-PUBLISHED-TTL"] = vDuration(timedelta(minutes=feed.refresh_minutes))
    if feed.url:
        cal["URL"] = vUri(feed.url)
    plans = [_plan(item, feed.window_start) for item in feed.routines]
    keys = [(p.item.routine.id, o.original_start) for p in plans for o in p.changed]
    attendance = _LazyBatch(feed.attendance_loader, keys)
    stamp = _dt(feed.stamp.astimezone(UTC).replace(microsecond=0), _NO_PARAMS)
    zones: dict[str, date] = {}
    events: list[Event] = []
    for plan in plans:
        events.extend(_series_events(plan, feed, attendance, stamp, zones))
    for standalone in feed.occurrences:
        events.append(_standalone(standalone, feed, stamp, zones))
    today = feed.stamp.date()
    for name in sorted(zones):
        cal.add_component(vtimezone(name, zones[name] - timedelta(days=1), today))
    for event in events:
        cal.add_component(event)
    return cal


# -- writing ------------------------------------------------------------------------------------

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": None})


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping (CR dropped: a CRLF newline becomes one ``\\n``)."""
    return value.replace("\r\n", "\n").translate(_TEXT_ESCAPES)


def fold(line: bytes) -> bytes:
    """Fold one content line at 75 octets, never inside a UTF-8 sequence; adds the CRLF."""
    if len(line) <= 75:
        return line + b"\r\n"
    parts: list[bytes] = []
    start, limit = 0, 75
    n = len(line)
    while n - start > limit:
        cut = start + limit
        while line[cut] & 0xC0 == 0x80:  # continuation byte: back up to the character start
            cut -= 1
        parts.append(line[start:cut])
        start, limit = cut, 74  # continuation lines begin with a space
    parts.append(line[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def _datetime_value(dt: datetime) -> str:
    text = f"{dt.year:04d}{dt.month:02d}{dt.day:02d}T{dt.hour:02d}{dt.minute:02d}{dt.second:02d}"
    tz = dt.tzinfo
    if tz is not None and (tz is UTC or getattr(tz, "key", "") in ("UTC", "Etc/UTC")):
        return text + "Z"
    return text


def _value(value: Any) -> str:
    kind = type(value)
    if kind is vText:
        return escape_text(str(value))
    if kind is vDDDTypes and type(value.dt) is datetime:
        return _datetime_value(value.dt)
    if kind is vInt:
        return str(int(value))
    if kind is vUri:
        return str(value)
    if not hasattr(value, "to_ical"):
        return escape_text(str(value))
    out = value.to_ical()
    return out.decode("utf-8") if isinstance(out, bytes) else out


def _params(value: Any, memo: dict) -> str:
    params = getattr(value, "params", None)
    if not params:
        return ""
    key = id(params)  # shared per zone (see _Zone), so usually formatted once per render
    text = memo.get(key)
    if text is None:
        text = memo[key] = _format_params(params)
    return text


def _format_params(params: Parameters) -> str:
    if len(params) == 1 and "TZID" in params:
        tzid = params["TZID"]
        if isinstance(tzid, str) and not any(c in tzid for c in ';:,"'):
            return ";TZID=" + tzid
    out = params.to_ical(sorted=False)
    out = out.decode("utf-8") if isinstance(out, bytes) else out
    return ";" + out if out else ""


def _write(component: Component, out: list[bytes], memo: dict) -> None:
    out.append(b"BEGIN:" + component.name.encode() + b"\r\n")
    for name, values in component.items():
        for value in values if isinstance(values, list) else (values,):
            key = (name, id(value))
            line = memo.get(key)
            if line is None:
                head = name + _params(value, memo)
                line = memo[key] = fold(f"{head}:{_value(value)}".encode())
            out.append(line)
    for sub in component.subcomponents:
        _write(sub, out, memo)
    out.append(b"END:" + component.name.encode() + b"\r\n")


def to_ics(component: Component) -> bytes:
    """Serialize a calendar (or any component) as RFC 5545 bytes with CRLF line ends.

    Values shared between events (see ``_Shared``) are formatted once per call; the memo lives
    only as long as the call, while every value it is keyed on is alive in ``component``.
    """
    out: list[bytes] = []
    _write(component, out, {})
    return b"".join(out)


def to_jcal(component: Component) -> list:
    """RFC 7265 jCal (a JSON-ready list) through icalendar's own converter."""
    return component.to_jcal()


def formats_from(results: Iterable[Iterable[CalendarFormat] | None]) -> dict[str, CalendarFormat]:
    """Merge ``register_calendar_formats`` results; the first plugin to claim a key keeps it."""
    formats: dict[str, CalendarFormat] = {}
    for returned in results:
        for fmt in returned or ():
            if not isinstance(fmt, CalendarFormat):
                raise TypeError(f"{fmt!r} is not a planner.feeds.ics.CalendarFormat")
            formats.setdefault(fmt.key, fmt)
    return formats
