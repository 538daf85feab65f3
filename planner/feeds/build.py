"""A :class:`Feed` (what a feed holds, read from the database once) as ``icalendar`` objects.

The components are real ``icalendar.Event`` objects because plugins get, and may change, them
through the ``ical_event`` hook; :mod:`planner.feeds.writer` turns them into bytes. The
choices clients force on the shape of those events are listed in :mod:`planner.feeds.ics`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur
from icalendar.parser import Parameters
from icalendar.prop import (
    vCategory,
    vDDDTypes,
    vDuration,
    vInt,
    vText,
    vUri,
)

from planner.feeds.model import AttendanceKey, AttendanceLoader, Feed, FeedOccurrence, FeedRoutine
from planner.feeds.vtimezone import vtimezone
from planner.scheduling.recurrence import (
    Occurrence,
    Series,
    expand,
    localize,
    next_occurrences,
    produces,
)

if TYPE_CHECKING:
    from planner.joining.attendance import Attendance

log = logging.getLogger(__name__)

PRODID = "-//planner//planner feeds 1.0//EN"


def _dt(value: datetime, params: Parameters) -> vDDDTypes:
    """A ``vDDDTypes`` made without its generic type dispatch, which costs more than the rest
    of an event; the result is the same object ``vDDDTypes(value)`` gives (``dt``, ``params``).
    ``params`` may be shared: nothing mutates a property's parameters in place."""
    prop = object.__new__(vDDDTypes)
    prop.dt = value
    prop.params = params
    return prop


_NO_PARAMS = Parameters()
# Zones whose times the writer writes in UTC (``...Z``): see writer._datetime_value.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})
# Components are OrderedDicts with upper-case keys; our keys are upper-case already, so setting
# them directly skips icalendar's per-call key normalization (a tenth of a large render).
_put = OrderedDict.__setitem__


def _utc(naive_utc: datetime) -> vDDDTypes:
    return _dt(naive_utc.replace(tzinfo=UTC, microsecond=0), _NO_PARAMS)


class _Zone:
    """A routine's zone with its shared TZID parameter.

    A routine in UTC gets none: its times are written with ``Z``, and RFC 5545 forbids TZID on
    a UTC time (Google rejects ``DTSTART;TZID=Etc/UTC:...Z``).
    """

    __slots__ = ("info", "params")

    def __init__(self, name: str):
        self.info = ZoneInfo(name)
        self.params = _NO_PARAMS if name in _UTC_NAMES else Parameters({"TZID": name})

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


def _decorate(
    feed: Feed, event: Event, occurrence: Occurrence | None, routine: Any, attendance: Any
) -> None:
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


def _series_events(
    plan: _Plan, feed: Feed, attendance: _LazyBatch, stamp: vDDDTypes, zones: dict[str, date]
) -> list[Event]:
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

    def __init__(self, loader: AttendanceLoader | None, keys: list[AttendanceKey]):
        self.loader = loader
        self.keys = keys
        self.loaded: dict[AttendanceKey, Attendance] | None = None

    def get(self, key: AttendanceKey) -> Attendance | None:
        if self.loaded is None:
            self.loaded = self.loader(self.keys) if (self.loader and self.keys) else {}
        return self.loaded.get(key)


class LazyAttendance:
    """Stands in for a :class:`planner.joining.answers.Attendance` handed to ``ical_event``: every
    attribute and method is the real one's, read on first use."""

    __slots__ = ("_batch", "_key")

    def __init__(self, batch: _LazyBatch, key: AttendanceKey):
        self._batch = batch
        self._key = key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch.get(self._key), name)

    def __repr__(self) -> str:
        return f"LazyAttendance({self._batch.get(self._key)!r})"


def _attendance(
    batch: _LazyBatch, item: FeedRoutine, occurrence: Occurrence
) -> LazyAttendance | None:
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


def _standalone(
    standalone: FeedOccurrence, feed: Feed, stamp: vDDDTypes, zones: dict[str, date]
) -> Event:
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
