"""A rule compiled for dateutil, and restarted near a window so old routines stay cheap.

dateutil evaluates the rule on NAIVE local times (a routine is wall-clock time); it refuses a
UTC UNTIL with a naive start, so the UNTIL instant is kept beside the rule and filtered on by
the caller. Restarting a rule at a later period boundary gives the same occurrences only when
nothing counts from the start (COUNT) or spans years (BYWEEKNO): :class:`_Rule` knows which.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil import rrule as du

from planner.scheduling.catalog import N_
from planner.scheduling.rruletext import (
    FREQUENCIES,
    explicit_parts,
    join_parts,
    parse_parts,
    parse_until,
)
from planner.scheduling.zones import RecurrenceError, load_zone, to_local_naive

# The largest difference between naive-local order and instant order (a DST shift; Troll has 2h).
_SHIFT_SLACK = timedelta(hours=3)


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


@functools.lru_cache(maxsize=1024)
def _compile(text: str, start: datetime, tz_name: str) -> _Rule:
    parts = parse_parts(text)
    load_zone(tz_name)
    until = parse_until(parts.pop("UNTIL"), tz_name) if "UNTIL" in parts else None
    if until is not None and "COUNT" in parts:
        raise RecurrenceError(
            N_("A repeat rule can end after a number of times or on a date, not both.")
        )
    try:
        rule = du.rrulestr(join_parts(parts), dtstart=start, cache=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise RecurrenceError(
            N_("The repeat rule does not parse: %(reason)s."), reason=str(exc)
        ) from None
    if not isinstance(rule, du.rrule):  # pragma: no cover - rrulestr gives an rrule for one RRULE
        raise RecurrenceError(N_("The repeat rule does not parse."))
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
        # dateutil's own reading of INTERVAL and WKST (defaults included): private, but the
        # restart must step exactly as the rule does.
        interval=rule._interval,  # type: ignore[attr-defined]
        wkst=rule._wkst,  # type: ignore[attr-defined]
    )


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
    return _restarted(compiled.explicit, restart, compiled.local_until)


@functools.lru_cache(maxsize=1024)
def _restarted(explicit: str, restart: datetime, local_until: datetime | None) -> du.rrule:
    """The explicit rule started at ``restart``: parsed once per boundary, not per call (a feed
    restarts every routine's rule at the same boundary, on every render). Shared safely:
    iterating an rrule built with ``cache=False`` does not change it."""
    rule = du.rrulestr(explicit, dtstart=restart, cache=False)
    assert isinstance(rule, du.rrule)  # one RRULE line parses to an rrule, never a set
    if local_until is not None:
        rule = rule.replace(until=local_until)
    return rule
