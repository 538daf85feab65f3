"""A :class:`Feed` (what a feed holds, read from the database once) as VEVENTs.

Plugins get, and may change, real ``icalendar.Event`` objects through the ``ical_event`` hook,
and :meth:`Feed.calendar` (jCal, tests) is an ``icalendar.Calendar``. Building some five hundred
such objects and walking them back into bytes was most of a cold render, so every VEVENT is
first built as plain values (:data:`planner.feeds.writer.Props`). An event that a plugin may
decorate becomes an ``Event`` before the hook sees it; :func:`render_ics` writes every other one
straight from its plain values, in the same bytes ``to_ics`` writes for the ``Event``
(``tests/test_ics_writer.py`` pins both). The choices clients force on the shape of the events
are listed in :mod:`planner.feeds.ics`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur
from icalendar.cal.component import Component
from icalendar.parser import Parameters
from icalendar.prop import vCategory, vDDDTypes, vDuration, vInt, vText, vUri

from planner.feeds.model import AttendanceKey, AttendanceLoader, Feed, FeedOccurrence, FeedRoutine
from planner.feeds.vtimezone import vtimezone
from planner.feeds.writer import (
    Props,
    Recur,
    Uri,
    new_memo,
    to_ics,
    write,
    write_props,
    zone_params,
)
from planner.scheduling.recurrence import (
    Occurrence,
    instant,
    localize,
    next_occurrences,
    overridden,
    produces,
)

if TYPE_CHECKING:
    from planner.joining.attendance import Attendance

log = logging.getLogger(__name__)

PRODID = "-//planner//planner feeds 1.0//EN"

# Components are OrderedDicts with upper-case keys; our keys are upper-case already, so setting
# them directly skips icalendar's per-call key normalization (a tenth of a large render).
_put = OrderedDict.__setitem__


def _dt(value: datetime, params: Parameters) -> vDDDTypes:
    """A ``vDDDTypes`` made without its generic type dispatch, which costs more than the rest
    of an event; the result is the same object ``vDDDTypes(value)`` gives (``dt``, ``params``)."""
    prop = object.__new__(vDDDTypes)
    prop.dt = value
    prop.params = params
    return prop


def _ical(value: Any) -> Any:
    """The ``icalendar`` property for one plain value (see :data:`Props`)."""
    kind = type(value)
    if kind is str:
        return vText(value)
    if kind is datetime:
        return _dt(value, zone_params(value.tzinfo))
    if kind is int:
        return vInt(value)
    if kind is Uri:
        return vUri(str(value))
    if kind is Recur:
        return vRecur.from_ical(str(value))
    if kind is tuple:
        return vCategory(list(value))
    if kind is list:
        return [_ical(v) for v in value]
    return value  # an icalendar property already


def _fill(component: Component, props: Props) -> Component:
    for name, value in props:
        _put(component, name, _ical(value))
    return component


def to_event(props: Props) -> Event:
    """The ``icalendar.Event`` of one plain VEVENT: what plugins and :meth:`Feed.calendar` get."""
    event = _fill(Event(), props)
    assert isinstance(event, Event)
    return event


def _utc(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC, microsecond=0)


def _text_join(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


@dataclass
class _Shared:
    """Values common to every VEVENT of one routine, made once: the writer formats a value it
    has seen (the same object) once per render."""

    uid: str
    stamp: datetime
    summary: str
    location: str | None
    categories: tuple[str, ...] | None
    zone: ZoneInfo


_CONFIRMED = "CONFIRMED"


def _shared(item: FeedRoutine, stamp: datetime) -> _Shared:
    return _Shared(
        uid=item.uid,
        stamp=stamp,
        summary=item.title,
        location=item.location or None,
        categories=tuple(item.categories) if item.categories else None,
        zone=ZoneInfo(item.series.timezone),
    )


def _master(item: FeedRoutine, shared: _Shared, first: datetime, exdates: list[datetime]) -> Props:
    series, zone = item.series, shared.zone
    props: Props = [
        ("UID", shared.uid),
        ("DTSTAMP", shared.stamp),
        ("SEQUENCE", item.sequence),
    ]
    if item.modified:
        props.append(("LAST-MODIFIED", _utc(item.modified)))
    # The exact end (through UTC): every instance keeps the master's exact duration
    # (RFC 5545 3.8.5.3), so a first occurrence across a DST change must not skew it.
    begins = instant(first, series.timezone)
    props += [
        ("DTSTART", first.replace(tzinfo=zone)),
        ("DTEND", (begins + series.duration).astimezone(zone)),
    ]
    if series.rrule:
        props.append(("RRULE", Recur(series.rrule)))
    if exdates:
        props.append(("EXDATE", [ex.replace(tzinfo=zone) for ex in exdates]))
    props.append(("SUMMARY", shared.summary))
    if shared.location is not None:
        props.append(("LOCATION", shared.location))
    props += [
        ("DESCRIPTION", _text_join(item.description, item.url)),
        ("URL", Uri(item.url)),
    ]
    if shared.categories is not None:
        props.append(("CATEGORIES", shared.categories))
    props.append(("STATUS", _CONFIRMED))
    return props


def _instance(
    item: FeedRoutine,
    shared: _Shared,
    occurrence: Occurrence,
    *,
    uid: str,
    recurrence_id: bool,
    status: str | None = None,
) -> Props:
    zone = shared.zone
    props: Props = [
        ("UID", uid),
        ("DTSTAMP", shared.stamp),
        ("SEQUENCE", item.sequence + occurrence.sequence),
    ]
    modified = item.occurrence_modified(occurrence)
    if modified:
        props.append(("LAST-MODIFIED", _utc(modified)))
    if recurrence_id:
        props.append(("RECURRENCE-ID", occurrence.original_start.replace(tzinfo=zone)))
    props += [
        ("DTSTART", occurrence.start.astimezone(zone)),
        ("DTEND", occurrence.end.astimezone(zone)),
        ("SUMMARY", occurrence.title or shared.summary),
    ]
    if occurrence.location:
        props.append(("LOCATION", occurrence.location))
    elif shared.location is not None:
        props.append(("LOCATION", shared.location))
    url = item.occurrence_url(occurrence)
    props += [
        ("DESCRIPTION", _text_join(occurrence.note, item.description, url)),
        ("URL", Uri(url)),
    ]
    if shared.categories is not None:
        props.append(("CATEGORIES", shared.categories))
    if status is None:
        status = "CANCELLED" if occurrence.is_cancelled else _CONFIRMED
    props.append(("STATUS", status))
    return props


#: A built VEVENT: plain values, or an ``Event`` once a plugin may have changed it.
Built = Props | Event


class _Decorator:
    """Hands VEVENTs to the ``ical_event`` hook, and only those a plugin may change.

    Most routines' activity types have no ``ical_event`` and most installations have no
    cross-cutting one (``Feed.decorates`` says so per routine); their events stay plain and
    cost no hook call. Every other event becomes an ``Event`` and is decorated exactly as
    before.
    """

    def __init__(self, feed: Feed):
        self.decorate = feed.decorate
        self.decorates = feed.decorates
        self.known: dict[int, bool] = {}

    def wanted(self, routine: Any) -> bool:
        if self.decorate is None:
            return False
        if self.decorates is None:
            return True
        key = id(routine)  # routines are alive in the feed for the whole build
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = bool(self.decorates(routine))
        return found

    def __call__(
        self, props: Props, occurrence: Occurrence | None, routine: Any, attendance: Any
    ) -> Built:
        if self.decorate is None or not self.wanted(routine):
            return props
        event = to_event(props)
        self.decorate(event=event, occurrence=occurrence, routine=routine, attendance=attendance)
        return event

    def changed(
        self, props: Props, item: FeedRoutine, occurrence: Occurrence, batch: _LazyBatch
    ) -> Built:
        """A changed occurrence's VEVENT; its lazy attendance is made only if it is decorated
        (thousands of them per feed, for nothing, when no plugin reads one)."""
        if self.decorate is None or not self.wanted(item.routine):
            return props
        return self(props, occurrence, item.routine, _attendance(batch, item, occurrence))


@dataclass
class _Plan:
    """What one series contributes, decided before any event is built."""

    item: FeedRoutine
    exdates: list[datetime]
    changed: list[Occurrence]
    first: datetime  # the master's DTSTART: the rule's first occurrence
    skip: bool = False


def _plan(item: FeedRoutine, cutoff: datetime) -> _Plan:
    series = item.series
    plan = _Plan(item, [], [], series.start)
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
    for occurrence in overridden(series):
        # Leave out what cannot show from the window on (it ended, where it was moved to and
        # where it was first planned): the feed stays small for old groups. Its first place is
        # worked out only for what ended, not for every upcoming override.
        if (
            series.rrule
            and occurrence.end < cutoff
            and instant(occurrence.original_start, series.timezone) + series.duration < cutoff
        ):
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
    plan: _Plan,
    decorate: _Decorator,
    attendance: _LazyBatch,
    stamp: datetime,
    zones: dict[str, date],
) -> list[Built]:
    item = plan.item
    series = item.series
    if plan.skip:
        return []
    shared = _shared(item, stamp)
    _note_zone(zones, series.timezone, plan.first.date())
    if not series.rrule and plan.changed:
        # A changed one-off is written as its changed self, under the series' UID.
        occurrence = plan.changed[0]
        props = _instance(item, shared, occurrence, uid=shared.uid, recurrence_id=False)
        _note_zone(zones, series.timezone, occurrence.start.date())
        return [decorate.changed(props, item, occurrence, attendance)]
    master = _master(item, shared, plan.first, sorted(plan.exdates))
    events = [decorate(master, None, item.routine, None)]
    for occurrence in plan.changed:
        props = _instance(item, shared, occurrence, uid=shared.uid, recurrence_id=True)
        events.append(decorate.changed(props, item, occurrence, attendance))
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
    standalone: FeedOccurrence, decorate: _Decorator, viewer_id: int | None, stamp: datetime,
    zones: dict[str, date],
) -> Built:
    item, occurrence = standalone.routine, standalone.occurrence
    uid = occurrence_uid(item, occurrence)
    att = standalone.attendance
    tentative = att is not None and viewer_id is not None and not occurrence.is_cancelled
    maybe = tentative and att.status_of(viewer_id) in ("maybe", "waitlisted")
    status = "TENTATIVE" if maybe else None
    props = _instance(
        item, _shared(item, stamp), occurrence, uid=uid, recurrence_id=False, status=status
    )
    _note_zone(zones, item.series.timezone, occurrence.start.date())
    return decorate(props, occurrence, item.routine, att)


def _header(feed: Feed) -> Props:
    refresh = vDuration(timedelta(minutes=feed.refresh_minutes))
    refresh.params["VALUE"] = "DURATION"
    props: Props = [
        ("VERSION", "2.0"),
        ("PRODID", PRODID),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("X-WR-CALNAME", feed.name),
        ("NAME", feed.name),
    ]
    if feed.description:
        props.append(("X-WR-CALDESC", feed.description))
    props += [
        ("REFRESH-INTERVAL", refresh),
        ("X-PUBLISHED-TTL", vDuration(timedelta(minutes=feed.refresh_minutes))),
    ]
    if feed.url:
        props.append(("URL", Uri(feed.url)))
    return props


@dataclass
class _Built:
    """A feed's calendar before it is written: its own properties, VTIMEZONEs, VEVENTs."""

    header: Props
    timezones: list[Component]
    events: list[Built]


