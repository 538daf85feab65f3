"""Rules in people's words: Schedule <-> RRULE, English descriptions, validation messages."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.scheduling.recurrence import RecurrenceError, Series, expand, localize
from planner.scheduling.rules import (
    Schedule,
    align_start,
    describe,
    from_rrule,
    nth_of,
    to_rrule,
    validate_duration,
    validate_rule,
)

BERLIN = "Europe/Berlin"
THU = datetime(2026, 12, 3, 19, 0)  # a Thursday, the first Thursday of December


# --------------------------------------------------------------------------- to_rrule


@pytest.mark.parametrize(
    ("schedule", "rule"),
    [
        (Schedule("once"), ""),
        (Schedule("daily"), "FREQ=DAILY"),
        (Schedule("weekly", interval=2), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"),
        (Schedule("weekly", weekdays=frozenset({3, 0})), "FREQ=WEEKLY;BYDAY=MO,TH"),
        (Schedule("monthly_day"), "FREQ=MONTHLY;BYMONTHDAY=3"),
        (Schedule("monthly_day", month_day=31), "FREQ=MONTHLY;BYMONTHDAY=31"),
        (Schedule("monthly_nth"), "FREQ=MONTHLY;BYDAY=1TH"),
        (Schedule("monthly_nth", nth=-1, weekday=4), "FREQ=MONTHLY;BYDAY=-1FR"),
        (Schedule("yearly", ends="count", count=10), "FREQ=YEARLY;COUNT=10"),
        # UNTIL is the end of the local day, in UTC (Berlin winter: 23:59:59 = 22:59:59Z) ...
        (
            Schedule("daily", ends="until", until=date(2027, 3, 27)),
            "FREQ=DAILY;UNTIL=20270327T225959Z",
        ),
        # ... and in summer time 21:59:59Z.
        (
            Schedule("daily", ends="until", until=date(2027, 3, 28)),
            "FREQ=DAILY;UNTIL=20270328T215959Z",
        ),
    ],
)
def test_to_rrule(schedule, rule):
    assert to_rrule(schedule, THU, BERLIN) == rule


def test_to_rrule_refuses_nonsense():
    for schedule in (
        Schedule("fortnightly"),
        Schedule("daily", interval=0),
        Schedule("monthly_day", month_day=32),
        Schedule("monthly_nth", nth=5, weekday=1),
        Schedule("weekly", weekdays=frozenset({9})),
        Schedule("daily", ends="until"),
        Schedule("daily", ends="count", count=0),
        Schedule("daily", ends="sometime"),
    ):
        with pytest.raises(RecurrenceError):
            to_rrule(schedule, THU, BERLIN)


def test_until_date_is_inclusive():
    rule = to_rrule(Schedule("weekly", ends="until", until=date(2026, 12, 24)), THU, BERLIN)
    found = expand(Series(THU, BERLIN, timedelta(hours=1), rule), localize(THU, BERLIN),
                   datetime(2030, 1, 1, tzinfo=UTC))
    assert [o.start.day for o in found] == [3, 10, 17, 24]


def test_nth_of():
    assert [nth_of(date(2026, 12, d)) for d in (1, 7, 8, 14, 15, 22, 28, 29, 31)] == [
        1, 1, 2, 2, 3, 4, 4, -1, -1,
    ]


# --------------------------------------------------------------------------- from_rrule


def test_from_rrule_simple_and_advanced():
    assert from_rrule("", THU, BERLIN) == Schedule("once")
    assert from_rrule("RRULE:FREQ=WEEKLY", THU, BERLIN) == Schedule(
        "weekly", weekdays=frozenset({3})
    )
    assert from_rrule("FREQ=MONTHLY", THU, BERLIN) == Schedule("monthly_day", month_day=3)
    assert from_rrule("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=3", THU, BERLIN) == Schedule("yearly")
    for advanced in (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=DAILY;BYHOUR=9,17",
        "FREQ=MONTHLY;BYDAY=5TH",
        "FREQ=YEARLY;BYMONTH=6",
        "FREQ=WEEKLY;BYDAY=1TH",
        "not a rule",
    ):
        assert from_rrule(advanced, THU, BERLIN) is None


def test_from_rrule_reads_split_rule_until_as_the_day_before():
    # split_rule ends a series one second before an occurrence: that day is not included.
    assert from_rrule("FREQ=WEEKLY;UNTIL=20261224T175959Z", THU, BERLIN).until == date(
        2026, 12, 23
    )
    assert from_rrule("FREQ=WEEKLY;UNTIL=20261224T180000Z", THU, BERLIN).until == date(
        2026, 12, 24
    )


ZONES = [BERLIN, "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "UTC"]


@st.composite
def schedules(draw) -> tuple[Schedule, datetime, str]:
    kind = draw(st.sampled_from(["once", "daily", "weekly", "monthly_day", "monthly_nth",
                                 "yearly"]))
    day = draw(st.dates(date(2000, 1, 1), date(2040, 12, 31)))
    hour, minute = draw(st.sampled_from([(0, 0), (2, 15), (2, 30), (7, 30), (19, 0), (23, 59)]))
    start = datetime(day.year, day.month, day.day, hour, minute)
    zone = draw(st.sampled_from(ZONES))
    if kind == "once":
        return Schedule("once"), start, zone
    ends = draw(st.sampled_from(["never", "until", "count"]))
    fields = {
        "kind": kind,
        "interval": draw(st.integers(1, 12)),
        "ends": ends,
        "until": day + timedelta(days=draw(st.integers(0, 3000))) if ends == "until" else None,
        "count": draw(st.integers(1, 500)) if ends == "count" else None,
    }
    if kind == "weekly":
        fields["weekdays"] = frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))
    elif kind == "monthly_day":
        fields["month_day"] = draw(st.integers(1, 31))
    elif kind == "monthly_nth":
        fields["nth"] = draw(st.sampled_from([1, 2, 3, 4, -1]))
        fields["weekday"] = draw(st.integers(0, 6))
    return Schedule(**fields), start, zone


@settings(max_examples=200, deadline=None)
@given(schedules())
def test_schedule_round_trips_through_rrule(drawn):
    schedule, start, zone = drawn
    text = to_rrule(schedule, start, zone)
    assert from_rrule(text, start, zone) == schedule
    assert to_rrule(from_rrule(text, start, zone), start, zone) == text
    # Moved onto a date that fits, every simple schedule is a valid rule with a description.
    aligned = align_start(schedule, start, zone)
    if schedule.ends == "until" and aligned.date() > schedule.until:
        with pytest.raises(RecurrenceError):
            validate_rule(to_rrule(schedule, aligned, zone), aligned, zone)
        return
    text = to_rrule(schedule, aligned, zone)
    assert validate_rule(text, aligned, zone) == text
    assert describe(text, aligned, zone).endswith(zone) or "(" in describe(text, aligned, zone)


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", THU, "Every 2 weeks on Thursday at 19:00"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", THU, "Every Monday and Thursday at 19:00"),
        ("FREQ=DAILY", datetime(2026, 12, 3, 7, 30), "Every day at 07:30"),
        ("FREQ=DAILY;INTERVAL=3", THU, "Every 3 days at 19:00"),
        ("FREQ=MONTHLY;BYDAY=1SA", datetime(2026, 12, 5, 11, 0),
         "Monthly on the first Saturday at 11:00"),
        ("FREQ=MONTHLY;BYDAY=-1FR", datetime(2026, 12, 25, 11, 0),
         "Monthly on the last Friday at 11:00"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 12, 31, 18, 0),
         "Monthly on day 31 at 18:00 (months without a 31st are skipped)"),
        ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15", THU, "Every 2 months on day 15 at 19:00"),
        ("", THU, "Once on Thursday 3 December 2026 at 19:00"),
        ("FREQ=YEARLY", datetime(2028, 2, 29, 9, 0),
         "Every year on 29 February at 09:00 (only in leap years)"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20270331T215959Z", THU,
         "Every Thursday at 19:00 until 31 March 2027"),
        ("FREQ=WEEKLY;BYDAY=TH;COUNT=10", THU, "Every Thursday at 19:00, 10 times"),
    ],
)
def test_describe(rule, start, expected):
    assert describe(rule, start, BERLIN, with_zone=False) == expected


def test_describe_names_zone_and_duration():
    assert describe("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", THU, BERLIN) == (
        "Every 2 weeks on Thursday at 19:00, Europe/Berlin"
    )
    assert describe("FREQ=DAILY", THU, BERLIN, timedelta(minutes=90), with_zone=False) == (
        "Every day at 19:00 for 1 hour 30 minutes"
    )
    advanced = describe("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", THU, BERLIN)
    assert "BYSETPOS=-1" in advanced and "Thursday 3 December 2026" in advanced
    assert "FREQ=NONSENSE" in describe("FREQ=NONSENSE", THU, BERLIN)


# --------------------------------------------------------------------------- validation


def test_validate_normalizes():
    assert validate_rule("", THU, BERLIN) == ""
    assert validate_rule("rrule:freq=weekly;interval=1;byday=th", THU, BERLIN) == (
        "FREQ=WEEKLY;BYDAY=TH"
    )
    # a date UNTIL means the end of that local day, stored in UTC
    assert validate_rule("FREQ=WEEKLY;UNTIL=20270107", THU, BERLIN) == (
        "FREQ=WEEKLY;UNTIL=20270107T225959Z"
    )
    pasted = "DTSTART;TZID=Europe/Berlin:20261203T190000\nRRULE:FREQ=WEEKLY;BYDAY=TH"
    assert validate_rule(pasted, THU, BERLIN) == "FREQ=WEEKLY;BYDAY=TH"
    assert validate_rule("DTSTART:20261203T180000Z\nRRULE:FREQ=DAILY", THU, BERLIN) == (
        "FREQ=DAILY"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("bananas", "does not parse"),
        ("FREQ=WEEKLY;BYDAY", "without a value"),
        ("FREQ=SOMETIMES", "not a frequency"),
        ("BYDAY=TH", "needs FREQ"),
        ("FREQ=WEEKLY;COLOUR=RED", "unknown part"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL=0"),
        ("FREQ=WEEKLY;INTERVAL=two", "whole number"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT=0"),
        ("FREQ=WEEKLY;UNTIL=20261101T000000Z", "before the start"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "not a date"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20271101T000000Z", "not both"),
        ("FREQ=HOURLY", "at most once a day"),
        ("FREQ=MINUTELY", "at most once a day"),
        ("FREQ=SECONDLY", "at most once a day"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no date"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", "no date"),
        ("FREQ=WEEKLY;BYDAY=TH;BYSETPOS=2", "no date"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "out of range"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "does not work with FREQ=WEEKLY"),
        ("FREQ=WEEKLY;BYDAY=1TH", "only works with FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6TH", "out of range"),
        ("FREQ=DAILY;BYWEEKNO=3", "only works with FREQ=YEARLY"),
        ("FREQ=DAILY;BYSECOND=30", "whole minutes"),
        ("FREQ=WEEKLY;BYDAY=MO", "does not fit the pattern; the first date that fits is "
                                 "Monday 7 December 2026"),
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19;BYMINUTE=0",
         "more than 1,000"),
        ("DTSTART:20261203T200000\nRRULE:FREQ=WEEKLY", "does not match the start"),
        ("DTSTART;TZID=America/New_York:20261203T190000\nRRULE:FREQ=WEEKLY",
         "does not match the start"),
        ("RRULE:FREQ=WEEKLY\nRRULE:FREQ=DAILY", "Only one RRULE"),
        ("RRULE:FREQ=WEEKLY\nEXDATE:20261210T190000", "not EXDATE"),
    ],
)
def test_validate_rule_messages(text, message):
    with pytest.raises(RecurrenceError, match=message.replace("(", r"\(")):
        validate_rule(text, THU, BERLIN)


def test_validate_rule_unknown_zone_and_start():
    with pytest.raises(RecurrenceError, match="not a timezone"):
        validate_rule("FREQ=WEEKLY", THU, "Europe/Atlantis")
    with pytest.raises(RecurrenceError, match="whole minutes"):
        validate_rule("FREQ=WEEKLY", THU.replace(second=5), BERLIN)


def test_validation_of_empty_rules_is_fast():
    # dateutil would step day by day to year 9999 (seconds) for these; validation must not.
    began = clock.perf_counter()
    for text in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYHOUR=5;BYSETPOS=3",
                 "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2"):
        with pytest.raises(RecurrenceError):
            validate_rule(text, THU, BERLIN)
    assert clock.perf_counter() - began < 0.5


def test_a_rule_with_several_times_a_day_under_the_limit_is_accepted():
    start = datetime(2026, 12, 3, 9, 0)
    assert validate_rule("FREQ=DAILY;BYHOUR=9,17", start, BERLIN) == (
        "FREQ=DAILY;BYHOUR=9,17"
    )


def test_align_start_moves_to_the_first_fitting_date():
    wednesday = datetime(2026, 12, 2, 19, 0)
    assert align_start(Schedule("weekly", weekdays=frozenset({1, 3})), wednesday, BERLIN) == THU
    assert align_start(
        Schedule("monthly_nth", nth=1, weekday=5), wednesday, BERLIN
    ) == datetime(2026, 12, 5, 19, 0)
    assert align_start(Schedule("monthly_day", month_day=31), datetime(2027, 2, 1, 18), BERLIN) \
        == datetime(2027, 3, 31, 18)


def test_validate_duration():
    assert validate_duration(90) == timedelta(minutes=90)
    assert validate_duration(7 * 24 * 60) == timedelta(days=7)
    for bad, message in ((0, "longer than zero"), (-5, "longer than zero"),
                         (7 * 24 * 60 + 1, "at most 7 days"), (None, "how long"),
                         (10**20, "at most 7 days"), (2**63, "at most 7 days")):
        with pytest.raises(RecurrenceError, match=message):
            validate_duration(bad)
