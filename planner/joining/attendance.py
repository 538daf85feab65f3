"""Who has a place at an occurrence, derived from what people said (never stored).

Stored rows are what people SAID: an :class:`~planner.models.Rsvp` (going, maybe, declined, with
guests and an arrival time ``answered_at``) or a :class:`~planner.models.Regular` ("going to every
occurrence unless I answer otherwise", arriving at ``joined_at``). Who is *waiting* is never
stored: for one occurrence, everyone who wants to go is ordered by arrival and places are filled
strictly in that order. Once a party does not fit, it and everyone after it wait, so a decline, a
withdrawn answer or a raised capacity promotes the first waiting people without any bookkeeping,
and no stored "waitlisted" flag can ever disagree with the capacity.

:class:`Attendance` is what plugins receive; :func:`derive` is its one definition and
:func:`attendance_for` loads it for many occurrences in a fixed number of statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask_babel import gettext
from sqlalchemy import (
    CompoundSelect,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from planner import clock
from planner.enums import Status
from planner.models import Claim, Membership, Regular, Routine, Rsvp, Slot, User
from planner.scheduling import recurrence

GOING, MAYBE, DECLINED, WAITLISTED = Status.GOING, Status.MAYBE, Status.DECLINED, Status.WAITLISTED
ANSWERS = (GOING, MAYBE, DECLINED)
WANTING = (GOING, WAITLISTED)
KeyT = tuple[int, datetime]


# --------------------------------------------------------------------------- what plugins see


@dataclass(frozen=True)
class Person:
    user_id: int
    display_name: str
    guests: int = 0
    regular: bool = False  # going by default as a regular, without an explicit answer


@dataclass(frozen=True)
class ClaimInfo:
    slot_id: int
    label: str
    capacity: int
    takers: tuple[Person, ...] = ()

    @property
    def is_full(self) -> bool:
        return len(self.takers) >= self.capacity

    def taken_by(self, user_id: int) -> bool:
        return any(p.user_id == user_id for p in self.takers)


@dataclass(frozen=True)
class Attendance:
    """Who answered what for one occurrence; what plugins receive (never database rows)."""

    routine_id: int
    original_start: datetime
    capacity: int | None = None
    going: tuple[Person, ...] = ()  # within capacity, in arrival order
    waitlisted: tuple[Person, ...] = ()  # beyond capacity, in arrival order
    maybe: tuple[Person, ...] = ()
    declined: tuple[Person, ...] = ()
    slots: tuple[ClaimInfo, ...] = field(default=())
    # Every current regular of the routine, whether or not they answered this occurrence.
    regulars: tuple[Person, ...] = ()

    @property
    def going_count(self) -> int:
        """Places taken: people going plus their guests."""
        return sum(1 + p.guests for p in self.going)

    @property
    def waiting_count(self) -> int:
        return sum(1 + p.guests for p in self.waitlisted)

    @property
    def places_left(self) -> int | None:
        """Free places, or None when the routine has no capacity limit."""
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.going_count)

    def status_of(self, user_id: int) -> str | None:
        """The person's effective status: going, waitlisted, maybe, declined, or None."""
        for status in (GOING, WAITLISTED, MAYBE, DECLINED):
            if any(p.user_id == user_id for p in getattr(self, status)):
                return status
        return None

    def person(self, user_id: int) -> Person | None:
        for people in (self.going, self.waitlisted, self.maybe, self.declined):
            for p in people:
                if p.user_id == user_id:
                    return p
        return None

    def position_of(self, user_id: int) -> int | None:
        """1-based place on the waitlist, or None when the person is not waiting."""
        for index, p in enumerate(self.waitlisted, start=1):
            if p.user_id == user_id:
                return index
        return None

    def is_regular(self, user_id: int) -> bool:
        return any(p.user_id == user_id for p in self.regulars)

    def statuses(self) -> dict[int, str]:
        """``{user_id: effective status}`` for everyone with one."""
        result: dict[int, str] = {}
        for status in (GOING, WAITLISTED, MAYBE, DECLINED):
            for p in getattr(self, status):
                result[p.user_id] = status
        return result


# --------------------------------------------------------------------------- deriving


@dataclass(frozen=True)
class _Said:
    """One row of what someone said, reduced to what ordering needs."""

    user_id: int
    display_name: str
    status: str
    guests: int
    arrival: datetime
    kind: int  # 0 explicit answer, 1 regular: a tie on arrival prefers the explicit answer
    row_id: int
    regular: bool = False


