"""The one gate every repeat rule passes: ``validate_rule`` (and ``validate_duration``).

An impossible or runaway rule must never reach the database, where it would hang expansion on
every page; and a person must learn in words what is wrong. The checks evaluate rules through
:func:`bounded_between`, which dateutil cannot hang in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as du

from planner.scheduling.catalog import N_
from planner.scheduling.rruletext import (
    FREQUENCIES,
    NTH_DAY,
    PLAIN_DAY,
    WEEKDAYS,
    explicit_parts,
    format_until,
    join_parts,
    parse_parts,
    parse_until,
)
from planner.scheduling.words import At, LongDay, Number, ShortDay
from planner.scheduling.zones import RecurrenceError, instant, load_zone, to_local_naive

MAX_PER_YEAR = 1000
MAX_DURATION = timedelta(days=7)
# How far validation looks for the first occurrence before calling a rule empty.
SEARCH_YEARS = 10


_INT_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
    "BYSETPOS": (1, 366, True),
}
# Whole sentences per part, so each language can put the words in its own order.
_NOT_VALID = {
    "BYMONTH": N_("%(name)s=%(value)s: “%(item)s” is not a valid month."),
    "BYMONTHDAY": N_("%(name)s=%(value)s: “%(item)s” is not a valid day of the month."),
    "BYYEARDAY": N_("%(name)s=%(value)s: “%(item)s” is not a valid day of the year."),
    "BYWEEKNO": N_("%(name)s=%(value)s: “%(item)s” is not a valid week number."),
    "BYHOUR": N_("%(name)s=%(value)s: “%(item)s” is not a valid hour."),
    "BYMINUTE": N_("%(name)s=%(value)s: “%(item)s” is not a valid minute."),
    "BYSECOND": N_("%(name)s=%(value)s: “%(item)s” is not a valid second."),
    "BYSETPOS": N_("%(name)s=%(value)s: “%(item)s” is not a valid position (BYSETPOS)."),
}
_OUT_OF_RANGE = {
    "BYMONTH": N_("%(name)s=%(value)s: month %(item)s is out of range (%(low)d to %(high)d)."),
    "BYMONTHDAY": N_(
        "%(name)s=%(value)s: day of the month %(item)s is out of range (%(low)d to %(high)d)."
    ),
    "BYYEARDAY": N_(
        "%(name)s=%(value)s: day of the year %(item)s is out of range (%(low)d to %(high)d)."
    ),
    "BYWEEKNO": N_(
        "%(name)s=%(value)s: week number %(item)s is out of range (%(low)d to %(high)d)."
    ),
    "BYHOUR": N_("%(name)s=%(value)s: hour %(item)s is out of range (%(low)d to %(high)d)."),
    "BYMINUTE": N_("%(name)s=%(value)s: minute %(item)s is out of range (%(low)d to %(high)d)."),
    "BYSECOND": N_("%(name)s=%(value)s: second %(item)s is out of range (%(low)d to %(high)d)."),
    "BYSETPOS": N_(
        "%(name)s=%(value)s: position (BYSETPOS) %(item)s is out of range (%(low)d to %(high)d)."
    ),
}


def _check_int_list(name: str, value: str) -> None:
    low, high, signed = _INT_RANGES[name]
    for item in value.split(","):
        if not re.fullmatch(r"[+-]?\d{1,3}" if signed else r"\+?\d{1,3}", item):
            raise RecurrenceError(_NOT_VALID[name], name=name, value=value, item=item)
        number = abs(int(item))
        if not low <= number <= high or (signed and number == 0):
            raise RecurrenceError(
                _OUT_OF_RANGE[name], name=name, value=value, item=item, low=low, high=high
            )


def _check_parts(parts: dict[str, str]) -> None:
    """Static checks: every part well-formed and allowed with the frequency (RFC 5545 3.3.10)."""
    freq = parts["FREQ"]
    if FREQUENCIES.index(freq) > FREQUENCIES.index("DAILY"):
        raise RecurrenceError(
            N_(
                "Routines repeat at most once a day; FREQ=%(freq)s is too frequent. "
                "Use DAILY with BYHOUR for several times a day."
            ),
            freq=freq,
        )
    for name in ("INTERVAL", "COUNT"):
        if name in parts:
            if not re.fullmatch(r"\d{1,6}", parts[name]):
                raise RecurrenceError(
                    N_("%(name)s must be a whole number, not “%(value)s”."),
                    name=name,
                    value=parts[name],
                )
            if int(parts[name]) == 0:
                if name == "INTERVAL":
                    raise RecurrenceError(N_("INTERVAL=0 never repeats: use 1 or more."))
                raise RecurrenceError(N_("COUNT=0 never happens: use 1 or more."))
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError(
            N_("A rule ends after a number of times (COUNT) or on a date (UNTIL), not both.")
        )
    for name in _INT_RANGES:
        if name in parts:
            _check_int_list(name, parts[name])
    if "BYSECOND" in parts and parts["BYSECOND"].strip("0,+") != "":
        raise RecurrenceError(N_("Routines start on whole minutes: remove BYSECOND."))
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            match = NTH_DAY.fullmatch(item) or PLAIN_DAY.fullmatch(item)
            if not match:
                raise RecurrenceError(
                    N_("BYDAY=%(value)s: “%(item)s” is not a weekday."),
                    value=parts["BYDAY"],
                    item=item,
                )
            if match.re is NTH_DAY:
                n = abs(int(match.group(1)))
                if freq not in ("MONTHLY", "YEARLY") or "BYWEEKNO" in parts:
                    raise RecurrenceError(
                        N_(
                            "BYDAY=%(value)s: a numbered weekday like “%(item)s” only works "
                            "with FREQ=MONTHLY or FREQ=YEARLY."
                        ),
                        value=parts["BYDAY"],
                        item=item,
                    )
                if n == 0 or n > (5 if freq == "MONTHLY" or "BYMONTH" in parts else 53):
                    raise RecurrenceError(
                        N_("BYDAY=%(value)s: “%(item)s” is out of range."),
                        value=parts["BYDAY"],
                        item=item,
                    )
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise RecurrenceError(N_("WKST=%(value)s is not a weekday."), value=parts["WKST"])
    if "BYWEEKNO" in parts and freq != "YEARLY":
        raise RecurrenceError(N_("BYWEEKNO only works with FREQ=YEARLY."))
    if "BYYEARDAY" in parts and freq != "YEARLY":
        raise RecurrenceError(N_("BYYEARDAY only works with FREQ=YEARLY."))
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        raise RecurrenceError(N_("BYMONTHDAY does not work with FREQ=WEEKLY; use MONTHLY."))
    if "BYSETPOS" in parts and not any(
        k in parts
        for k in ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE")
    ):
        raise RecurrenceError(
            N_("BYSETPOS needs another BY part (for example BYDAY) to pick from.")
        )


def _split_lines(text: str) -> tuple[str, str | None]:
    """The RRULE value and any DTSTART line from pasted iCalendar text."""
    rule, dtstart = None, None
    for raw in re.split(r"[\r\n]+", text.strip()):
        line = raw.strip()
        if not line:
            continue
        upper = line.upper()
        if upper.startswith("DTSTART"):
            if dtstart is not None:
                raise RecurrenceError(N_("The rule gives DTSTART twice."))
            dtstart = line
        elif upper.startswith("RRULE:") or re.match(r"[A-Z]+=", upper):
            if rule is not None:
                raise RecurrenceError(N_("Only one RRULE is supported."))
            rule = line
        elif re.match(r"(EXDATE|RDATE|EXRULE)\b", upper):
            name = re.split(r"[:;]", upper, maxsplit=1)[0]
            raise RecurrenceError(
                N_(
                    "Only an RRULE is accepted here, not %(name)s: cancel single occurrences "
                    "instead."
                ),
                name=name,
            )
        else:
            raise RecurrenceError(
                N_(
                    "The repeat rule does not parse: “%(line)s”. Write it like "
                    "FREQ=WEEKLY;BYDAY=TH."
                ),
                line=line,
            )
    if rule is None:
        raise RecurrenceError(N_("The text has no RRULE."))
    return rule, dtstart


def _check_dtstart(line: str, start: datetime, tz: str) -> None:
    match = re.fullmatch(
        r"DTSTART(?:;TZID=([^:;]+))?(?:;VALUE=DATE-TIME)?:(\d{8}T\d{4}\d{2}?)(Z?)",
        line.strip(),
        flags=re.IGNORECASE,
    )
    if not match:
        raise RecurrenceError(
            N_("“%(line)s” is not a DTSTART this form understands; remove it."), line=line
        )
    zone, value, utc = match.groups()
    when = datetime.strptime(value[:13], "%Y%m%dT%H%M")
    if utc:
        same = instant(start, tz) == when.replace(tzinfo=UTC)
    else:
        same = when == start.replace(second=0, microsecond=0) and (zone is None or zone == tz)
    if not same:
        raise RecurrenceError(
            N_(
                "The rule's %(line)s does not match the start (%(date)s %(at)s, %(zone)s): "
                "remove DTSTART from the rule or change the start."
            ),
            line=line.strip(),
            date=LongDay(start.date()),
            at=At(start),
            zone=tz,
        )


# -- a bounded evaluation dateutil cannot hang in ---------------------------------------------
#
# dateutil keeps stepping period by period until year 9999 when a rule produces nothing (a daily
# rule for 30 February takes seconds). Validation must answer "is there any occurrence?" and
# "how many in the first year?" without that, so it evaluates one period at a time: the same rule
# restarted at the period's first moment with an INTERVAL so large that the next period lies
# past year 9999, which makes dateutil stop after that single period. Daily and weekly periods
# are too many to probe one by one, so their candidate days come from one yearly probe per year
# and the interval and BYSETPOS are applied here, exactly as dateutil does per period.

_FAR = {"YEARLY": 10_000, "MONTHLY": 120_000}


def _probe(parts: dict[str, str], dtstart: datetime) -> list[datetime]:
    probe = dict(parts, INTERVAL=str(_FAR[parts["FREQ"]]))
    probe.pop("COUNT", None)
    probe.pop("UNTIL", None)
    return list(du.rrulestr(join_parts(probe), dtstart=dtstart, cache=False))


def _timeset(parts: dict[str, str]) -> list[time]:
    hours = sorted({int(h) for h in parts["BYHOUR"].split(",")})
    minutes = sorted({int(m) for m in parts["BYMINUTE"].split(",")})
    return [time(h, m) for h in hours for m in minutes]


def _setpos(instances: list[datetime], setpos: str | None) -> list[datetime]:
    if not setpos:
        return instances
    picked = set()
    for item in setpos.split(","):
        pos = int(item)
        index = pos - 1 if pos > 0 else len(instances) + pos
        if 0 <= index < len(instances):
            picked.add(instances[index])
    return sorted(picked)


def bounded_between(
    parts: dict[str, str], start: datetime, lo: datetime, hi: datetime
) -> Iterator[datetime]:
    """Occurrences (naive local) of the rule with explicit defaults ``parts`` from ``start``,
    in ``[lo, hi]``, ignoring COUNT and UNTIL; never iterates past ``hi``'s period."""
    freq = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    lo = max(lo, start)
    if freq in ("MONTHLY", "YEARLY"):
        step = interval * (12 if freq == "YEARLY" else 1)
        base = start.year * 12 + (0 if freq == "YEARLY" else start.month - 1)
        index = 0
        while True:
            month = base + index * step
            period_start = datetime(month // 12, month % 12 + 1, 1)
            if period_start > hi:
                return
            following = month + step // interval
            index += 1
            if following // 12 <= 9999 and datetime(following // 12, following % 12 + 1, 1) <= lo:
                continue
            for value in _probe(parts, period_start):
                if lo <= value <= hi:
                    yield value
    # DAILY / WEEKLY: candidate days from yearly probes, grouped into periods here.
    day_parts = {k: v for k, v in parts.items() if k in ("BYMONTH", "BYMONTHDAY", "BYDAY")}
    if "BYMONTHDAY" not in day_parts and "BYDAY" not in day_parts:
        day_parts["BYMONTHDAY"] = ",".join(str(d) for d in range(1, 32))
    day_parts.update(FREQ="YEARLY", BYHOUR="0", BYMINUTE="0", BYSECOND="0")
    times = _timeset(parts)
    setpos = parts.get("BYSETPOS")
    wkst = WEEKDAYS.index(parts.get("WKST", "MO"))
    origin = start.date()
    if freq == "WEEKLY":
        origin -= timedelta(days=(origin.weekday() - wkst) % 7)
    length = 7 if freq == "WEEKLY" else 1
    current: int | None = None
    bucket: list[datetime] = []
    for year in range((lo - timedelta(days=7)).year, min(hi.year, 9999) + 1):
        for value in _probe(day_parts, datetime(year, 1, 1)):
            period = (value.date() - origin).days // length
            if period < 0 or period % interval:
                continue
            if period != current:
                yield from (v for v in _setpos(bucket, setpos) if lo <= v <= hi)
                if value > hi:
                    return
                current, bucket = period, []
            bucket.extend(datetime.combine(value.date(), t) for t in times)
    yield from (v for v in _setpos(bucket, setpos) if lo <= v <= hi)


def validate_rule(text: str, start_local: datetime, tz: str) -> str:
    """The normalized rule (no "RRULE:", UNTIL in UTC) or RecurrenceError with a clear message.

    "" (one-off) is valid. Checks: parse, INTERVAL=0, finer than DAILY, UNTIL before the start,
    a start that does not fit the pattern (RFC 5545 leaves that undefined, and calendar apps
    disagree about it), a rule with no occurrence, more than 1,000 occurrences in a year, an
    unknown zone, a DTSTART that contradicts the start.
    """
    load_zone(tz)
    if start_local.tzinfo is not None:
        raise RecurrenceError(N_("The start must be a local time without a zone."))
    if start_local.second or start_local.microsecond:
        raise RecurrenceError(N_("Routines start on whole minutes."))
    if not text or not text.strip():
        return ""
    rule_line, dtstart = _split_lines(text)
    if dtstart is not None:
        _check_dtstart(dtstart, start_local, tz)
    parts = parse_parts(rule_line)
    _check_parts(parts)
    start_instant = instant(start_local, tz)
    if "UNTIL" in parts:
        until = parse_until(parts["UNTIL"], tz)
        if until < start_instant:
            raise RecurrenceError(
                N_("The end date (%(until)s) is before the start (%(start)s)."),
                until=ShortDay(to_local_naive(until, tz).date()),
                start=ShortDay(start_local.date()),
            )
        parts["UNTIL"] = format_until(until)
    else:
        until = None
    try:
        du.rrulestr(
            join_parts({k: v for k, v in parts.items() if k != "UNTIL"}),
            dtstart=start_local,
            cache=False,
        )
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise RecurrenceError(
            N_("The repeat rule does not parse: %(reason)s."), reason=str(exc)
        ) from None
    explicit = explicit_parts(parts, start_local)
    horizon = start_local.replace(year=min(start_local.year + SEARCH_YEARS, 9999), month=1, day=1)
    first = next(bounded_between(explicit, start_local, start_local, horizon), None)
    if first is None:
        raise RecurrenceError(
            N_("This rule produces no date in the %(years)d years after the start."),
            years=SEARCH_YEARS,
        )
    if first != start_local:
        raise RecurrenceError(
            N_(
                "The start (%(date)s %(at)s) does not fit the pattern; the first date that fits "
                "is %(first_date)s %(first_at)s. Move the start there or change the pattern."
            ),
            date=LongDay(start_local.date()),
            at=At(start_local),
            first_date=LongDay(first.date()),
            first_at=At(first),
        )
    if until is not None and instant(first, tz) > until:
        raise RecurrenceError(N_("This rule produces no date before its end date."))
    year_end = start_local + (date(start_local.year + 1, 1, 1) - date(start_local.year, 1, 1))
    for count, _ in enumerate(bounded_between(explicit, start_local, start_local, year_end), 1):
        if count > MAX_PER_YEAR:
            raise RecurrenceError(
                N_(
                    "This rule gives more than %(count)s occurrences a year; routines are for "
                    "people, so choose a sparser pattern."
                ),
                count=Number(MAX_PER_YEAR),
            )
    return join_parts(parts)


def validate_duration(minutes: int | None) -> timedelta:
    """The duration as a timedelta, or RecurrenceError in words."""
    if minutes is None:
        raise RecurrenceError(N_("Say how long it lasts."))
    if minutes <= 0:
        raise RecurrenceError(N_("The duration must be longer than zero minutes."))
    # Compared as numbers first: timedelta() itself overflows on a huge number of minutes.
    if minutes > MAX_DURATION // timedelta(minutes=1):
        raise RecurrenceError(N_("The duration can be at most 7 days."))
    return timedelta(minutes=minutes)
