"""RRULE text: parsing, normalizing and the UNTIL convention.

UNTIL is stored in UTC ("...Z") because RFC 5545 requires it when DTSTART has a TZID; a bare date
a person typed means the end of that local day. Parsing is strict (known parts only, each once)
so a rule that reaches dateutil is one we understand.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from planner.scheduling.catalog import N_
from planner.scheduling.zones import FIRST_YEAR, LAST_YEAR, RecurrenceError, instant

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

# One BYDAY item: a plain weekday, or an nth one ("-1FR", "2TU").
PLAIN_DAY = re.compile(r"(MO|TU|WE|TH|FR|SA|SU)")
NTH_DAY = re.compile(r"([+-]?\d{1,2})(MO|TU|WE|TH|FR|SA|SU)")


def parse_parts(text: str) -> dict[str, str]:
    """Split RRULE text into upper-case parts; the ``RRULE:`` prefix is optional.

    Raises RecurrenceError on anything that is not ``NAME=value`` pairs of known names.
    """
    value = (text or "").strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    if not value:
        raise RecurrenceError(N_("The repeat rule is empty."))
    parts: dict[str, str] = {}
    for chunk in value.split(";"):
        if not chunk.strip():
            continue
        name, sep, part = chunk.partition("=")
        name = name.strip().upper()
        part = part.strip().upper()
        if not sep or not part:
            raise RecurrenceError(
                N_("The repeat rule has a part without a value: “%(part)s”."), part=chunk
            )
        if name not in PART_ORDER:
            raise RecurrenceError(N_("The repeat rule has an unknown part “%(name)s”."), name=name)
        if name in parts:
            raise RecurrenceError(N_("The repeat rule gives %(name)s twice."), name=name)
        parts[name] = part
    if "FREQ" not in parts:
        raise RecurrenceError(N_("The repeat rule needs FREQ (for example FREQ=WEEKLY)."))
    if parts["FREQ"] not in FREQUENCIES:
        raise RecurrenceError(N_("“%(freq)s” is not a frequency."), freq=parts["FREQ"])
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
            N_("UNTIL “%(value)s” is not a date (use YYYYMMDD or YYYYMMDDTHHMMSSZ)."), value=value
        )
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise RecurrenceError(
            N_(
                "UNTIL “%(value)s” is not between %(first)d and %(last)d; "
                "leave UNTIL out for a rule without an end."
            ),
            value=value,
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    if value.endswith("Z"):
        return parsed.replace(tzinfo=UTC)
    return instant(parsed, tz_name)


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
