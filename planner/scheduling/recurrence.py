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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du

KEY_FORMAT = "%Y%m%dT%H%M"

#: Rule parts RFC 5545 defines, in the order normalized text uses.
PART_ORDER = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "BYSETPOS",
    "WKST",
)
FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

#: The years a person's dates may name: a first or last date, UNTIL, an occurrence key. Wide
#: enough for any plan; narrow enough that a week's margin or a zone's offset never leaves the
#: years ``datetime`` holds (1 to 9999), which would be an OverflowError deep inside a page.
FIRST_YEAR, LAST_YEAR = 1900, 2999

# The largest difference between naive-local order and instant order (a DST shift; Troll has 2h).
_SHIFT_SLACK = timedelta(hours=3)


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


# --------------------------------------------------------------------------- zones and keys


@functools.lru_cache(maxsize=512)
def load_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; RecurrenceError (a message for the person) when unknown."""
    if not name or not isinstance(name, str):
        raise RecurrenceError("Choose a timezone.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise RecurrenceError(
            f"“{name}” is not a timezone we know. Use a name like Europe/Berlin."
        ) from None


def localize(naive: datetime, tz_name: str) -> datetime:
    """The aware instant for a local wall-clock time.

    A time inside a spring gap moves forward by the gap (02:30 becomes 03:30 in Berlin); an
    ambiguous time takes its first instant. zoneinfo gives the pre-transition offset for fold=0,
    and the UTC round trip turns that into a real wall-clock time.
    """
    zone = load_zone(tz_name)
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)


def instant(naive: datetime, tz_name: str) -> datetime:
    """``localize`` in UTC: safe to compare and subtract.

    Aware datetimes sharing a zone compare by wall clock (fold ignored), and an ambiguous time
    never equals a time in another zone (PEP 495), so comparisons belong in UTC.
    """
    return localize(naive, tz_name).astimezone(UTC)


def to_local_naive(aware: datetime, tz_name: str) -> datetime:
    """The wall-clock time of an instant in the zone, without tzinfo (fold dropped)."""
    return aware.astimezone(load_zone(tz_name)).replace(tzinfo=None, fold=0)


def format_key(naive: datetime) -> str:
    """The URL key of an occurrence: its original local start as ``YYYYMMDDTHHMM``."""
    return naive.strftime(KEY_FORMAT)


_KEY_RE = re.compile(r"\d{8}T\d{4}")


def parse_key(text: str) -> datetime:
    """The naive local start in a URL key; ValueError when it is not a valid key."""
    if not isinstance(text, str) or not _KEY_RE.fullmatch(text):
        raise ValueError(f"not an occurrence key: {text!r}")
    moment = datetime.strptime(text, KEY_FORMAT)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"an occurrence key outside {FIRST_YEAR}-{LAST_YEAR}: {text!r}")
    return moment


# --------------------------------------------------------------------------- rule text


def parse_parts(text: str) -> dict[str, str]:
    """Split RRULE text into upper-case parts; the ``RRULE:`` prefix is optional.

    Raises RecurrenceError on anything that is not ``NAME=value`` pairs of known names.
    """
    value = (text or "").strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    if not value:
        raise RecurrenceError("The repeat rule is empty.")
    parts: dict[str, str] = {}
    for chunk in value.split(";"):
        if not chunk.strip():
            continue
        name, sep, part = chunk.partition("=")
        name = name.strip().upper()
        part = part.strip().upper()
        if not sep or not part:
            raise RecurrenceError(f"The repeat rule has a part without a value: “{chunk}”.")
        if name not in PART_ORDER:
            raise RecurrenceError(f"The repeat rule has an unknown part “{name}”.")
        if name in parts:
            raise RecurrenceError(f"The repeat rule gives {name} twice.")
        parts[name] = part
    if "FREQ" not in parts:
        raise RecurrenceError("The repeat rule needs FREQ (for example FREQ=WEEKLY).")
    if parts["FREQ"] not in FREQUENCIES:
        raise RecurrenceError(f"“{parts['FREQ']}” is not a frequency.")
    return parts


def join_parts(parts: dict[str, str]) -> str:
    """Normalized rule text: parts in a fixed order, INTERVAL=1 and WKST=MO left out."""
    out = []
    for name in PART_ORDER:
        if name not in parts:
            continue
        if name == "INTERVAL" and parts[name] == "1":
            continue
        if name == "WKST" and parts[name] == "MO":
            continue
        out.append(f"{name}={parts[name]}")
    return ";".join(out)


def format_until(instant: datetime) -> str:
    """An UNTIL value in UTC with ``Z``, as RFC 5545 requires next to a TZID start."""
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_until(value: str, tz_name: str) -> datetime:
    """An UNTIL value as an aware instant in UTC.

    ``...Z`` is UTC; a floating date-time is local; a bare date means the end of that local day
    (inclusive), which is what a person who typed it meant.
    """
    parsed: datetime | None = None
    try:
        if re.fullmatch(r"\d{8}T\d{6}Z?", value):
            parsed = datetime.strptime(value[:15], "%Y%m%dT%H%M%S")
        elif re.fullmatch(r"\d{8}", value):
            parsed = datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time(23, 59, 59))
    except ValueError:
        pass
    if parsed is None:
        raise RecurrenceError(
            f"UNTIL “{value}” is not a date (use YYYYMMDD or YYYYMMDDTHHMMSSZ)."
        )
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise RecurrenceError(
            f"UNTIL “{value}” is not between {FIRST_YEAR} and {LAST_YEAR}; "
            "leave UNTIL out for a rule without an end."
        )
    if value.endswith("Z"):
        return parsed.replace(tzinfo=UTC)
    return instant(parsed, tz_name)


@dataclass(frozen=True)
class _Rule:
    """A parsed rule: dateutil on naive local times plus the UNTIL instant we filter on."""

    rule: du.rrule
    until: datetime | None  # aware; occurrences whose instant is later are dropped
    local_until: datetime | None  # naive bound handed to dateutil (a little late on purpose)
    # The rule with dateutil's start-derived defaults spelled out, so it can be restarted at a
    # later period boundary; None when it cannot (COUNT counts from the start, BYWEEKNO spans
    # years).
    explicit: str | None
    freq: str
    interval: int
    wkst: int


def explicit_parts(parts: dict[str, str], start: datetime) -> dict[str, str]:
    """``parts`` plus what dateutil would derive from the start (RFC 5545 defaults), so the rule
    gives the same occurrences when restarted at a later period boundary."""
    parts = dict(parts)
    freq = parts["FREQ"]
    if not any(k in parts for k in ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")):
        if freq == "YEARLY":
            parts.setdefault("BYMONTH", str(start.month))
            parts["BYMONTHDAY"] = str(start.day)
        elif freq == "MONTHLY":
            parts["BYMONTHDAY"] = str(start.day)
        elif freq == "WEEKLY":
            parts["BYDAY"] = WEEKDAYS[start.weekday()]
    parts.setdefault("BYHOUR", str(start.hour))
    parts.setdefault("BYMINUTE", str(start.minute))
    parts.setdefault("BYSECOND", str(start.second))
    return parts


@functools.lru_cache(maxsize=1024)
def _compile(text: str, start: datetime, tz_name: str) -> _Rule:
    parts = parse_parts(text)
    load_zone(tz_name)
    until = parse_until(parts.pop("UNTIL"), tz_name) if "UNTIL" in parts else None
    if until is not None and "COUNT" in parts:
        raise RecurrenceError(
            "A repeat rule can end after a number of times or on a date, not both."
        )
    try:
        rule = du.rrulestr(join_parts(parts), dtstart=start, cache=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise RecurrenceError(f"The repeat rule does not parse: {exc}.") from None
    if not isinstance(rule, du.rrule):  # pragma: no cover - rrulestr gives an rrule for one RRULE
        raise RecurrenceError("The repeat rule does not parse.")
    local_until = None
    if until is not None:
        # Naive comparison can disagree with instant order by a DST shift, so dateutil stops a
        # little late and _naive_starts() filters on the instant.
        try:
            local_until = to_local_naive(until, tz_name) + _SHIFT_SLACK
        except OverflowError:
            local_until = datetime.max
        rule = rule.replace(until=local_until)
    explicit = None
    if "COUNT" not in parts and "BYWEEKNO" not in parts and parts["FREQ"] in FREQUENCIES[:4]:
        explicit = join_parts(explicit_parts(parts, start))
    return _Rule(
        rule=rule,
        until=until,
        local_until=local_until,
        explicit=explicit,
        freq=parts["FREQ"],
        interval=rule._interval,
        wkst=rule._wkst,
    )


def _compiled(series: Series) -> _Rule | None:
    if not series.rrule:
        return None
    return _compile(series.rrule.strip(), series.start, series.timezone)


# Restart only when it skips at least this many periods; below that, iterating is cheaper.
_MIN_SKIP = 8


def _restart_at(compiled: _Rule, start: datetime, lo: datetime) -> datetime | None:
    """A period boundary a whole number of intervals after ``start``, at least one period
    before ``lo``; None when restarting is not possible or not worth it."""
    if compiled.explicit is None or lo <= start:
        return None
    step = compiled.interval
    if compiled.freq == "DAILY":
        k = (lo.date() - start.date()).days // step - 1
        if k < _MIN_SKIP:
            return None
        day = start.date() + timedelta(days=k * step)
    elif compiled.freq == "WEEKLY":
        week_start = start.date() - timedelta(days=(start.weekday() - compiled.wkst) % 7)
        k = (lo.date() - week_start).days // 7 // step - 1
        if k < _MIN_SKIP:
            return None
        day = week_start + timedelta(weeks=k * step)
    elif compiled.freq == "MONTHLY":
        months = (lo.year - start.year) * 12 + lo.month - start.month
        k = months // step - 1
        if k < _MIN_SKIP:
            return None
        index = start.month - 1 + k * step
        day = date(start.year + index // 12, index % 12 + 1, 1)
    else:  # YEARLY
        k = (lo.year - start.year) // step - 1
        if k < _MIN_SKIP:
            return None
        day = date(start.year + k * step, 1, 1)
    return datetime.combine(day, time())


def _rule_from(compiled: _Rule, start: datetime, lo: datetime) -> du.rrule:
    """The rule, restarted near ``lo`` when that gives the same occurrences from ``lo`` on.

    Without this, a ten-year-old daily routine iterates 3,650 times for every page view.
    """
    restart = _restart_at(compiled, start, lo)
    if restart is None or compiled.explicit is None:
        return compiled.rule
    rule = du.rrulestr(compiled.explicit, dtstart=restart, cache=False)
    if compiled.local_until is not None:
        rule = rule.replace(until=compiled.local_until)
    return rule


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


def _build(series: Series, original: datetime, override: OverrideData | None) -> Occurrence:
    tz = series.timezone
    if override is None:
        start = localize(original, tz)
        end = (start.astimezone(UTC) + series.duration).astimezone(start.tzinfo)
        return Occurrence(original_start=original, start=start, end=end, status="scheduled")
    start = localize(override.start if override.start is not None else original, tz)
    duration = override.duration if override.duration is not None else series.duration
    end = (start.astimezone(UTC) + duration).astimezone(start.tzinfo)
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
        found = [
            o for o in expand(series, after, after + span) if o.start.astimezone(UTC) >= after
        ]
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
        raise RecurrenceError("A one-off event has no later occurrences to change.")
    if not produces(series, at_original_start):
        raise RecurrenceError("The series has no occurrence at that time.")
    before = _starts_before(series, at_original_start)
    if not before:
        raise RecurrenceError(
            "This is the first occurrence: change the whole series instead."
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
            f"The series has no occurrence on or before {after_local_date:%d %B %Y}; "
            "delete it instead."
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
