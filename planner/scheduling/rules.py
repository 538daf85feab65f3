"""Repeat rules in people's words: the simple form, its RRULE text and English.

Pure like :mod:`planner.scheduling.recurrence`: no Flask, no database. Forms turn their fields into
a :class:`Schedule`, store ``to_rrule(...)``, and show ``describe(...)`` wherever a routine appears.
Advanced users may type a raw RRULE; ``validate_rule`` is the one gate every rule passes through,
so an impossible or runaway rule never reaches the database (where it would hang expansion); it
lives in :mod:`planner.scheduling.validation` and is re-exported here with the other names forms
import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from planner.scheduling.catalog import N_, NN_, translations
from planner.scheduling.rruletext import (
    NTH_DAY,
    PLAIN_DAY,
    WEEKDAYS,
    explicit_parts,
    format_until,
    join_parts,
    parse_parts,
    parse_until,
)
from planner.scheduling.validation import (
    MAX_DURATION,
    MAX_PER_YEAR,
    SEARCH_YEARS,
    bounded_between,
    validate_duration,
    validate_rule,
)
from planner.scheduling.words import (
    DAY_NAMES,
    ORDINALS,
    and_list,
    at,
    day_month,
    day_name,
    describe_duration,
    long_day,
    short_day,
)
from planner.scheduling.zones import RecurrenceError, instant, localize, to_local_naive

# Forms and views import these from here; validation and words hold some of them.
__all__ = [
    "DAY_NAMES",
    "ENDS",
    "KINDS",
    "MAX_DURATION",
    "MAX_PER_YEAR",
    "ORDINALS",
    "SEARCH_YEARS",
    "Schedule",
    "align_start",
    "bounded_between",
    "describe",
    "describe_duration",
    "explicit_parts",
    "from_rrule",
    "nth_of",
    "to_rrule",
    "validate_duration",
    "validate_rule",
]

KINDS = ("once", "daily", "weekly", "monthly_day", "monthly_nth", "yearly")
ENDS = ("never", "until", "count")


@dataclass(frozen=True)
class Schedule:
    """A repeat pattern as the routine form offers it.

    ``weekdays`` (0 = Monday) is for ``weekly``; empty means the start's weekday. ``month_day``
    is for ``monthly_day`` (None = the start's day). ``nth`` (1..4, or -1 for last) and
    ``weekday`` are for ``monthly_nth`` (None = taken from the start). ``until`` is an inclusive
    local date; ``count`` the number of times.
    """

    kind: str = "once"
    interval: int = 1
    weekdays: frozenset[int] = field(default_factory=frozenset)
    month_day: int | None = None
    nth: int | None = None
    weekday: int | None = None
    ends: str = "never"
    until: date | None = None
    count: int | None = None


def nth_of(start: date) -> int:
    """Which weekday of its month a date is: 1..4, or -1 when it is the last (5th) one."""
    index = (start.day - 1) // 7 + 1
    return -1 if index >= 5 else index


# --------------------------------------------------------------------------- Schedule <-> RRULE


def to_rrule(schedule: Schedule, start_local: datetime, tz: str) -> str:
    """Normalized RRULE text for a schedule ("" for once); UNTIL is the end of that local day,
    in UTC, as RFC 5545 requires next to a TZID start."""
    if schedule.kind not in KINDS:
        raise RecurrenceError(N_("“%(kind)s” is not a repeat pattern."), kind=schedule.kind)
    if schedule.kind == "once":
        return ""
    if schedule.interval < 1:
        raise RecurrenceError(N_("Repeat every 1 or more."))
    parts: dict[str, str] = {"INTERVAL": str(schedule.interval)}
    if schedule.kind == "daily":
        parts["FREQ"] = "DAILY"
    elif schedule.kind == "weekly":
        parts["FREQ"] = "WEEKLY"
        days = sorted(schedule.weekdays) or [start_local.weekday()]
        if any(d not in range(7) for d in days):
            raise RecurrenceError(N_("Choose weekdays from Monday to Sunday."))
        parts["BYDAY"] = ",".join(WEEKDAYS[d] for d in days)
    elif schedule.kind == "monthly_day":
        parts["FREQ"] = "MONTHLY"
        day = schedule.month_day or start_local.day
        if not 1 <= day <= 31:
            raise RecurrenceError(N_("Choose a day of the month from 1 to 31."))
        parts["BYMONTHDAY"] = str(day)
    elif schedule.kind == "monthly_nth":
        parts["FREQ"] = "MONTHLY"
        nth = schedule.nth if schedule.nth is not None else nth_of(start_local.date())
        weekday = schedule.weekday if schedule.weekday is not None else start_local.weekday()
        if nth not in ORDINALS:
            raise RecurrenceError(
                N_("Choose the first, second, third, fourth or last weekday.")
            )
        if weekday not in range(7):
            raise RecurrenceError(N_("Choose a weekday from Monday to Sunday."))
        parts["BYDAY"] = f"{nth}{WEEKDAYS[weekday]}"
    else:  # yearly
        parts["FREQ"] = "YEARLY"
    if schedule.ends == "until":
        if schedule.until is None:
            raise RecurrenceError(N_("Choose the date the routine ends on."))
        parts["UNTIL"] = format_until(
            localize(datetime.combine(schedule.until, time(23, 59, 59)), tz)
        )
    elif schedule.ends == "count":
        if not schedule.count or schedule.count < 1:
            raise RecurrenceError(N_("Say how many times the routine happens (1 or more)."))
        parts["COUNT"] = str(schedule.count)
    elif schedule.ends != "never":
        raise RecurrenceError(N_("“%(ends)s” is not a way to end."), ends=schedule.ends)
    return join_parts(parts)


def from_rrule(text: str, start: datetime, tz: str) -> Schedule | None:
    """The simple form of a rule, or None when it is too advanced for it (keep the raw text)."""
    if not text or not text.strip():
        return Schedule(kind="once")
    try:
        parts = parse_parts(text)
    except RecurrenceError:
        return None
    freq = parts.pop("FREQ")
    try:
        interval = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        return None
    if interval < 1:
        return None
    ends, until, count = "never", None, None
    if "COUNT" in parts and "UNTIL" in parts:
        return None
    if "COUNT" in parts:
        try:
            ends, count = "count", int(parts.pop("COUNT"))
        except ValueError:
            return None
    elif "UNTIL" in parts:
        try:
            until = _until_date(parse_until(parts.pop("UNTIL"), tz), start, tz)
        except RecurrenceError:
            return None
        ends = "until"
    if parts.pop("WKST", "MO") != "MO" and freq == "WEEKLY" and interval > 1:
        return None
    common: dict[str, Any] = {"interval": interval, "ends": ends, "until": until, "count": count}
    keys = set(parts)
    if freq == "DAILY" and not keys:
        return Schedule(kind="daily", **common)
    if freq == "WEEKLY" and keys <= {"BYDAY"}:
        days = parts.get("BYDAY", WEEKDAYS[start.weekday()]).split(",")
        if not all(PLAIN_DAY.fullmatch(d) for d in days):
            return None
        return Schedule(
            kind="weekly", weekdays=frozenset(WEEKDAYS.index(d) for d in days), **common
        )
    if freq == "MONTHLY" and not keys:
        return Schedule(kind="monthly_day", month_day=start.day, **common)
    if freq == "MONTHLY" and keys == {"BYMONTHDAY"}:
        if not re.fullmatch(r"\d{1,2}", parts["BYMONTHDAY"]):
            return None
        day = int(parts["BYMONTHDAY"])
        return Schedule(kind="monthly_day", month_day=day, **common) if 1 <= day <= 31 else None
    if freq == "MONTHLY" and keys == {"BYDAY"}:
        match = NTH_DAY.fullmatch(parts["BYDAY"])
        if not match or int(match.group(1)) not in ORDINALS:
            return None
        return Schedule(
            kind="monthly_nth",
            nth=int(match.group(1)),
            weekday=WEEKDAYS.index(match.group(2)),
            **common,
        )
    if freq == "YEARLY" and (
        not keys
        or (
            keys == {"BYMONTH", "BYMONTHDAY"}
            and parts["BYMONTH"] == str(start.month)
            and parts["BYMONTHDAY"] == str(start.day)
        )
    ):
        return Schedule(kind="yearly", **common)
    return None


def _until_date(until: datetime, start: datetime, tz: str) -> date:
    """The inclusive local end date equivalent to an UNTIL instant for a simple rule.

    Simple rules happen at most once a day at the start's time, so an UNTIL before that time on
    its local day (as ``split_rule`` writes it) means the day before.
    """
    local = to_local_naive(until, tz)
    if instant(datetime.combine(local.date(), start.time()), tz) > until:
        return local.date() - timedelta(days=1)
    return local.date()


def describe(
    rrule: str,
    start: datetime,
    tz: str,
    duration: timedelta | None = None,
    *,
    with_zone: bool = True,
    locale: str = "en_GB",
) -> str:
    """The schedule in words, e.g. "Every 2 weeks on Thursday at 19:00, Europe/Berlin", or
    "Jeden zweiten Donnerstag um 19:00, Europe/Berlin" with ``locale="de"``.

    Every pattern is one whole sentence of the ``schedules`` catalog, so each language words it
    in its own order. ``with_zone=False`` leaves the zone out (for pages that already show it).
    """
    t = translations(locale)
    schedule = from_rrule(rrule, start, tz)
    values: dict[str, Any] = {"at": at(start, duration, locale)}
    note = ""
    if schedule is None:
        try:
            shown = join_parts(parse_parts(rrule))
        except RecurrenceError:  # a stored rule is always valid; never fail a page over words
            shown = rrule.strip()
        values.update(rule=shown, date=long_day(start.date(), locale))
        text = t.gettext("Repeats by the custom rule %(rule)s, from %(date)s %(at)s") % values
    else:
        text = _sentence(schedule, start, locale, values)
        note = _note(schedule, start)
        if schedule.ends == "until" and schedule.until is not None:
            text = t.gettext("%(schedule)s until %(date)s") % {
                "schedule": text,
                "date": short_day(schedule.until, locale),
            }
        elif schedule.ends == "count" and schedule.count is not None:
            text = t.ngettext(
                "%(schedule)s, %(num)d time", "%(schedule)s, %(num)d times", schedule.count
            ) % {"schedule": text, "num": schedule.count}
    if with_zone:
        text += f", {tz}"
    return f"{text} {t.gettext(note)}" if note else text


def _every_names(locale: str) -> tuple[str, ...]:
    t = translations(locale)
    return (
        # Translators: a weekday as it reads in "Every Monday", listed in "Every Monday and
        # Thursday": French and Spanish use the plural there ("Tous les lundis", "sábados").
        t.pgettext("every weekday", "Monday"),
        t.pgettext("every weekday", "Tuesday"),
        t.pgettext("every weekday", "Wednesday"),
        t.pgettext("every weekday", "Thursday"),
        t.pgettext("every weekday", "Friday"),
        t.pgettext("every weekday", "Saturday"),
        t.pgettext("every weekday", "Sunday"),
    )


def _on_names(locale: str) -> tuple[str, ...]:
    t = translations(locale)
    return (
        # Translators: a weekday as it reads in "Every 3 weeks on Monday and Thursday", with
        # its article where each weekday of a list takes one ("le lundi et le jeudi"; German
        # and Spanish name it once for the list: "am Montag und Donnerstag", "los lunes y
        # jueves").
        t.pgettext("on weekday", "Monday"),
        t.pgettext("on weekday", "Tuesday"),
        t.pgettext("on weekday", "Wednesday"),
        t.pgettext("on weekday", "Thursday"),
        t.pgettext("on weekday", "Friday"),
        t.pgettext("on weekday", "Saturday"),
        t.pgettext("on weekday", "Sunday"),
    )


_NTH_MONTHLY = {
    1: N_("Monthly on the first %(weekday)s %(at)s"),
    2: N_("Monthly on the second %(weekday)s %(at)s"),
    3: N_("Monthly on the third %(weekday)s %(at)s"),
    4: N_("Monthly on the fourth %(weekday)s %(at)s"),
    -1: N_("Monthly on the last %(weekday)s %(at)s"),
}
_NTH_EVERY = {
    1: NN_(
        "Every %(num)d month on the first %(weekday)s %(at)s",
        "Every %(num)d months on the first %(weekday)s %(at)s",
    ),
    2: NN_(
        "Every %(num)d month on the second %(weekday)s %(at)s",
        "Every %(num)d months on the second %(weekday)s %(at)s",
    ),
    3: NN_(
        "Every %(num)d month on the third %(weekday)s %(at)s",
        "Every %(num)d months on the third %(weekday)s %(at)s",
    ),
    4: NN_(
        "Every %(num)d month on the fourth %(weekday)s %(at)s",
        "Every %(num)d months on the fourth %(weekday)s %(at)s",
    ),
    -1: NN_(
        "Every %(num)d month on the last %(weekday)s %(at)s",
        "Every %(num)d months on the last %(weekday)s %(at)s",
    ),
}
_SKIPPED = {
    29: N_("(months without a 29th are skipped)"),
    30: N_("(months without a 30th are skipped)"),
    31: N_("(months without a 31st are skipped)"),
}


def _sentence(schedule: Schedule, start: datetime, locale: str, values: dict[str, Any]) -> str:
    """The pattern of a simple schedule as one sentence, without its end."""
    t = translations(locale)
    n = schedule.interval
    values["num"] = n
    if schedule.kind == "once":
        values["date"] = long_day(start.date(), locale)
        return t.gettext("Once on %(date)s %(at)s") % values
    if schedule.kind == "daily":
        if n == 1:
            return t.gettext("Every day %(at)s") % values
        return t.ngettext("Every %(num)d day %(at)s", "Every %(num)d days %(at)s", n) % values
    if schedule.kind == "weekly":
        days = sorted(schedule.weekdays)
        if n == 1:
            values["weekdays"] = and_list([_every_names(locale)[d] for d in days], locale)
            # Translators: "Every Monday and Thursday at 19:00". Every schedule sentence ends
            # in %(at)s, the time of day ("at 19:00", "at 19:00 for 2 hours").
            return t.gettext("Every %(weekdays)s %(at)s") % values
        if n == 2 and len(days) == 1:
            values["weekday"] = day_name(days[0], locale)
            # Translators: fortnightly on one weekday ("Jeden zweiten Donnerstag", "Un jeudi
            # sur deux"); the next message is the same on several weekdays.
            return t.gettext("Every 2 weeks on %(weekday)s %(at)s") % values
        values["weekdays"] = and_list([_on_names(locale)[d] for d in days], locale)
        if n == 2:
            return t.gettext("Every 2 weeks on %(weekdays)s %(at)s") % values
        return t.ngettext(
            "Every %(num)d week on %(weekdays)s %(at)s",
            "Every %(num)d weeks on %(weekdays)s %(at)s",
            n,
        ) % values
    if schedule.kind == "monthly_day":
        values["day"] = schedule.month_day or start.day
        if values["day"] == 1:
            # Translators: the same as without context, for the 1st ("le 1er").
            if n == 1:
                return t.pgettext("day 1", "Monthly on day %(day)d %(at)s") % values
            return t.npgettext(
                "day 1",
                "Every %(num)d month on day %(day)d %(at)s",
                "Every %(num)d months on day %(day)d %(at)s",
                n,
            ) % values
        if n == 1:
            return t.gettext("Monthly on day %(day)d %(at)s") % values
        return t.ngettext(
            "Every %(num)d month on day %(day)d %(at)s",
            "Every %(num)d months on day %(day)d %(at)s",
            n,
        ) % values
    if schedule.kind == "monthly_nth":
        nth = schedule.nth if schedule.nth is not None else nth_of(start.date())
        weekday = schedule.weekday if schedule.weekday is not None else start.weekday()
        values["weekday"] = day_name(weekday, locale)
        if n == 1:
            return t.gettext(_NTH_MONTHLY[nth]) % values
        return t.ngettext(*_NTH_EVERY[nth], n) % values
    # yearly
    values["date"] = day_month(start.date(), locale)
    if n == 1:
        return t.gettext("Every year on %(date)s %(at)s") % values
    return t.ngettext(
        "Every %(num)d year on %(date)s %(at)s", "Every %(num)d years on %(date)s %(at)s", n
    ) % values


def _note(schedule: Schedule, start: datetime) -> str:
    """The msgid of a remark after the sentence, or ""."""
    if schedule.kind == "monthly_day":
        return _SKIPPED.get(schedule.month_day or start.day, "")
    if schedule.kind == "yearly" and (start.month, start.day) == (2, 29):
        return N_("(only in leap years)")
    return ""


def first_fit(text: str, start_local: datetime) -> datetime | None:
    """The first date on or after ``start_local`` that a raw RRULE produces, or None when the
    rule cannot say (it does not parse, has a DTSTART line, or produces nothing): then
    :func:`validate_rule` explains. Gives a typed rule the same friendly alignment as the
    simple patterns instead of refusing a start that does not fit."""
    if not text or "\n" in text.strip() or "DTSTART" in text.upper():
        return None
    try:
        parts = parse_parts(text.removeprefix("RRULE:"))
        parts.pop("UNTIL", None)
        parts.pop("COUNT", None)
        explicit = explicit_parts(parts, start_local)
        horizon = start_local.replace(
            year=min(start_local.year + SEARCH_YEARS, 9999), month=1, day=1
        )
        return next(bounded_between(explicit, start_local, start_local, horizon), None)
    except (RecurrenceError, ValueError, TypeError, KeyError, IndexError, ArithmeticError):
        return None  # INTERVAL=0 and friends: validate_rule words the problem


def align_start(schedule: Schedule, start_local: datetime, tz: str) -> datetime:
    """The first date on or after ``start_local`` that fits the simple schedule, same time.

    Lets a form accept "weekly on Tuesday and Thursday" with a start on a Wednesday by moving
    the start to Thursday, instead of refusing it.
    """
    text = to_rrule(schedule, start_local, tz)
    if not text:
        return start_local
    parts = explicit_parts(parse_parts(text), start_local)
    horizon = start_local.replace(year=min(start_local.year + SEARCH_YEARS, 9999), month=1, day=1)
    for value in bounded_between(parts, start_local, start_local, horizon):
        return value
    raise RecurrenceError(
        N_("This pattern has no date in the %(years)d years after the start."), years=SEARCH_YEARS
    )
