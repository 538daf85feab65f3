"""Pure recurrence: expand a series into occurrences in a window and apply overrides.

The contract (dataclasses, ``expand`` and ``occurrence_at``) is fixed; other modules build on it.
No Flask, no database: only dateutil and zoneinfo.

Why it works the way it does:

* A routine is wall-clock time in its zone ("19:00 every Thursday" stays 19:00 across DST), so the
  rule is evaluated by dateutil on NAIVE local times and every result is localized afterwards.
* A local time that does not exist (spring gap) moves forward by the gap; an ambiguous one
  (autumn overlap) takes the first instant (fold=0). This is what zoneinfo does for fold=0 once
  the value is normalized through UTC, and what RFC 5545 section 3.3.5 asks for.
* UNTIL is stored in UTC ("...Z") because RFC 5545 requires it when DTSTART has a TZID; dateutil
  refuses a UTC UNTIL with a naive DTSTART, so we compare UNTIL as an instant ourselves.
* Expansion never iterates past the window: an endless rule cannot hang a page.

Zones and keys live in :mod:`planner.scheduling.zones`, rule text in
:mod:`planner.scheduling.rruletext` and the dateutil side in :mod:`planner.scheduling.compiled`;
this module re-exports their public names, the ones the other rooms import from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from planner.scheduling.catalog import N_
from planner.scheduling.compiled import _SHIFT_SLACK, _compile, _Rule, _rule_from
from planner.scheduling.rruletext import (
    FREQUENCIES,
    PART_ORDER,
    WEEKDAYS,
    explicit_parts,
    format_until,
    join_parts,
    parse_parts,
    parse_until,
)
from planner.scheduling.words import PaddedDate
from planner.scheduling.zones import (
    FIRST_YEAR,
    KEY_FORMAT,
    LAST_YEAR,
    RecurrenceError,
    format_key,
    instant,
    load_zone,
    localize,
    parse_key,
    to_local_naive,
)

# The public names of scheduling: other rooms import them from here whichever module holds them.
__all__ = [
    "FIRST_YEAR",
    "FREQUENCIES",
    "KEY_FORMAT",
    "LAST_YEAR",
    "PART_ORDER",
    "WEEKDAYS",
    "Occurrence",
    "OverrideData",
    "RecurrenceError",
    "Series",
    "end_rule",
    "expand",
    "explicit_parts",
    "format_key",
    "format_until",
    "instant",
    "join_parts",
    "load_zone",
    "localize",
    "next_occurrences",
    "occurrence_at",
    "overridden",
    "parse_key",
    "parse_parts",
    "parse_until",
    "produces",
    "split_rule",
    "to_local_naive",
]


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


def _compiled(series: Series) -> _Rule | None:
    if not series.rrule:
        return None
    return _compile(series.rrule.strip(), series.start, series.timezone)


def _naive_starts(series: Series, lo: datetime, hi: datetime) -> Iterator[datetime]:
    """Rule starts (naive local) in ``[lo, hi]``, UNTIL honoured as an instant."""
    compiled = _compiled(series)
    if compiled is None:
        if lo <= series.start <= hi:
            yield series.start
        return
    rule = _rule_from(compiled, series.start, lo)
    for value in rule.xafter(lo, inc=True):
        if value > hi:
            return
        if compiled.until is not None and instant(value, series.timezone) > compiled.until:
            return
        yield value


def produces(series: Series, original_start: datetime) -> bool:
    """Whether the series' rule produces this naive local start."""
    return any(v == original_start for v in _naive_starts(series, original_start, original_start))


# --------------------------------------------------------------------------- overrides


def _override_map(series: Series) -> dict[datetime, OverrideData]:
    """One override per original start: the highest sequence wins, then the later one."""
    found: dict[datetime, OverrideData] = {}
    for override in series.overrides:
        key = override.original_start
        held = found.get(key)
        if held is None or override.sequence >= held.sequence:
            found[key] = override
    return found


