"""VTIMEZONE components written as yearly RRULEs, built from the tz database and cached.

Why not icalendar's ``Timezone.from_tzinfo``: it lists every transition from 1970 to 2038 as
multi-valued RDATEs. ical.js 2.2 (inside Thunderbird, Nextcloud, FullCalendar) reads only the
first value of such an RDATE, so summer times of later years come out an hour off; it is also
slow (its own docs ask callers to cache it). Google, Apple and Thunderbird emit RRULE-style
observances instead, which every parser we test reads right. This module does the same:

* it finds the zone's UTC-offset transitions with :mod:`zoneinfo` from a year before the feed's
  first date up to a few years past today;
* consecutive yearly transitions that follow one rule ("last Sunday of March, 02:00") become one
  observance with ``RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..``; the rule in force today is left
  open-ended, so the component stays right for every future year; an older rule ends with an
  ``UNTIL`` in UTC;
* an irregular transition becomes its own observance with a single ``DTSTART`` (never a
  multi-valued RDATE).

Results are cached per (zone, first year, current year): a feed render never rebuilds a zone.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SCAN_STEP = timedelta(hours=12)
# ("weekday", month, weekday, nth) | ("monthday", month, day) | ("onorafter", month, weekday, day)
RuleKey = tuple[Any, ...]
# Far enough past today that the rule in force now is seen repeating for several years.
HORIZON_YEARS = 4
# Years past the horizon against which an open-ended rule is checked before it is trusted.
CHECK_YEARS = 10


@dataclass(frozen=True)
class Transition:
    """One change of UTC offset; ``onset`` is the local wall time just before it happened."""

    at: datetime  # aware UTC
    offset_from: timedelta
    offset_to: timedelta
    dst: bool
    name: str
    offset_from_dst: bool = False  # whether the time before the change was daylight time

    @property
    def onset(self) -> datetime:
        """Naive local time of the change in the offset before it (RFC 5545 DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def kind(self) -> tuple[object, ...]:
        """Transitions that can share one observance must agree on all of this."""
        return (self.dst, self.offset_from, self.offset_to, self.name, self.onset.time())


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    return moment.astimezone(tz).utcoffset() or timedelta(0)


def transitions(zone: str, first: datetime, last: datetime) -> list[Transition]:
    """Offset changes of ``zone`` between two aware UTC instants, found by scanning.

    A 12-hour step finds every change the tz database has had since 1970 (none are closer
    together); each is then pinned to the second by bisection.
    """
    tz = ZoneInfo(zone)
    found: list[Transition] = []
    t = first
    before = _offset(t, tz)
    while t < last:
        nxt = min(t + SCAN_STEP, last)
        after = _offset(nxt, tz)
        if after != before:
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if _offset(mid, tz) == before:
                    lo = mid
                else:
                    hi = mid
            local = hi.astimezone(tz)
            found.append(
                Transition(
                    at=hi.replace(microsecond=0),
                    offset_from=before,
                    offset_to=after,
                    dst=bool(local.dst()),
                    name=local.tzname() or zone,
                    offset_from_dst=bool(lo.astimezone(tz).dst()),
                )
            )
        before = after
        t = nxt
    return found


def _rule_keys(onset: datetime) -> set[RuleKey]:
    """Every yearly rule this local date satisfies: nth weekday, last weekday, day of month,
    and "first weekday on or after day d" (the tz database's ``Sun>=2``, used by Chile)."""
    day, month, weekday = onset.day, onset.month, onset.weekday()
    keys: set[RuleKey] = {("monthday", month, day)}
    keys.add(("weekday", month, weekday, (day - 1) // 7 + 1))
    if day + 7 > _calendar.monthrange(onset.year, month)[1]:
        keys.add(("weekday", month, weekday, -1))
    for first in range(max(1, day - 6), day + 1):
        if first + 6 <= 28:  # the seven days exist in every month
            keys.add(("onorafter", month, weekday, first))
    return keys


def _rrule(key: RuleKey) -> dict[str, Any]:
    if key[0] == "monthday":
        return {"FREQ": "YEARLY", "BYMONTH": key[1], "BYMONTHDAY": key[2]}
    if key[0] == "onorafter":
        _, month, weekday, first = key
        days = list(range(first, first + 7))
        return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": WEEKDAYS[weekday], "BYMONTHDAY": days}
    _, month, weekday, nth = key
    return {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"{nth}{WEEKDAYS[weekday]}"}


@dataclass
class _Run:
    items: list[Transition]
    keys: set[RuleKey]


def _runs(found: list[Transition]) -> list[_Run]:
    """Group transitions of one kind in consecutive years that share a yearly rule."""
    open_runs: dict[tuple[object, ...], _Run] = {}
    runs: list[_Run] = []
    for tr in found:
        run = open_runs.get(tr.kind)
        keys = _rule_keys(tr.onset)
        if run is not None:
            common = run.keys & keys
            if common and tr.onset.year == run.items[-1].onset.year + 1:
                run.items.append(tr)
                run.keys = common
                continue
        run = _Run([tr], keys)
        open_runs[tr.kind] = run
        runs.append(run)
    return runs


_KIND_ORDER = {"weekday": 0, "monthday": 1, "onorafter": 2}


def _preferred(keys: set[RuleKey]) -> RuleKey:
    """The simplest rule that fits: "last Sunday" over "4th Sunday", nth weekday over a fixed
    date, and "Sunday on or after the 2nd" (BYDAY with BYMONTHDAY) only when nothing else fits."""
    return sorted(keys, key=lambda k: (_KIND_ORDER[k[0]], k[-1] != -1, k))[0]


def _observance(run: _Run, open_ended: bool) -> TimezoneDaylight | TimezoneStandard:
    first = run.items[0]
    sub = TimezoneDaylight() if first.dst else TimezoneStandard()
    sub.add("TZNAME", first.name)
    sub.add("TZOFFSETFROM", first.offset_from)
    sub.add("TZOFFSETTO", first.offset_to)
    sub.add("DTSTART", first.onset)
    if len(run.items) > 1 or open_ended:
        rule = _rrule(_preferred(run.keys))
        if not open_ended:
            # A day past the last change: still a year before the rule's next instance, and
            # right whether a reader compares UNTIL as an instant or (wrongly) as wall time.
            rule["UNTIL"] = run.items[-1].at + timedelta(days=1)
        sub.add("RRULE", vRecur(rule))
    return sub


def build(zone: str, first_year: int, this_year: int) -> Timezone:
    """A VTIMEZONE valid from ``first_year`` on (uncached; use :func:`vtimezone`)."""
    tz = ZoneInfo(zone)
    scan_from = datetime(first_year - 1, 1, 1, tzinfo=UTC)
    scan_to = datetime(max(this_year, first_year) + HORIZON_YEARS, 12, 31, tzinfo=UTC)
    found = transitions(zone, scan_from, scan_to)
    component = Timezone()
    component.add("TZID", zone)
    if not found:
        # No change in range (UTC, Asia/Tokyo): one observance with the constant offset.
        local = scan_from.astimezone(tz)
        offset = local.utcoffset()
        sub = TimezoneStandard()
        sub.add("TZNAME", local.tzname() or zone)
        sub.add("TZOFFSETFROM", offset)
        sub.add("TZOFFSETTO", offset)
        sub.add("DTSTART", datetime(1970, 1, 1))
        component.add_component(sub)
        return component
    runs = _runs(found)
    # A rule still repeating in the last two scanned years is the one in force: leave it open,
    # but only if it also predicts the next CHECK_YEARS of the tz database. Otherwise (a zone
    # whose future changes follow no yearly rule, like Morocco's around Ramadan) list those
    # years' changes one by one and leave nothing open.
    recent = scan_to.year - 2
    open_runs = [r for r in runs if len(r.items) >= 3 and r.items[-1].onset.year >= recent]
    later = transitions(zone, scan_to, scan_to.replace(year=scan_to.year + CHECK_YEARS))
    if not _predicts(open_runs, later):
        runs, open_runs = _runs(found + later), []
    for run in runs:
        component.add_component(_observance(run, any(run is r for r in open_runs)))
    return component


def _predicts(open_runs: list[_Run], later: list[Transition]) -> bool:
    """Whether the open-ended rules produce exactly the later transitions."""
    for tr in later:
        match = [r for r in open_runs if r.items[0].kind == tr.kind]
        if len(match) != 1 or _preferred(match[0].keys) not in _rule_keys(tr.onset):
            return False
    years = {tr.onset.year for tr in later}
    return len(later) == len(open_runs) * len(years) if later else not open_runs


@lru_cache(maxsize=256)
def _cached(zone: str, first_year: int, this_year: int) -> Timezone:
    return build(zone, first_year, this_year)


def vtimezone(zone: str, first: date, today: date | None = None) -> Timezone:
    """The cached VTIMEZONE for ``zone`` covering ``first`` onwards.

    Treat the result as read-only: it is shared by every feed that uses the zone.
    """
    today = today or datetime.now(UTC).date()
    return _cached(zone, first.year, today.year)
