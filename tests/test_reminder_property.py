"""A property of the minute scan: for random groups, routines (any zone, across a DST change),
people (any zone), preferences, answers, regulars, capacities, cancellations, moves and people
leaving, the reminders and nudges sent over two weeks are exactly the ones a plain expectation
written from the rules computes: never twice, none missing, none after a cancellation.

The expectation below re-derives everything from the stored facts with zoneinfo and date
arithmetic (weekly dates, the waitlist's strict arrival order, the three preference layers, the
evening/morning/hours moments); it calls nothing of planner.notify.

**Stepping.** The acceptance says "minute by minute". The scan's answer at minute t depends only
on the data and t through comparisons of t with a finite set of instants: each date's start,
each person's reminder and nudge moment (for every state the data passes through), and the
moments the data changes. Between two consecutive such instants nothing the scan compares can
change, so a scan at every minute in between queues nothing a scan at the instants would not.
The test therefore runs the real worker minute (scan + delivery) at every one of those instants
and at the minute before each (a scan a minute early is caught there; one a minute late sends
at a later step, and the send time is compared), and every twelve hours besides: ~100 minutes
per two weeks instead of 20,160, the same outcome for a correct scan and the same chance to
catch a wrong one at the boundaries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from planner.models import (
    Group,
    GroupMailSettings,
    MailSettings,
    Membership,
    OutboxMessage,
    Override,
    Regular,
    Routine,
    Rsvp,
    Slot,
    User,
)
from tests.reminder_world import tick

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC",
         "Pacific/Auckland"]
# Two weeks around the European spring change (Sydney's ends on 4 April too) and the autumn
# one (New York's follows on 7 November).
STARTS = [datetime(2027, 3, 22), datetime(2027, 10, 25)]
SPAN = timedelta(days=14)
HOURS = [7, 8, 12, 17, 18, 20, 21]  # reminder hours: none falls in a DST gap
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
TIMINGS: dict[str, float] = {}
#: Weekly dates 0..3: week 0 ends before the two weeks, week 3 starts after them but its
#: reminders (up to 72 hours ahead) may fall inside; week 4 is out of every lead.
WEEKS = 4
PROFILE: list = []


@dataclass
class PersonSpec:
    zone: str
    reminder: str | None  # MailSettings.reminder; None: no row at all
    hour: int | None
    hours_before: int | None
    scope: str | None  # GroupMailSettings.scope for every group; "-" : no row
    muted: tuple[str, ...]


@dataclass
class RoutineSpec:
    group: int
    weekday: int
    hour: int
    minute: int
    zone: str
    capacity: int | None
    ask: int | None


@dataclass
class World:
    start: datetime
    groups: list[tuple[str, str, int]]  # zone, default reminder, default hour
    people: list[PersonSpec]
    routines: list[RoutineSpec]
    answers: dict[tuple[int, int, int], str]  # (routine, week, person) -> going/maybe/declined
    regulars: set[tuple[int, int]]  # (routine, person)
    arrival: dict[tuple[int, int, int], int]  # order of answers / regulars joining
    cancels: dict[tuple[int, int], int]  # (routine, week) -> minute of the sim it happens
    moves: dict[tuple[int, int], tuple[int, int]]  # (routine, week) -> (minute, new hour)
    leaves: dict[int, int]  # person -> minute they leave (every group)
    ids: dict[str, dict[int, int]] = field(default_factory=dict)


@st.composite
def worlds(draw):
    start = draw(st.sampled_from(STARTS))
    groups = [(draw(st.sampled_from(ZONES)), draw(st.sampled_from(["evening", "morning",
              "hours"])), draw(st.sampled_from(HOURS))) for _ in range(draw(st.integers(1, 2)))]
    people = []
    for _ in range(draw(st.integers(1, 4))):
        reminder = draw(st.sampled_from([None, None, "evening", "morning", "hours", "off"]))
        people.append(PersonSpec(
            zone=draw(st.sampled_from(ZONES)),
            reminder=reminder,
            hour=draw(st.sampled_from([None, *HOURS])),
            hours_before=draw(st.sampled_from([None, 1, 3, 24, 72])),
            scope=draw(st.sampled_from(["-", "-", "-", None, "all", "going", "none"])),
            muted=draw(st.sampled_from([(), (), (), ("reminder",), ("ask",)])),
        ))
    routines = []
    for _ in range(draw(st.integers(1, 3))):
        routines.append(RoutineSpec(
            group=draw(st.integers(0, len(groups) - 1)),
            weekday=draw(st.integers(0, 6)),
            hour=draw(st.integers(5, 22)),  # no local start in a DST gap
            minute=draw(st.sampled_from([0, 30])),
            zone=draw(st.sampled_from(ZONES)),
            capacity=draw(st.sampled_from([None, None, 1, 2])),
            ask=draw(st.sampled_from([48, None, None, 24])),
        ))
    weeks = range(WEEKS)
    answers, arrival, regulars = {}, {}, set()
    order = 0
    for r in range(len(routines)):
        for p in range(len(people)):
            if draw(st.integers(0, 2)) == 0:
                regulars.add((r, p))
                arrival[(r, -1, p)] = order = order + 1
            for w in weeks:
                said = draw(st.sampled_from(["going", None, "going", "maybe", "declined"]))
                if said:
                    answers[(r, w, p)] = said
                    arrival[(r, w, p)] = order = order + 1
    minutes = st.integers(0, int(SPAN.total_seconds() // 60) - 1)
    cancels, moves = {}, {}
    for r in range(len(routines)):
        for w in weeks:
            pick = draw(st.integers(0, 5))  # 0, the simplest, changes nothing
            if pick == 4:
                cancels[(r, w)] = draw(st.one_of(st.just(0), minutes))
            elif pick == 5:
                moves[(r, w)] = (draw(st.one_of(st.just(0), minutes)),
                                 draw(st.integers(5, 23)))
    leaves = {p: draw(minutes) for p in range(len(people)) if draw(st.integers(0, 5)) == 5}
    return World(start, groups, people, routines, answers, regulars, arrival, cancels, moves,
                 leaves)


# --------------------------------------------------------------------------- the expectation


def local_start(world: World, r: int, w: int, moved: bool) -> datetime:
    spec = world.routines[r]
    first = world.start.date() - timedelta(days=7)
    first += timedelta(days=(spec.weekday - first.weekday()) % 7)
    day = first + timedelta(weeks=w)
    hour = world.moves[(r, w)][1] if moved else spec.hour
    minute = 0 if moved else spec.minute
    return datetime(day.year, day.month, day.day, hour, minute)


def utc_of(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def at_minute(world: World, minute: int) -> datetime:
    return world.start + timedelta(minutes=minute)


def facts_at(world: World, r: int, w: int, t: datetime):
    """(start UTC, cancelled) of a date at instant t."""
    cancel = world.cancels.get((r, w))
    cancelled = cancel is not None and at_minute(world, cancel) <= t
    move = world.moves.get((r, w))
    moved = move is not None and at_minute(world, move[0]) <= t
    zone = world.routines[r].zone
    return utc_of(local_start(world, r, w, moved), zone), cancelled


def is_member(world: World, p: int, t: datetime) -> bool:
    leave = world.leaves.get(p)
    return leave is None or at_minute(world, leave) > t


def status(world: World, r: int, w: int, p: int, t: datetime) -> str | None:
    """Strict arrival order among current members wanting a place (guests: none)."""
    wanting = []
    for q in range(len(world.people)):
        if not is_member(world, q, t):
            continue
        said = world.answers.get((r, w, q))
        if said == "going":
            wanting.append((world.arrival[(r, w, q)], q))
        elif said is None and (r, q) in world.regulars:
            wanting.append((world.arrival[(r, -1, q)], q))
    wanting.sort()
    capacity = world.routines[r].capacity
    places = [q for _, q in wanting][: capacity if capacity is not None else None]
    said = world.answers.get((r, w, p))
    if said in ("maybe", "declined"):
        return said
    if said == "going" or (said is None and (r, p) in world.regulars):
        return "going" if p in places else "waiting"
    return None


def layers(world: World, p: int, g: int):
    zone, default_when, default_hour = world.groups[g]
    person = world.people[p]
    when = person.reminder or default_when
    hour = person.hour if person.hour is not None else default_hour
    hours_before = person.hours_before or 3
    scope = person.scope if person.scope not in ("-", None) else "going"
    return when, hour, hours_before, scope, set(person.muted)


def reminder_moment(world: World, p: int, g: int, start: datetime) -> datetime | None:
    when, hour, hours_before, _scope, _muted = layers(world, p, g)
    if when == "off":
        return None
    if when == "hours":
        return start - timedelta(hours=hours_before)
    zone = ZoneInfo(world.people[p].zone)
    day = start.replace(tzinfo=UTC).astimezone(zone).date()
    if when == "evening":
        day -= timedelta(days=1)
    moment = utc_of(datetime(day.year, day.month, day.day, hour), world.people[p].zone)
    if moment >= start:
        day -= timedelta(days=1)
        moment = utc_of(datetime(day.year, day.month, day.day, 20), world.people[p].zone)
    return moment


def wants_reminder_at(world: World, r: int, w: int, p: int, t: datetime) -> datetime | None:
    g = world.routines[r].group
    start, cancelled = facts_at(world, r, w, t)
    if cancelled or not is_member(world, p, t) or not t < start:
        return None
    _when, _hour, _hb, scope, muted = layers(world, p, g)
    if "reminder" in muted or scope == "none":
        return None
    said = status(world, r, w, p, t)
    if not (said == "going" or (scope == "all" and said in ("maybe", None))):
        return None
    return reminder_moment(world, p, g, start)


def wants_ask_at(world: World, r: int, w: int, p: int, t: datetime) -> datetime | None:
    spec = world.routines[r]
    start, cancelled = facts_at(world, r, w, t)
    if not spec.ask or cancelled or not is_member(world, p, t) or not t < start:
        return None
    _when, _hour, _hb, scope, muted = layers(world, p, spec.group)
    if "ask" in muted or scope == "none":
        return None
    if (r, w, p) in world.answers or (r, p) in world.regulars:
        return None
    return start - timedelta(hours=spec.ask)


def boundaries(world: World) -> list[datetime]:
    """Every instant the scan compares the clock with, for every state the data passes."""
    end = world.start + SPAN
    changes = [0, *world.cancels.values(), *(m for m, _ in world.moves.values()),
               *world.leaves.values()]
    states = sorted({at_minute(world, m) for m in changes})
    found = set(states)
    for t in states:
        for r in range(len(world.routines)):
            for w in range(WEEKS):
                start, _ = facts_at(world, r, w, t)
                found.add(start)
                for p in range(len(world.people)):
                    for moment in (reminder_moment(world, p, world.routines[r].group, start),
                                   start - timedelta(hours=world.routines[r].ask or 0)):
                        if moment is not None:
                            found.add(moment)
    steps = set()
    for b in found:
        b = b.replace(second=0, microsecond=0)
        steps.update({b - timedelta(minutes=1), b})
    steps.update(world.start + timedelta(hours=12 * n) for n in range(2 * SPAN.days))
    return sorted(s for s in steps if world.start <= s < end)


def expected(world: World, steps: list[datetime]) -> dict[tuple[str, int, int, int], datetime]:
    """{(kind, routine, week, person): the first worker minute it is due}: sent then, once."""
    found: dict[tuple[str, int, int, int], datetime] = {}
    for t in steps:
        for r in range(len(world.routines)):
            for w in range(WEEKS):
                for p in range(len(world.people)):
                    at = wants_reminder_at(world, r, w, p, t)
                    if at is not None and at <= t:
                        found.setdefault(("reminder", r, w, p), t)
                    at = wants_ask_at(world, r, w, p, t)
                    if at is not None and at <= t:
                        found.setdefault(("ask", r, w, p), t)
    return found


# --------------------------------------------------------------------------- the real thing


def wipe(db):
    db.rollback()
    for model in (OutboxMessage, Override, Rsvp, Regular, Slot, GroupMailSettings, MailSettings,
                  Membership, Routine, Group, User):
        db.execute(delete(model))
    db.commit()


def build(db, world: World):
    base = datetime(2026, 1, 1)
    users = []
    for n, spec in enumerate(world.people):
        user = User(email=f"p{n}@example.org", display_name=f"P{n}", password_hash="x",
                    timezone=spec.zone)
        db.add(user)
        users.append(user)
    groups = []
    for n, (zone, when, hour) in enumerate(world.groups):
        group = Group(slug=f"g{n}", name=f"G{n}", timezone=zone, default_reminder=when,
                      default_reminder_hour=hour)
        db.add(group)
        groups.append(group)
    db.flush()
    for n, spec in enumerate(world.people):
        if spec.reminder is not None or spec.hour is not None or spec.hours_before:
            db.add(MailSettings(user_id=users[n].id, reminder=spec.reminder,
                                reminder_hour=spec.hour, hours_before=spec.hours_before,
                                comments=False))
        for group in groups:
            db.add(Membership(group_id=group.id, user_id=users[n].id,
                              role="owner" if n == 0 else "member"))
            if spec.scope != "-" or spec.muted:
                db.add(GroupMailSettings(user_id=users[n].id, group_id=group.id,
                                         scope=None if spec.scope == "-" else spec.scope,
                                         muted=list(spec.muted)))
    routines = []
    for n, spec in enumerate(world.routines):
        first = local_start(world, n, 0, moved=False)
        routine = Routine(group_id=groups[spec.group].id, title=f"R{n}", timezone=spec.zone,
                          start=first, duration_minutes=60,
                          rrule=f"FREQ=WEEKLY;BYDAY={DAYS[spec.weekday]}",
                          capacity=spec.capacity, ask_hours_before=spec.ask)
        db.add(routine)
        routines.append(routine)
    db.flush()
    for (r, w, p), said in world.answers.items():
        stamp = base + timedelta(minutes=world.arrival[(r, w, p)])
        db.add(Rsvp(routine_id=routines[r].id, original_start=local_start(world, r, w, False),
                    user_id=users[p].id, status=said, answered_at=stamp))
    for r, p in world.regulars:
        db.add(Regular(routine_id=routines[r].id, user_id=users[p].id,
                       joined_at=base + timedelta(minutes=world.arrival[(r, -1, p)])))
    db.commit()
    world.ids = {"user": {n: u.id for n, u in enumerate(users)},
                 "routine": {n: r.id for n, r in enumerate(routines)},
                 "group": {n: g.id for n, g in enumerate(groups)}}


def apply_changes(db, world: World, t: datetime, done: set):
    ids = world.ids
    for (r, w), minute in world.cancels.items():
        if ("cancel", r, w) not in done and at_minute(world, minute) <= t:
            done.add(("cancel", r, w))
            original = local_start(world, r, w, False)
            db.execute(delete(Override).where(Override.routine_id == ids["routine"][r],
                                              Override.original_start == original))
            db.add(Override(routine_id=ids["routine"][r], original_start=original,
                            status="cancelled", sequence=2))
    for (r, w), (minute, _hour) in world.moves.items():
        if ("move", r, w) not in done and at_minute(world, minute) <= t:
            done.add(("move", r, w))
            if ("cancel", r, w) in done:
                continue  # cancelled already: the cancellation stands
            db.add(Override(routine_id=ids["routine"][r],
                            original_start=local_start(world, r, w, False), status="changed",
                            start=local_start(world, r, w, True), sequence=1))
    for p, minute in world.leaves.items():
        if ("leave", p) not in done and at_minute(world, minute) <= t:
            done.add(("leave", p))
            db.execute(delete(Membership).where(Membership.user_id == ids["user"][p]))
    db.commit()


def fix_order(world: World) -> World:
    """A move and a cancel of one date: the cancel, whenever it comes, must win in both the
    expectation and the database, so a move after a cancel is dropped from the world."""
    for key in list(world.moves):
        if key in world.cancels and world.cancels[key] <= world.moves[key][0]:
            del world.moves[key]
    return world


def observed(db, world: World) -> list[tuple[tuple[str, int, int, int], datetime]]:
    db.rollback()
    by_user = {v: k for k, v in world.ids["user"].items()}
    by_routine = {v: k for k, v in world.ids["routine"].items()}
    weeks = {}
    for r in range(len(world.routines)):
        for w in range(WEEKS):
            weeks[(r, local_start(world, r, w, False).strftime("%Y%m%dT%H%M"))] = w
    found = []
    for row in db.scalars(select(OutboxMessage).where(OutboxMessage.state == "sent")):
        kind, user, routine, key = row.dedupe_key.split(":")
        r = by_routine[int(routine)]
        found.append(((kind, r, weeks[(r, key)], by_user[int(user)]), row.sent_at))
    return found


@pytest.mark.slow
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(world=worlds())
def test_the_mails_sent_are_exactly_the_expected_ones(app, db, backend, world):
    began = time.monotonic()
    world = fix_order(world)
    wipe(db)
    build(db, world)
    steps = boundaries(world)
    done: set = set()
    for t in steps:
        apply_changes(db, world, t, done)
        tick(app, t)
    PROFILE.append((len(steps), time.monotonic() - began))
    got = observed(db, world)
    assert len(got) == len({key for key, _ in got}), "a mail went twice"
    assert dict(got) == expected(world, steps)
    TIMINGS[backend] = TIMINGS.get(backend, 0.0) + time.monotonic() - began
    print(f"\n[{backend}] {len(steps)} worker minutes, {len(got)} mails, "
          f"{TIMINGS[backend]:.1f} s so far")