def derive(
    routine_id: int,
    original_start: datetime,
    capacity: int | None,
    answers: Iterable[_Said],
    regulars: Iterable[_Said],
    occurrence_start_utc: datetime | None,
    slots: tuple[ClaimInfo, ...] = (),
) -> Attendance:
    """The attendance that follows from what people said: pure, so it is the one definition.

    A regular counts only for occurrences starting after they joined (joining today does not
    rewrite last week), and only where they gave no explicit answer.
    """
    explicit = {a.user_id: a for a in answers}
    wanting = [a for a in explicit.values() if a.status == GOING]
    all_regulars: list[Person] = []
    for r in regulars:
        all_regulars.append(Person(r.user_id, r.display_name, 0, regular=True))
        if r.user_id in explicit:
            continue
        if occurrence_start_utc is not None and r.arrival > occurrence_start_utc:
            continue
        wanting.append(r)
    wanting.sort(key=lambda a: (a.arrival, a.kind, a.row_id))
    going: list[Person] = []
    waiting: list[Person] = []
    used = 0
    for a in wanting:
        person = Person(a.user_id, a.display_name, a.guests, regular=a.regular)
        need = 1 + a.guests
        if not waiting and (capacity is None or used + need <= capacity):
            going.append(person)
            used += need
        else:
            waiting.append(person)

    def listed(status: str) -> tuple[Person, ...]:
        rows = sorted(
            (a for a in explicit.values() if a.status == status),
            key=lambda a: (a.arrival, a.row_id),
        )
        return tuple(Person(a.user_id, a.display_name, a.guests) for a in rows)

    return Attendance(
        routine_id=routine_id,
        original_start=original_start,
        capacity=capacity,
        going=tuple(going),
        waitlisted=tuple(waiting),
        maybe=listed(MAYBE),
        declined=listed(DECLINED),
        slots=slots,
        regulars=tuple(sorted(all_regulars, key=lambda p: p.display_name.lower())),
    )


def _start_utc(original_start: datetime, tz_name: str) -> datetime | None:
    """Naive UTC of an occurrence's original start, comparable with ``joined_at``."""
    try:
        aware = recurrence.localize(original_start, tz_name)
    except recurrence.RecurrenceError:
        return None
    return aware.astimezone(UTC).replace(tzinfo=None)


def attendance_for(session: Session, keys: list[tuple[int, datetime]]) -> dict[KeyT, Attendance]:
    """``{(routine_id, original_start): Attendance}`` for many occurrences in O(1) queries.

    Five statements whatever the number of occurrences, people or answers: routines, answers,
    regulars, slots, claims. Only current members of the routine's group count: someone who
    left the group frees their place.
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    routine_ids = sorted({rid for rid, _ in wanted})
    lo = min(start for _, start in wanted)
    hi = max(start for _, start in wanted)
    routines = {
        row.id: row
        for row in session.execute(
            select(Routine.id, Routine.capacity, Routine.timezone).where(
                Routine.id.in_(routine_ids)
            )
        )
    }
    member = and_(Membership.group_id == Routine.group_id, Membership.user_id == User.id)

    # Plain rows, not ORM objects: a busy group's page reads thousands of answers, and building
    # (and identity-mapping) an instance per row cost more than the rest of the page.
    said: dict[KeyT, list[_Said]] = defaultdict(list)
    rsvp_rows = session.execute(
        select(
            Rsvp.routine_id,
            Rsvp.original_start,
            Rsvp.user_id,
            User.display_name,
            Rsvp.status,
            Rsvp.guests,
            Rsvp.answered_at,
            Rsvp.id,
        )
        .join(User, User.id == Rsvp.user_id)
        .join(Routine, Routine.id == Rsvp.routine_id)
        .join(Membership, member)
        .where(Rsvp.routine_id.in_(routine_ids), Rsvp.original_start.between(lo, hi))
    )
    for rid, start, user_id, name, status, guests, answered_at, row_id in rsvp_rows:
        said[(rid, start)].append(_Said(user_id, name, status, guests, answered_at, 0, row_id))

    regulars: dict[int, list[_Said]] = defaultdict(list)
    regular_rows = session.execute(
        select(
            Regular.routine_id, Regular.user_id, User.display_name, Regular.joined_at, Regular.id
        )
        .join(User, User.id == Regular.user_id)
        .join(Routine, Routine.id == Regular.routine_id)
        .join(Membership, member)
        .where(Regular.routine_id.in_(routine_ids))
    )
    for rid, user_id, name, joined_at, row_id in regular_rows:
        regulars[rid].append(_Said(user_id, name, GOING, 0, joined_at, 1, row_id, True))

    slots_by_routine: dict[int, list[Slot]] = defaultdict(list)
    for slot in session.scalars(
        select(Slot).where(Slot.routine_id.in_(routine_ids)).order_by(Slot.position, Slot.id)
    ):
        slots_by_routine[slot.routine_id].append(slot)
    takers: dict[tuple[int, datetime], list[Person]] = defaultdict(list)
    if slots_by_routine:
        claim_rows = session.execute(
            select(Claim.slot_id, Claim.original_start, User.id, User.display_name)
            .join(Slot, Slot.id == Claim.slot_id)
            .join(User, User.id == Claim.user_id)
            .where(Slot.routine_id.in_(routine_ids), Claim.original_start.between(lo, hi))
            .order_by(Claim.created_at, Claim.id)
        )
        for slot_id, start, user_id, name in claim_rows:
            takers[(slot_id, start)].append(Person(user_id, name))

    result: dict[KeyT, Attendance] = {}
    for rid, start in wanted:
        routine = routines.get(rid)
        if routine is None:
            continue
        slots = tuple(
            ClaimInfo(s.id, s.label, s.capacity, tuple(takers.get((s.id, start), ())))
            for s in slots_by_routine.get(rid, ())
        )
        result[(rid, start)] = derive(
            rid,
            start,
            routine.capacity,
            said.get((rid, start), ()),
            regulars.get(rid, ()),
            _start_utc(start, routine.timezone),
            slots,
        )
    return result


@dataclass(frozen=True)
class Said:
    """What was said about one occurrence, as a write under its lock needs it: enough to
    derive the attendance before and after the write with no further statement."""

    capacity: int | None
    start_utc: datetime | None
    answers: list[_Said]  # current members' explicit answers
    regulars: list[_Said]  # current members who are regulars
    mine: _Said | None  # the person's own answer row, member or not
    my_regular: _Said | None

    def attendance(self, routine_id: int, original_start: datetime,
                   answers: list[_Said] | None = None) -> Attendance:
        return derive(routine_id, original_start, self.capacity,
                      self.answers if answers is None else answers, self.regulars,
                      self.start_utc)  # fmt: skip


@cache
def _said_statement() -> CompoundSelect[Any]:
    """:func:`said_of`'s statement, built once (building it cost more CPU than running it)."""
    routine_id = bindparam("routine_id", type_=Integer)
    original_start = bindparam("original_start", type_=DateTime)
    group = select(Routine.group_id).where(Routine.id == routine_id).scalar_subquery()
    member = and_(Membership.group_id == group, Membership.user_id == User.id)
    none_int, none_text = cast(null(), Integer), cast(null(), String)
    routine_part = select(
        literal_column("0", Integer).label("part"), Routine.capacity.label("who"),
        Routine.timezone.label("name"), none_text.label("status"), none_int.label("guests"),
        cast(null(), DateTime).label("at"), none_int.label("row_id"), none_int.label("member"),
    ).where(Routine.id == routine_id)  # fmt: skip
    answers_part = (
        select(literal_column("1", Integer), Rsvp.user_id, User.display_name, Rsvp.status,
               Rsvp.guests, Rsvp.answered_at, Rsvp.id, Membership.id)
        .join(User, User.id == Rsvp.user_id)
        .outerjoin(Membership, member)
        .where(Rsvp.routine_id == routine_id, Rsvp.original_start == original_start)
    )  # fmt: skip
    regulars_part = (
        select(literal_column("2", Integer), Regular.user_id, User.display_name, none_text,
               none_int, Regular.joined_at, Regular.id, Membership.id)
        .join(User, User.id == Regular.user_id)
        .outerjoin(Membership, member)
        .where(Regular.routine_id == routine_id)
    )  # fmt: skip
    return union_all(routine_part, answers_part, regulars_part)