def _build(feed: Feed) -> _Built:
    plans = [_plan(item, feed.window_start) for item in feed.routines]
    keys = [(p.item.routine.id, o.original_start) for p in plans for o in p.changed]
    attendance = _LazyBatch(feed.attendance_loader, keys)
    decorate = _Decorator(feed)
    stamp = feed.stamp.astimezone(UTC).replace(microsecond=0)
    zones: dict[str, date] = {}
    events: list[Built] = []
    for plan in plans:
        events.extend(_series_events(plan, decorate, attendance, stamp, zones))
    for standalone in feed.occurrences:
        events.append(_standalone(standalone, decorate, feed.viewer_id, stamp, zones))
    today = feed.stamp.date()
    timezones: list[Component] = [
        vtimezone(name, zones[name] - timedelta(days=1), today) for name in sorted(zones)
    ]
    return _Built(_header(feed), timezones, events)


def build_calendar(feed: Feed) -> Calendar:
    """The feed as an ``icalendar.Calendar`` (VTIMEZONEs first, as Outlook prefers)."""
    built = _build(feed)
    cal = _fill(Calendar(), built.header)
    assert isinstance(cal, Calendar)
    for component in built.timezones:
        cal.add_component(component)
    for event in built.events:
        cal.add_component(event if isinstance(event, Event) else to_event(event))
    return cal


def render_ics(feed: Feed) -> bytes:
    """The feed as RFC 5545 bytes: the bytes ``to_ics(build_calendar(feed))`` gives, written
    without building ``icalendar`` objects for the events no plugin decorates.

    A feed whose :meth:`Feed.calendar` was already built is written from that calendar, so a
    caller that changed it sees its change, and plugins decorate each event once.
    """
    if feed.built_calendar is not None:
        return to_ics(feed.built_calendar)
    built = _build(feed)
    out: list[bytes] = []
    memo = new_memo()
    write_props(b"VCALENDAR", built.header, out, memo)
    end = out.pop()  # END:VCALENDAR goes after the components
    for component in built.timezones:
        write(component, out, memo)
    for event in built.events:
        if isinstance(event, Event):
            write(event, out, memo)
        else:
            write_props(b"VEVENT", event, out, memo)
    out.append(end)
    return b"".join(out)

