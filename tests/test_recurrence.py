"""The pure recurrence engine: DST, calendar edges, UNTIL/COUNT, windows, overrides, splits.

No database: these run in milliseconds. The property tests compare the engine with dateutil's
rrule evaluated on naive local times and localized independently (zoneinfo + UTC round trip).
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.scheduling.recurrence import (
    OverrideData,
    RecurrenceError,
    Series,
    end_rule,
    expand,
    format_key,
    join_parts,
    load_zone,
    localize,
    next_occurrences,
    occurrence_at,
    parse_key,
    parse_parts,
    parse_until,
    split_rule,
)
from planner.scheduling.rules import bounded_between, explicit_parts

HOUR = timedelta(hours=1)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
SYDNEY = "Australia/Sydney"
LORD_HOWE = "Australia/Lord_Howe"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def starts(series: Series, lo: datetime, hi: datetime) -> list[datetime]:
    """Occurrence starts in UTC (same-zone comparisons would ignore fold)."""
    return [o.start.astimezone(UTC) for o in expand(series, lo, hi)]


def offsets(series: Series, lo: datetime, hi: datetime) -> list[timedelta]:
    return [o.start.utcoffset() for o in expand(series, lo, hi)]


# --------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("zone", "before", "after", "winter", "summer"),
    [
        # spring forward in Europe and America: 19:00 stays 19:00, the UTC offset changes
        (BERLIN, date(2026, 3, 26), date(2026, 4, 2), timedelta(hours=1), timedelta(hours=2)),
        (NEW_YORK, date(2026, 3, 5), date(2026, 3, 12), timedelta(hours=-5), timedelta(hours=-4)),
        # southern hemisphere: summer time starts in October
        (SYDNEY, date(2026, 10, 1), date(2026, 10, 8), timedelta(hours=10), timedelta(hours=11)),
        (
            LORD_HOWE,
            date(2026, 10, 1),
            date(2026, 10, 8),
            timedelta(hours=10, minutes=30),
            timedelta(hours=11),
        ),
    ],
)
def test_wall_clock_time_stays_across_dst(zone, before, after, winter, summer):
    series = Series(datetime(2026, 1, 1, 19, 0), zone, HOUR, "FREQ=DAILY")
    lo = localize(datetime.combine(before, datetime.min.time()), zone)
    hi = localize(datetime.combine(after, datetime.min.time()), zone)
    found = expand(series, lo, hi)
    assert [o.start.strftime("%H:%M") for o in found] == ["19:00"] * 7
    assert found[0].start.utcoffset() == winter
    assert found[-1].start.utcoffset() == summer
    assert all(o.end.astimezone(UTC) - o.start.astimezone(UTC) == HOUR for o in found)


@pytest.mark.parametrize(
    ("zone", "gap_day", "local", "moved"),
    [
        (BERLIN, date(2026, 3, 29), (2, 30), (3, 30)),
        (NEW_YORK, date(2026, 3, 8), (2, 30), (3, 30)),
        (SYDNEY, date(2026, 10, 4), (2, 30), (3, 30)),
        (LORD_HOWE, date(2026, 10, 4), (2, 15), (2, 45)),  # a 30-minute gap
    ],
)
def test_time_in_spring_gap_moves_forward_by_the_gap(zone, gap_day, local, moved):
    start = datetime.combine(gap_day - timedelta(days=7), datetime.min.time()).replace(
        hour=local[0], minute=local[1]
    )
    series = Series(start, zone, HOUR, "FREQ=WEEKLY;COUNT=3")
    found = expand(series, utc(2000, 1, 1), utc(2100, 1, 1))
    assert [o.start.strftime("%H:%M") for o in found] == [
        f"{local[0]:02}:{local[1]:02}",
        f"{moved[0]:02}:{moved[1]:02}",
        f"{local[0]:02}:{local[1]:02}",
    ]
    gap = found[1]
    # The key stays the rule's wall-clock time; the instant is real and one hour long.
    assert gap.key == format_key(datetime.combine(gap_day, datetime.min.time()).replace(
        hour=local[0], minute=local[1]))
    assert gap.start.date() == gap_day
    assert gap.end.astimezone(UTC) - gap.start.astimezone(UTC) == HOUR
    # The moved time exists: converting back and forth is stable.
    assert gap.start.astimezone(UTC).astimezone(ZoneInfo(zone)) == gap.start


@pytest.mark.parametrize(
    ("zone", "day", "local", "first_offset"),
    [
        (BERLIN, date(2026, 10, 25), (2, 30), timedelta(hours=2)),
        (NEW_YORK, date(2026, 11, 1), (1, 30), timedelta(hours=-4)),
        (SYDNEY, date(2026, 4, 5), (2, 30), timedelta(hours=11)),
        (LORD_HOWE, date(2026, 4, 5), (1, 45), timedelta(hours=11)),
    ],
)
def test_ambiguous_fall_back_time_takes_the_first(zone, day, local, first_offset):
    start = datetime.combine(day, datetime.min.time()).replace(hour=local[0], minute=local[1])
    series = Series(start, zone, HOUR, "")
    (only,) = expand(series, utc(2000, 1, 1), utc(2100, 1, 1))
    assert only.start.utcoffset() == first_offset
    later = start.replace(tzinfo=ZoneInfo(zone), fold=1)
    # Same-zone comparisons ignore fold, so compare instants in UTC.
    assert only.start.astimezone(UTC) < later.astimezone(UTC)  # the first of the two instants


def test_localize_and_load_zone():
    assert localize(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1, 30)
    ambiguous = localize(datetime(2026, 10, 25, 2, 30), BERLIN)
    # PEP 495: an ambiguous time never equals a time in another zone; compare in UTC.
    assert ambiguous.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert ambiguous.fold == 0
    with pytest.raises(RecurrenceError, match="not a timezone"):
        load_zone("Mars/Olympus_Mons")
    with pytest.raises(RecurrenceError):
        load_zone("../../etc/passwd")


# --------------------------------------------------------------------------- calendar edges


def test_31st_of_the_month_skips_shorter_months():
    series = Series(datetime(2026, 1, 31, 18, 0), BERLIN, HOUR, "FREQ=MONTHLY;BYMONTHDAY=31")
    found = expand(series, utc(2026, 1, 1), utc(2027, 1, 1))
    assert [o.start.date().month for o in found] == [1, 3, 5, 7, 8, 10, 12]
    assert {o.start.day for o in found} == {31}


def test_29_february_yearly_only_in_leap_years():
    series = Series(datetime(2024, 2, 29, 12, 0), BERLIN, HOUR, "FREQ=YEARLY")
    found = expand(series, utc(2024, 1, 1), utc(2037, 1, 1))
    assert [o.start.year for o in found] == [2024, 2028, 2032, 2036]


def test_last_friday_of_the_month():
    series = Series(datetime(2026, 1, 30, 19, 0), BERLIN, HOUR, "FREQ=MONTHLY;BYDAY=-1FR")
    found = expand(series, utc(2026, 1, 1), utc(2026, 7, 1))
    assert [o.start.date() for o in found] == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
        date(2026, 4, 24),
        date(2026, 5, 29),
        date(2026, 6, 26),
    ]


def test_first_saturday_every_other_month():
    series = Series(datetime(2026, 1, 3, 11, 0), BERLIN, HOUR, "FREQ=MONTHLY;INTERVAL=2;BYDAY=1SA")
    found = expand(series, utc(2026, 1, 1), utc(2027, 1, 1))
    assert [o.start.date() for o in found] == [
        date(2026, 1, 3),
        date(2026, 3, 7),
        date(2026, 5, 2),
        date(2026, 7, 4),
        date(2026, 9, 5),
        date(2026, 11, 7),
    ]


# --------------------------------------------------------------------------- COUNT and UNTIL


def test_count_limits_the_series():
    series = Series(datetime(2026, 1, 1, 19, 0), BERLIN, HOUR, "FREQ=WEEKLY;COUNT=5")
    found = expand(series, utc(2020, 1, 1), utc(2030, 1, 1))
    assert len(found) == 5
    assert found[-1].start.date() == date(2026, 1, 29)


def test_until_is_inclusive_and_an_instant_across_dst():
    # Winter start (19:00 = 18:00Z); the summer occurrence at 19:00 CEST is 17:00Z.
    start = datetime(2026, 3, 5, 19, 0)
    exact = Series(start, BERLIN, HOUR, "FREQ=WEEKLY;UNTIL=20260402T170000Z")
    assert starts(exact, utc(2026, 1, 1), utc(2027, 1, 1))[-1] == utc(2026, 4, 2, 17)
    before = Series(start, BERLIN, HOUR, "FREQ=WEEKLY;UNTIL=20260402T165959Z")
    assert starts(before, utc(2026, 1, 1), utc(2027, 1, 1))[-1] == utc(2026, 3, 26, 18)
    # A naive comparison in winter time (18:00Z) would wrongly keep nothing more; check both
    # ways: an UNTIL of 17:30Z includes the 2 April occurrence (17:00Z) too.
    between = Series(start, BERLIN, HOUR, "FREQ=WEEKLY;UNTIL=20260402T173000Z")
    assert len(starts(between, utc(2026, 1, 1), utc(2027, 1, 1))) == 5


def test_until_inside_the_repeated_hour_compares_instants():
    # On the fall-back day 02:00-03:00 happens twice. UNTIL 01:15Z is the SECOND 02:15 (CET).
    # The 02:30 occurrence takes the first instant, 00:30Z, which is before UNTIL: it counts,
    # although a naive wall-clock comparison (02:30 > 02:15) would drop it.
    start = datetime(2026, 10, 20, 2, 30)
    series = Series(start, BERLIN, HOUR, "FREQ=DAILY;UNTIL=20261025T011500Z")
    found = expand(series, utc(2026, 10, 1), utc(2026, 11, 1))
    assert found[-1].start.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    earlier = Series(start, BERLIN, HOUR, "FREQ=DAILY;UNTIL=20261025T002959Z")
    assert expand(earlier, utc(2026, 10, 1), utc(2026, 11, 1))[-1].start.day == 24


def test_until_forms():
    assert parse_until("20260101T120000Z", BERLIN) == utc(2026, 1, 1, 12)
    assert parse_until("20260101T120000", BERLIN) == utc(2026, 1, 1, 11)
    assert parse_until("20260101", BERLIN) == utc(2026, 1, 1, 22, 59, 59)
    with pytest.raises(RecurrenceError, match="not a date"):
        parse_until("2026-01-01", BERLIN)


@pytest.mark.parametrize("value", ["99991231T235959Z", "99991231", "00010101T000000", "18991231"])
def test_until_outside_the_supported_years_is_a_message(value):
    """Year 9999 in UTC is year 10000 in Berlin: an OverflowError on every page, not a rule."""
    with pytest.raises(RecurrenceError, match="between 1900 and 2999"):
        parse_until(value, "Pacific/Kiritimati")


# --------------------------------------------------------------------------- windows


def test_window_is_half_open_and_uses_overlap():
    series = Series(datetime(2026, 5, 7, 19, 0), BERLIN, HOUR, "")
    start, end = utc(2026, 5, 7, 17), utc(2026, 5, 7, 18)  # 19:00-20:00 CEST
    assert expand(series, end, end + HOUR) == []  # window starts when it ends
    assert expand(series, start - HOUR, start) == []  # window ends when it starts
    assert len(expand(series, start - HOUR, start + timedelta(seconds=1))) == 1
    assert len(expand(series, end - timedelta(seconds=1), end + HOUR)) == 1
    assert len(expand(series, start + timedelta(minutes=10), start + timedelta(minutes=20))) == 1
    assert expand(series, end, start) == []


def test_open_ended_windows():
    series = Series(datetime(2026, 5, 7, 19, 0), BERLIN, HOUR, "FREQ=YEARLY;COUNT=3")
    everything = expand(series, datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    assert [o.start.year for o in everything] == [2026, 2027, 2028]


def test_window_must_be_aware():
    series = Series(datetime(2026, 5, 7, 19, 0), BERLIN, HOUR, "")
    with pytest.raises(ValueError):
        expand(series, datetime(2026, 1, 1), datetime(2027, 1, 1))


def test_endless_rule_is_bounded_by_the_window():
    series = Series(datetime(2000, 1, 1, 7, 30), BERLIN, HOUR, "FREQ=DAILY")
    began = clock.perf_counter()
    found = expand(series, utc(2090, 6, 1), utc(2090, 7, 1))
    far = occurrence_at(series, datetime(2199, 12, 31, 7, 30))
    assert clock.perf_counter() - began < 1.0
    assert len(found) == 30
    assert far is not None and far.start.year == 2199
    assert occurrence_at(series, datetime(2199, 12, 31, 7, 31)) is None
    assert len(next_occurrences(series, utc(2500, 1, 1), 5)) == 5


def test_next_occurrences_of_a_finished_or_sparse_rule():
    done = Series(datetime(2020, 1, 1, 10, 0), BERLIN, HOUR, "FREQ=DAILY;COUNT=3")
    assert next_occurrences(done, utc(2021, 1, 1), 5) == []
    leap = Series(datetime(2024, 2, 29, 10, 0), BERLIN, HOUR, "FREQ=YEARLY")
    assert [o.start.year for o in next_occurrences(leap, utc(2024, 3, 1), 3)] == [2028, 2032, 2036]


def test_keys():
    assert format_key(datetime(2026, 12, 3, 19, 0)) == "20261203T1900"
    assert parse_key("20261203T1900") == datetime(2026, 12, 3, 19, 0)
    for bad in ("", "20261203", "20261303T1900", "20261203T1961", "x0261203T1900", None):
        with pytest.raises(ValueError):
            parse_key(bad)
    # Keys a page could not localize (year 1, year 9999 west of UTC) name no occurrence.
    assert parse_key("29991231T2359") == datetime(2999, 12, 31, 23, 59)
    for far in ("99991231T2359", "00010101T0000", "18991231T2359", "30000101T0000"):
        with pytest.raises(ValueError):
            parse_key(far)


# --------------------------------------------------------------------------- overrides


def weekly(*overrides: OverrideData) -> Series:
    return Series(datetime(2026, 1, 1, 19, 0), BERLIN, 2 * HOUR, "FREQ=WEEKLY", overrides)


def test_cancelled_occurrence_is_returned_marked():
    series = weekly(OverrideData(datetime(2026, 1, 8, 19, 0), "cancelled", note="Ill"))
    found = expand(series, utc(2026, 1, 1), utc(2026, 1, 20))
    assert [o.status for o in found] == ["scheduled", "cancelled", "scheduled"]
    assert found[1].is_cancelled and found[1].note == "Ill"
    assert found[1].start == localize(datetime(2026, 1, 8, 19, 0), BERLIN)


def test_moved_occurrence_uses_its_new_time_for_the_window():
    moved = OverrideData(
        datetime(2026, 1, 8, 19, 0), "changed", start=datetime(2026, 2, 20, 18, 0),
        duration=HOUR, location="Park", title="Picnic", sequence=2,
    )
    series = weekly(moved)
    january = expand(series, utc(2026, 1, 1), utc(2026, 1, 20))
    assert [o.key for o in january] == ["20260101T1900", "20260115T1900"]
    february = expand(series, utc(2026, 2, 20), utc(2026, 2, 21))
    (picnic,) = february
    assert picnic.key == "20260108T1900"
    assert picnic.status == "changed"
    assert (picnic.title, picnic.location, picnic.sequence) == ("Picnic", "Park", 2)
    assert picnic.end - picnic.start == HOUR
    assert occurrence_at(series, datetime(2026, 1, 8, 19, 0)) == picnic


def test_change_of_title_only_keeps_the_time():
    series = weekly(OverrideData(datetime(2026, 1, 8, 19, 0), "changed", title="Soup night"))
    (one,) = expand(series, utc(2026, 1, 8), utc(2026, 1, 9))
    assert one.title == "Soup night" and one.location is None
    assert one.start == localize(datetime(2026, 1, 8, 19, 0), BERLIN)
    assert one.end - one.start == 2 * HOUR


def test_override_of_a_date_the_rule_does_not_produce_is_ignored():
    stray = OverrideData(datetime(2026, 1, 9, 19, 0), "changed", start=datetime(2026, 1, 10, 9))
    series = weekly(stray)
    found = expand(series, utc(2026, 1, 1), utc(2026, 1, 31))
    assert [o.status for o in found] == ["scheduled"] * 5
    assert occurrence_at(series, datetime(2026, 1, 9, 19, 0)) is None


def test_one_occurrence_moved_before_another_keeps_order_and_keys():
    series = weekly(
        OverrideData(datetime(2026, 1, 15, 19, 0), "changed", start=datetime(2026, 1, 7, 8, 0))
    )
    found = expand(series, utc(2026, 1, 1), utc(2026, 1, 20))
    assert [o.key for o in found] == ["20260101T1900", "20260115T1900", "20260108T1900"]


# --------------------------------------------------------------------------- split and end


def test_split_rule_with_count_and_until():
    series = Series(datetime(2026, 1, 1, 19, 0), BERLIN, HOUR, "FREQ=WEEKLY;COUNT=10")
    assert split_rule(series, datetime(2026, 1, 29, 19, 0)) == (
        "FREQ=WEEKLY;COUNT=4",
        "FREQ=WEEKLY;COUNT=6",
    )
    endless = Series(datetime(2026, 1, 1, 19, 0), BERLIN, HOUR, "FREQ=WEEKLY")
    old, new = split_rule(endless, datetime(2026, 7, 2, 19, 0))
    assert old == "FREQ=WEEKLY;UNTIL=20260702T165959Z"  # summer: 19:00 CEST is 17:00Z
    assert new == "FREQ=WEEKLY"
    with pytest.raises(RecurrenceError, match="first occurrence"):
        split_rule(endless, datetime(2026, 1, 1, 19, 0))
    with pytest.raises(RecurrenceError, match="no occurrence"):
        split_rule(endless, datetime(2026, 1, 2, 19, 0))


def test_end_rule():
    series = Series(datetime(2026, 1, 1, 19, 0), BERLIN, HOUR, "FREQ=WEEKLY")
    ended = end_rule(series, date(2026, 3, 31))
    assert ended == "FREQ=WEEKLY;UNTIL=20260331T215959Z"
    found = expand(Series(series.start, BERLIN, HOUR, ended), utc(2026, 1, 1), utc(2027, 1, 1))
    assert found[-1].start.date() == date(2026, 3, 26)
    counted = Series(series.start, BERLIN, HOUR, "FREQ=WEEKLY;COUNT=3")
    assert end_rule(counted, date(2027, 1, 1)) == "FREQ=WEEKLY;COUNT=3"  # never lengthened
    with pytest.raises(RecurrenceError, match="delete"):
        end_rule(series, date(2025, 12, 31))
    assert end_rule(Series(series.start, BERLIN, HOUR, ""), date(2026, 3, 1)) == ""


def test_bad_stored_rules_raise_recurrence_error():
    for text in ("FREQ=WEEKLY;COUNT=2;UNTIL=20260101T000000Z", "BYDAY=MO", "FREQ=SOMETIMES"):
        with pytest.raises(RecurrenceError):
            expand(Series(datetime(2026, 1, 1), BERLIN, HOUR, text), utc(2026, 1, 1),
                   utc(2026, 2, 1))


# --------------------------------------------------------------------------- properties

ZONES = [BERLIN, NEW_YORK, SYDNEY, LORD_HOWE, "UTC", "Asia/Kolkata", "America/Santiago",
         "Europe/London", "Pacific/Chatham", "Asia/Tehran"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw) -> tuple[Series, datetime]:
    """A valid series (start synchronized with its rule) and a window start."""
    zone = draw(st.sampled_from(ZONES))
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = {"FREQ": freq, "INTERVAL": str(draw(st.integers(1, 4)))}
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
            days = [f"{draw(st.sampled_from([1, 2, 3, 4, -1]))}{d}" for d in days[:1]]
        parts["BYDAY"] = ",".join(days)
    if freq != "WEEKLY" and draw(st.booleans()):
        parts["BYMONTHDAY"] = ",".join(
            str(d) for d in draw(st.lists(st.sampled_from([1, 13, 15, 28, 29, 30, 31, -1]),
                                          min_size=1, max_size=2, unique=True))
        )
    if freq in ("DAILY", "YEARLY") and draw(st.booleans()):
        parts["BYMONTH"] = ",".join(
            str(m) for m in draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        )
    # Start times include spring-gap and fall-back times (02:00-03:00, Lord Howe's 02:15).
    hour, minute = draw(st.sampled_from([(0, 0), (1, 30), (2, 0), (2, 15), (2, 30), (7, 30),
                                         (19, 0), (23, 45)]))
    day = draw(st.dates(date(1995, 1, 1), date(2045, 12, 31)))
    start = datetime(day.year, day.month, day.day, hour, minute)
    first = next(bounded_between(explicit_parts(parts, start), start, start,
                                 datetime(start.year + 10, 12, 31)), None)
    assume(first is not None)
    start = first
    ending = draw(st.sampled_from(["never", "count", "until"]))
    if ending == "count":
        parts["COUNT"] = str(draw(st.integers(1, 40)))
    elif ending == "until":
        until = localize(start, zone) + timedelta(
            days=draw(st.integers(0, 2000)), seconds=draw(st.integers(-3600, 3600))
        )
        parts["UNTIL"] = until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    duration = timedelta(minutes=draw(st.sampled_from([30, 60, 150, 24 * 60])))
    window_start = localize(start, zone) + timedelta(days=draw(st.integers(-40, 5000)),
                                                     hours=draw(st.integers(0, 23)))
    return Series(start, zone, duration, join_parts(parts)), window_start


def reference(series: Series, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """dateutil on naive local times from DTSTART, localized on its own, UNTIL as an instant."""
    parts = parse_parts(series.rrule)
    until = parse_until(parts.pop("UNTIL"), series.timezone) if "UNTIL" in parts else None
    zone = ZoneInfo(series.timezone)
    naive_hi = hi.astimezone(zone).replace(tzinfo=None) + timedelta(days=2)
    out = []
    for value in rrulestr(join_parts(parts), dtstart=series.start):
        if value > naive_hi:
            break
        instant = value.replace(tzinfo=zone).astimezone(UTC)  # fold=0
        if until is not None and instant > until:
            break
        end = instant + series.duration
        if instant < hi and end > lo:
            out.append((instant, end))
    return out


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.filter_too_much])


@FAST
@given(rules(), st.integers(1, 400))
def test_expansion_equals_dateutil_in_local_time(drawn, days):
    series, lo = drawn
    hi = lo + timedelta(days=days)
    found = expand(series, lo, hi)
    assert [(o.start.astimezone(UTC), o.end.astimezone(UTC)) for o in found] == reference(
        series, lo, hi
    )
    zone = ZoneInfo(series.timezone)
    # And the same wall clock in the routine's zone, fold included.
    assert [(o.start.replace(tzinfo=None), o.start.fold) for o in found] == [
        (a.astimezone(zone).replace(tzinfo=None), a.astimezone(zone).fold)
        for a, _ in reference(series, lo, hi)
    ]
    assert all(o.status == "scheduled" for o in found)
    assert all(o.start.tzinfo.key == series.timezone for o in found)
    for occurrence in found:
        assert occurrence_at(series, occurrence.original_start) == occurrence


@FAST
@given(rules(), st.data())
def test_each_override_applies_exactly_once(drawn, data):
    series, lo = drawn
    hi = lo + timedelta(days=120)
    plain = expand(series, lo, hi)
    assume(plain)
    chosen = data.draw(st.lists(st.sampled_from(plain), max_size=4, unique=True))
    overrides = []
    for occurrence in chosen:
        status = data.draw(st.sampled_from(["cancelled", "changed"]))
        shift = data.draw(st.sampled_from([None, -30, -1, 1, 45, 400]))
        moved = None if shift is None else occurrence.original_start + timedelta(days=shift)
        overrides.append(OverrideData(occurrence.original_start, status, start=moved,
                                      title="x", sequence=1))
    stray = OverrideData(datetime(1990, 1, 1, 0, 1), "changed", start=plain[0].original_start)
    with_overrides = Series(series.start, series.timezone, series.duration, series.rrule,
                            (*overrides, stray))
    wide_lo, wide_hi = lo - timedelta(days=500), hi + timedelta(days=500)
    everything = expand(with_overrides, wide_lo, wide_hi)
    keys = [o.original_start for o in everything]
    assert len(keys) == len(set(keys))  # no occurrence twice
    assert stray.original_start not in keys
    by_key = {o.original_start: o for o in everything}
    for override in overrides:
        shown = by_key[override.original_start]
        assert shown.status == override.status
        assert shown.title == "x"
        if override.start is not None:
            assert shown.start.astimezone(UTC) == localize(override.start, series.timezone)
        assert occurrence_at(with_overrides, override.original_start) == shown
    # Inside the window: exactly the wide expansion's occurrences that overlap it.
    window = expand(with_overrides, lo, hi)
    assert window == [o for o in everything if o.start < hi and o.end > lo]
    cancelled = {o.original_start for o in overrides if o.status == "cancelled"}
    assert not any(o.original_start in cancelled and not o.is_cancelled for o in window)
    assert all(o.status == "scheduled" for o in window if o.original_start not in
               {x.original_start for x in overrides})


@FAST
@given(rules(), st.data())
def test_split_rule_keeps_the_union(drawn, data):
    series, _ = drawn
    lo = localize(series.start, series.timezone) - timedelta(days=1)
    hi = lo + timedelta(days=800)
    original = expand(series, lo, hi)
    assume(len(original) >= 2)
    at = data.draw(st.sampled_from(original[1:])).original_start
    old, new = split_rule(series, at)
    before = expand(Series(series.start, series.timezone, series.duration, old), lo, hi)
    after = expand(Series(at, series.timezone, series.duration, new), lo, hi)
    assert all(o.original_start < at for o in before)
    assert [o.start.astimezone(UTC) for o in before + after] == [
        o.start.astimezone(UTC) for o in original
    ]


@FAST
@given(rules())
def test_bounded_probe_agrees_with_dateutil(drawn):
    series, _ = drawn
    parts = parse_parts(series.rrule)
    parts.pop("COUNT", None)
    parts.pop("UNTIL", None)
    hi = series.start + timedelta(days=900)
    expected = list(rrulestr(join_parts(parts), dtstart=series.start).between(
        series.start, hi, inc=True))
    got = list(bounded_between(explicit_parts(parts, series.start), series.start, series.start,
                               hi))
    assert got == expected


@pytest.mark.parametrize(
    ("start", "rule"),
    [
        (datetime(2001, 1, 31, 18, 0), "FREQ=MONTHLY;BYMONTHDAY=31"),
        (datetime(2001, 1, 26, 19, 0), "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR"),
        (datetime(2001, 1, 4, 19, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;WKST=SU"),
        (datetime(2000, 2, 29, 9, 0), "FREQ=YEARLY"),
        (datetime(2001, 1, 2, 9, 0), "FREQ=DAILY;INTERVAL=3;BYDAY=TU,SA"),
        (datetime(2001, 1, 1, 9, 0), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
    ],
)
def test_far_windows_restart_without_changing_the_result(start, rule):
    # Far from the start, expansion restarts the rule near the window (see _rule_from); the
    # result must equal plain dateutil iteration from the real start.
    series = Series(start, BERLIN, HOUR, rule)
    lo, hi = utc(2031, 11, 20), utc(2033, 2, 10)
    assert starts(series, lo, hi) == [a for a, _ in reference(series, lo, hi)]