def said_of(session: Session, routine_id: int, original_start: datetime, user_id: int) -> Said:
    """One statement (the routine's capacity, the answers, the regulars, as a ``UNION ALL``):
    what :func:`attendance_for` reads for one occurrence, less the slots an answer never
    changes, plus the person's own rows. Run under the occurrence lock, where every round trip
    is time the next person waits: a row's first column says which part it belongs to."""
    # On the connection: plain rows, without the ORM's execution path (CPU under the lock).
    rows = session.connection().execute(
        _said_statement(), {"routine_id": routine_id, "original_start": original_start}
    )
    capacity: int | None = None
    timezone = "UTC"
    found = False
    answers: list[_Said] = []
    regulars: list[_Said] = []
    mine: _Said | None = None
    my_regular: _Said | None = None
    for part, who, name, status, guests, at, row_id, membership in rows:
        if part == 0:
            capacity, timezone, found = who, name, True
        elif part == 1:
            said = _Said(who, name, status, guests, at, 0, row_id)
            if who == user_id:
                mine = said
            if membership is not None:
                answers.append(said)
        else:
            said = _Said(who, name, GOING, 0, at, 1, row_id, True)
            if who == user_id:
                my_regular = said
            if membership is not None:
                regulars.append(said)
    if not found:
        raise LookupError(f"routine {routine_id} is gone")
    return Said(capacity, _start_utc(original_start, timezone), answers, regulars, mine,
                my_regular)  # fmt: skip


def replaced(answers: list[_Said], user_id: int, new: _Said | None) -> list[_Said]:
    """``answers`` with the person's row replaced by ``new`` (or removed)."""
    kept = [a for a in answers if a.user_id != user_id]
    return [*kept, new] if new is not None else kept


def new_said(user_id: int, name: str, status: str, guests: int, arrival: datetime,
             row_id: int) -> _Said:
    return _Said(user_id, name, status, guests, arrival, 0, row_id)


def attendance_of(session: Session, routine_id: int, original_start: datetime) -> Attendance:
    found = attendance_for(session, [(routine_id, original_start)])
    return found.get(
        (routine_id, original_start), Attendance(routine_id, original_start, None)
    )


def closed_reason(occurrence: recurrence.Occurrence, now: datetime | None = None) -> str | None:
    now = now or clock.now()
    if occurrence.is_cancelled:
        return str(gettext("This occurrence is cancelled, so answers and slots are closed."))
    if occurrence.start <= now:
        return str(gettext("This occurrence has already started, so answers and slots are closed."))
    return None