def _span(naive: datetime, tz: str, duration: timedelta) -> tuple[datetime, datetime]:
    """The aware start and end of ``duration`` from a local wall-clock time, both from one
    :func:`instant` (a feed builds thousands: one conversion fewer each than localizing the
    start and converting it back to UTC for the end)."""
    zone = load_zone(tz)
    at = instant(naive, tz)
    return at.astimezone(zone), (at + duration).astimezone(zone)


def _build(series: Series, original: datetime, override: OverrideData | None) -> Occurrence:
    tz = series.timezone
    if override is None:
        start, end = _span(original, tz, series.duration)
        return Occurrence(original_start=original, start=start, end=end, status="scheduled")
    duration = override.duration if override.duration is not None else series.duration
    start, end = _span(override.start if override.start is not None else original, tz, duration)
    status = "cancelled" if override.status == "cancelled" else "changed"
    return Occurrence(
        original_start=original,
        start=start,
        end=end,
        status=status,
        title=override.title,
        location=override.location,
        note=override.note,
        sequence=override.sequence,
    )


# --------------------------------------------------------------------------- the contract


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("expand() needs an aware window")


def expand(series: Series, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences overlapping the aware half-open window ``[start, end)``, in start order.

    Overlap means ``occurrence.start < end and occurrence.end > start``, judged after overrides:
    a moved occurrence shows where it was moved to. Cancelled occurrences are returned with
    status ``"cancelled"`` so pages can show them; callers filter.
    """
    _check_window(start, end)
    # Aware datetimes sharing a tzinfo compare by wall clock and ignore fold, so every
    # comparison below happens in UTC.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    tz = series.timezone
    overrides = _override_map(series)
    longest = max(
        [series.duration] + [o.duration for o in overrides.values() if o.duration is not None]
    )
    lo = _shifted(start, -(longest + _SHIFT_SLACK), tz)
    hi = _shifted(end, _SHIFT_SLACK, tz)
    found: dict[datetime, Occurrence] = {}
    for original in _naive_starts(series, lo, hi):
        occurrence = _build(series, original, overrides.get(original))
        if _overlaps(occurrence, start, end):
            found[original] = occurrence
    # Occurrences moved INTO the window from elsewhere.
    for original, override in overrides.items():
        if original in found or override.start is None:
            continue
        occurrence = _build(series, original, override)
        if _overlaps(occurrence, start, end) and produces(series, original):
            found[original] = occurrence
    return sorted(found.values(), key=lambda o: (o.start.astimezone(UTC), o.original_start))


def _shifted(instant_: datetime, delta: timedelta, tz: str) -> datetime:
    """Local naive time of ``instant_ + delta``, clamped at datetime's range (open windows)."""
    try:
        return to_local_naive(instant_ + delta, tz)
    except OverflowError:
        return datetime.min if delta < timedelta(0) else datetime.max


def _overlaps(occurrence: Occurrence, start: datetime, end: datetime) -> bool:
    return occurrence.start.astimezone(UTC) < end and occurrence.end.astimezone(UTC) > start


def occurrence_at(series: Series, original_start: datetime) -> Occurrence | None:
    """The occurrence whose key is ``original_start``, or None if the series never produces it."""
    if original_start.tzinfo is not None:
        raise ValueError("occurrence_at() takes the naive local original start")
    if not produces(series, original_start):
        return None
    return _build(series, original_start, _override_map(series).get(original_start))


def overridden(series: Series) -> list[Occurrence]:
    """The occurrences that have an override and that the rule really produces, in start order.

    Exactly what :func:`expand` over the overrides' span keeps of them, for a fraction of its
    cost: one pass of the rule over the span of the original starts, then one occurrence per
    override, instead of building every occurrence of the span. A stale override (its time no
    longer produced by the rule) drops out, as the app's pages ignore it.
    """
    overrides = _override_map(series)
    if not overrides:
        return []
    produced = set(_naive_starts(series, min(overrides), max(overrides)))
    found = [_build(series, key, o) for key, o in overrides.items() if key in produced]
    return sorted(found, key=lambda o: (o.start.astimezone(UTC), o.original_start))


# --------------------------------------------------------------------------- helpers for pages


_PREVIEW_SPANS = (
    timedelta(weeks=8),
    timedelta(days=366),
    timedelta(days=3660),
    timedelta(days=36600),
)


def next_occurrences(series: Series, after: datetime, count: int) -> list[Occurrence]:
    """The first ``count`` occurrences starting at or after the aware ``after`` (for previews).

    Bounded: windows grow from 8 weeks to 100 years, so a sparse or exhausted rule cannot loop.
    Cancelled occurrences are included (marked), like ``expand``.
    """
    if after.tzinfo is None:
        raise ValueError("next_occurrences() needs an aware 'after'")
    if count <= 0:
        return []
    found: list[Occurrence] = []
    for span in _PREVIEW_SPANS:
        found = [o for o in expand(series, after, after + span) if o.start.astimezone(UTC) >= after]
        if len(found) >= count:
            break
    return found[:count]


def _starts_before(series: Series, at: datetime) -> list[datetime]:
    """Every rule start strictly before ``at`` (naive local); iterates from the series start."""
    return [v for v in _naive_starts(series, series.start, at) if v < at]


def split_rule(series: Series, at_original_start: datetime) -> tuple[str, str]:
    """Rules for "change the series from this occurrence on": ``(old, new)``.

    The old rule ends just before ``at`` (UNTIL one second earlier, in UTC; a COUNT becomes the
    number of occurrences before it). The new rule keeps the pattern, with the remaining COUNT if
    there was one; the new series starts at ``at``. The union of both equals the original.
    """
    if not series.rrule:
        raise RecurrenceError(N_("A one-off event has no later occurrences to change."))
    if not produces(series, at_original_start):
        raise RecurrenceError(N_("The series has no occurrence at that time."))
    before = _starts_before(series, at_original_start)
    if not before:
        raise RecurrenceError(
            N_("This is the first occurrence: change the whole series instead.")
        )
    parts = parse_parts(series.rrule)
    old = dict(parts)
    new = dict(parts)
    if "COUNT" in parts:
        old["COUNT"] = str(len(before))
        new["COUNT"] = str(int(parts["COUNT"]) - len(before))
    else:
        old.pop("UNTIL", None)
        old["UNTIL"] = format_until(
            localize(at_original_start, series.timezone) - timedelta(seconds=1)
        )
        if "UNTIL" in parts:
            new["UNTIL"] = format_until(parse_until(parts["UNTIL"], series.timezone))
    return join_parts(old), join_parts(new)


def end_rule(series: Series, after_local_date: date) -> str:
    """The rule ended so that nothing happens after the local day ``after_local_date``.

    A rule that already ends by then comes back unchanged (a COUNT is never lengthened).
    RecurrenceError when nothing would be left: delete the series instead.
    """
    if not series.rrule:
        return ""
    end_of_day = localize(datetime.combine(after_local_date, time(23, 59, 59)), series.timezone)
    if not list(_naive_starts(series, series.start, datetime.combine(after_local_date, time.max))):
        raise RecurrenceError(
            N_("The series has no occurrence on or before %(date)s; delete it instead."),
            date=PaddedDate(after_local_date),
        )
    parts = parse_parts(series.rrule)
    day_end = datetime.combine(after_local_date, time.max)
    if next(_naive_starts(series, day_end, datetime.max), None) is None:
        # Nothing after that day: the rule already ends by then.
        return join_parts(_normalized_until(parts, series.timezone))
    parts.pop("COUNT", None)
    parts["UNTIL"] = format_until(end_of_day)
    return join_parts(parts)


def _normalized_until(parts: dict[str, str], tz_name: str) -> dict[str, str]:
    if "UNTIL" in parts:
        parts = dict(parts)
        parts["UNTIL"] = format_until(parse_until(parts["UNTIL"], tz_name))
    return parts
