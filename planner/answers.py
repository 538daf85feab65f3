"""RSVPs, regulars, capacity and waitlist: what people said, and who therefore has a place.

Stored rows are what people SAID: an :class:`~planner.models.Rsvp` (going, maybe, declined, with
guests and an arrival time ``answered_at``) or a :class:`~planner.models.Regular` ("going to every
occurrence unless I answer otherwise", arriving at ``joined_at``). Who is *waiting* is never
stored: for one occurrence, everyone who wants to go is ordered by arrival and places are filled
strictly in that order. Once a party does not fit, it and everyone after it wait, so a decline, a
withdrawn answer or a raised capacity promotes the first waiting people without any bookkeeping,
and no stored "waitlisted" flag can ever disagree with the capacity.

Writes that depend on counts run under :func:`occurrence_lock` (``BEGIN IMMEDIATE`` on SQLite, a
transaction-scoped advisory lock on PostgreSQL), so each response and each ``rsvp_changed``
notification describes the state that was really committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import recurrence
from .db import immediate
from .models import (
    Claim,
    Comment,
    Membership,
    Regular,
    Routine,
    Rsvp,
    Slot,
    User,
    bump_group_version,
    utcnow,
)

GOING, MAYBE, DECLINED, WAITLISTED = "going", "maybe", "declined", "waitlisted"
ANSWERS = (GOING, MAYBE, DECLINED)
WANTING = (GOING, WAITLISTED)
LOCK_TIMEOUT = "5s"
# Namespace of the per-routine advisory lock (one 64-bit key); the per-occurrence lock uses the
# separate two-int key space (routine id, minutes since 2000), so the two never collide.
ROUTINE_LOCK_NAMESPACE = 0x504C4E52 << 32  # "PLNR"
EPOCH = datetime(2000, 1, 1)
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


def attendance_for(session: Session, keys: list[tuple[int, datetime]]) -> dict:
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

    said: dict[KeyT, list[_Said]] = defaultdict(list)
    rows = session.execute(
        select(Rsvp, User.display_name)
        .join(User, User.id == Rsvp.user_id)
        .join(Routine, Routine.id == Rsvp.routine_id)
        .join(Membership, member)
        .where(Rsvp.routine_id.in_(routine_ids), Rsvp.original_start.between(lo, hi))
    )
    for rsvp, name in rows:
        said[(rsvp.routine_id, rsvp.original_start)].append(
            _Said(rsvp.user_id, name, rsvp.status, rsvp.guests, rsvp.answered_at, 0, rsvp.id)
        )

    regulars: dict[int, list[_Said]] = defaultdict(list)
    rows = session.execute(
        select(Regular, User.display_name)
        .join(User, User.id == Regular.user_id)
        .join(Routine, Routine.id == Regular.routine_id)
        .join(Membership, member)
        .where(Regular.routine_id.in_(routine_ids))
    )
    for regular, name in rows:
        regulars[regular.routine_id].append(
            _Said(regular.user_id, name, GOING, 0, regular.joined_at, 1, regular.id, True)
        )

    slots_by_routine: dict[int, list[Slot]] = defaultdict(list)
    for slot in session.scalars(
        select(Slot).where(Slot.routine_id.in_(routine_ids)).order_by(Slot.position, Slot.id)
    ):
        slots_by_routine[slot.routine_id].append(slot)
    takers: dict[tuple[int, datetime], list[Person]] = defaultdict(list)
    if slots_by_routine:
        rows = session.execute(
            select(Claim.slot_id, Claim.original_start, User.id, User.display_name)
            .join(Slot, Slot.id == Claim.slot_id)
            .join(User, User.id == Claim.user_id)
            .where(Slot.routine_id.in_(routine_ids), Claim.original_start.between(lo, hi))
            .order_by(Claim.created_at, Claim.id)
        )
        for slot_id, start, user_id, name in rows:
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


def attendance_of(session: Session, routine_id: int, original_start: datetime) -> Attendance:
    found = attendance_for(session, [(routine_id, original_start)])
    return found.get(
        (routine_id, original_start), Attendance(routine_id, original_start, None)
    )


# --------------------------------------------------------------------------- locking


class Busy(Exception):
    """Someone else held the occurrence too long; the person should simply try again."""


class AnswerError(ValueError):
    """A refused change; ``str(error)`` is a message for the person. Nothing was changed."""


def _is_lock_failure(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    if code in ("55P03", "40P01", "40001"):  # lock_not_available, deadlock, serialization
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _minutes(original_start: datetime) -> int:
    return int((original_start - EPOCH).total_seconds() // 60)


@contextmanager
def occurrence_lock(
    session: Session, routine_id: int, original_start: datetime | None = None
) -> Iterator[Session]:
    """A write transaction that no other count-checking write of the same occurrence overlaps.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock up front (busy_timeout bounds
    the wait). PostgreSQL: ``lock_timeout`` bounds the wait, then a shared lock on the routine
    and an exclusive lock on the occurrence (two-int key: routine id, minutes since 2000). With
    ``original_start=None`` the routine lock is exclusive: joining or leaving as a regular
    touches every occurrence at once. Both locks end with the transaction. A lock wait that
    times out raises :class:`Busy`; everything inside rolls back.
    """
    try:
        with immediate(session):
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                routine_key = ROUTINE_LOCK_NAMESPACE | routine_id
                if original_start is None:
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": routine_key}
                    )
                else:
                    session.execute(
                        text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": routine_key}
                    )
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:a, :b)"),
                        {"a": routine_id, "b": _minutes(original_start)},
                    )
            yield session
    except OperationalError as error:
        if _is_lock_failure(error):
            raise Busy(str(error.orig)) from error
        raise


# --------------------------------------------------------------------------- writing answers


@dataclass(frozen=True)
class Change:
    """One person's effective status moved; becomes an ``rsvp_changed`` notification."""

    routine_id: int
    original_start: datetime
    user_id: int
    previous: str | None
    status: str | None


@dataclass
class Outcome:
    """What a write did, for the response message and the notifications after commit."""

    status: str | None = None
    position: int | None = None
    guests: int = 0
    changed: bool = False
    changes: list[Change] = field(default_factory=list)
    message: str = ""


def _diff(before: Attendance, after: Attendance, actor_id: int | None, actor_changed: bool):
    old, new = before.statuses(), after.statuses()
    changes = []
    for user_id in sorted(set(old) | set(new)):
        if old.get(user_id) != new.get(user_id) or (user_id == actor_id and actor_changed):
            changes.append(
                Change(
                    before.routine_id, before.original_start, user_id,
                    old.get(user_id), new.get(user_id),
                )
            )
    return changes


def _message(status: str | None, position: int | None, guests: int) -> str:
    plus = f" with {guests} guest{'s' if guests != 1 else ''}" if guests else ""
    if status == GOING:
        return f"You're going{plus}."
    if status == WAITLISTED:
        return f"All places are taken: you're number {position} on the waitlist{plus}."
    if status == MAYBE:
        return f"You answered maybe{plus}."
    if status == DECLINED:
        return "You can't go; thanks for saying so."
    return "Your answer was withdrawn."


def answer(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    user: User,
    status: str | None,
    guests: int = 0,
    now: datetime | None = None,
) -> Outcome:
    """Record ``user``'s answer (``None`` withdraws it) under the occurrence lock.

    Moving into "going" puts the person at the back of the queue; staying "going" (a changed
    guest count, a regular confirming) keeps their place. A going party may not grow into
    places someone else already holds: that change is refused instead of pushing them out.
    """
    if status is not None and status not in ANSWERS:
        raise AnswerError("Choose going, maybe or can't go.")
    if guests < 0:
        raise AnswerError("The number of guests can't be negative.")
    if status == DECLINED:
        guests = 0
    if guests > routine.max_guests:
        raise AnswerError(
            "This routine doesn't take guests."
            if routine.max_guests == 0
            else f"You can bring at most {routine.max_guests} guests."
        )
    check_open(occurrence, now)
    key = occurrence.original_start
    with occurrence_lock(session, routine.id, key):
        before = attendance_of(session, routine.id, key)
        rsvp = session.scalar(
            select(Rsvp).where(
                Rsvp.routine_id == routine.id, Rsvp.original_start == key, Rsvp.user_id == user.id
            )
        )
        regular = session.scalar(
            select(Regular).where(Regular.routine_id == routine.id, Regular.user_id == user.id)
        )
        was = before.status_of(user.id)
        was_wanting = was in WANTING
        stamp = utcnow()
        if status is None and regular is not None:
            # A regular has no "no answer": withdrawing means going by default again.
            status, guests = GOING, rsvp.guests if rsvp is not None else 0
            if was_wanting:
                status = "keep"
        if status == "keep":
            pass
        elif status is None:
            if rsvp is not None:
                session.delete(rsvp)
        else:
            if status == GOING and was_wanting:
                arrival = rsvp.answered_at if rsvp is not None and rsvp.status == GOING else (
                    regular.joined_at if regular is not None else stamp
                )
            else:
                arrival = stamp
            unchanged = (
                rsvp is not None and rsvp.status == status and rsvp.guests == guests
            )
            if rsvp is None:
                session.add(
                    Rsvp(
                        routine_id=routine.id, original_start=key, user_id=user.id,
                        status=status, guests=guests, answered_at=arrival,
                        created_at=stamp, updated_at=stamp,
                    )
                )
            elif not unchanged:
                rsvp.status, rsvp.guests, rsvp.answered_at = status, guests, arrival
                rsvp.updated_at = stamp
        session.flush()
        after = attendance_of(session, routine.id, key)
        pushed_out = [
            p for p in before.going if p.user_id != user.id and after.status_of(p.user_id) != GOING
        ]
        if pushed_out:
            left = max(0, (before.capacity or 0) - before.going_count)
            mine = before.person(user.id)
            most = (mine.guests if mine else 0) + left
            if left == 0:
                raise AnswerError("All places are taken, so you can't bring more guests now.")
            raise AnswerError(
                f"Only {left} more place{'s' if left != 1 else ''} left, so you can "
                f"bring at most {most} guest{'s' if most != 1 else ''} now."
            )
        now_person = after.person(user.id)
        now_status = after.status_of(user.id)
        actor_changed = (was != now_status) or (
            (before.person(user.id) or Person(0, "")).guests
            != (now_person or Person(0, "")).guests
        )
        outcome = Outcome(
            status=now_status,
            position=after.position_of(user.id),
            guests=now_person.guests if now_person else 0,
            changed=actor_changed,
            changes=_diff(before, after, user.id, actor_changed),
        )
        if outcome.changes:
            # Feeds show attendance (a sports match turns CONFIRMED); same transaction.
            bump_group_version(session, routine.group_id)
    outcome.message = _message(outcome.status, outcome.position, outcome.guests)
    return outcome


def check_open(occurrence: recurrence.Occurrence, now: datetime | None = None) -> None:
    """Answers and slots close when an occurrence starts or is cancelled."""
    reason = closed_reason(occurrence, now)
    if reason:
        raise AnswerError(reason)


def closed_reason(occurrence: recurrence.Occurrence, now: datetime | None = None) -> str | None:
    now = now or datetime.now(UTC)
    if occurrence.is_cancelled:
        return "This occurrence is cancelled, so answers and slots are closed."
    if occurrence.start <= now:
        return "This occurrence has already started, so answers and slots are closed."
    return None


REGULAR_WINDOW = timedelta(days=92)


def _upcoming_keys(routine: Routine, now: datetime) -> list[datetime]:
    from .occurrences import series_of

    try:
        found = recurrence.expand(series_of(routine), now, now + REGULAR_WINDOW)
    except recurrence.RecurrenceError:
        return []
    return [o.original_start for o in found if not o.is_cancelled and o.start > now]


def set_regular(
    session: Session, routine: Routine, user: User, join: bool, now: datetime | None = None
) -> Outcome:
    """Join or leave as a regular under the routine-wide lock.

    The person arrives now, so joining never takes anyone's place; leaving frees their places
    on every upcoming occurrence they had not answered explicitly, and the people promoted by
    that are among the returned changes (for the next three months of occurrences).
    """
    now = now or datetime.now(UTC)
    keys = _upcoming_keys(routine, now)
    with occurrence_lock(session, routine.id, None):
        before = attendance_for(session, [(routine.id, k) for k in keys])
        regular = session.scalar(
            select(Regular).where(Regular.routine_id == routine.id, Regular.user_id == user.id)
        )
        changed = False
        if join and regular is None:
            session.add(Regular(routine_id=routine.id, user_id=user.id, joined_at=utcnow()))
            changed = True
        elif not join and regular is not None:
            session.delete(regular)
            changed = True
        session.flush()
        after = attendance_for(session, [(routine.id, k) for k in keys])
        changes: list[Change] = []
        for k in keys:
            if (routine.id, k) in before:
                changes.extend(_diff(before[(routine.id, k)], after[(routine.id, k)], None, False))
        if changed:
            bump_group_version(session, routine.group_id)
    if join:
        message = (
            "You're a regular now: you're going to every occurrence unless you say otherwise."
            if changed
            else "You're already a regular of this routine."
        )
    else:
        message = "You're no longer a regular." if changed else "You weren't a regular."
    return Outcome(changed=changed, changes=changes, message=message)


def notify_changes(session: Session, routine: Routine, changes: list[Change]) -> None:
    """Fire ``rsvp_changed`` after commit for every effective change (one query for users)."""
    if not changes:
        return
    from .plugins import notify

    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({c.user_id for c in changes})))
    }
    for change in changes:
        user = users.get(change.user_id)
        if user is None:
            continue
        notify(
            "rsvp_changed",
            routine=routine,
            original_start=change.original_start,
            user=user,
            status=change.status,
            previous=change.previous,
        )


def snapshot(session: Session, routine: Routine, now: datetime | None = None) -> dict:
    """Effective attendance of a routine's upcoming occurrences, before an edit elsewhere
    (a changed capacity); pass it to :func:`announce` after commit to notify promotions."""
    keys = _upcoming_keys(routine, now or datetime.now(UTC))
    return attendance_for(session, [(routine.id, k) for k in keys])


def announce(session: Session, routine: Routine, before: dict) -> None:
    after = attendance_for(session, list(before))
    changes: list[Change] = []
    for key, old in before.items():
        if key in after:
            changes.extend(_diff(old, after[key], None, False))
    notify_changes(session, routine, changes)


# --------------------------------------------------------------------------- slots


def claim_slot(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    user: User,
    slot_id: int,
    now: datetime | None = None,
) -> str:
    """Take a slot on one occurrence if it has room; idempotent for the same person."""
    check_open(occurrence, now)
    key = occurrence.original_start
    with occurrence_lock(session, routine.id, key):
        slot = session.scalar(select(Slot).where(Slot.id == slot_id, Slot.routine_id == routine.id))
        if slot is None:
            raise AnswerError("That slot no longer exists.")
        takers = session.execute(
            select(Claim.user_id, User.display_name)
            .join(User, User.id == Claim.user_id)
            .where(Claim.slot_id == slot.id, Claim.original_start == key)
            .order_by(Claim.created_at, Claim.id)
        ).all()
        if any(uid == user.id for uid, _ in takers):
            return f"You already have “{slot.label}”."
        if len(takers) >= slot.capacity:
            names = ", ".join(name for _, name in takers)
            raise AnswerError(f"“{slot.label}” is already taken by {names}.")
        session.add(Claim(slot_id=slot.id, original_start=key, user_id=user.id))
        bump_group_version(session, routine.group_id)
    return f"You took “{slot.label}”."


def release_slot(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    slot_id: int,
    user_id: int,
    now: datetime | None = None,
) -> str:
    check_open(occurrence, now)
    key = occurrence.original_start
    with occurrence_lock(session, routine.id, key):
        slot = session.scalar(select(Slot).where(Slot.id == slot_id, Slot.routine_id == routine.id))
        if slot is None:
            raise AnswerError("That slot no longer exists.")
        result = session.execute(
            delete(Claim).where(
                Claim.slot_id == slot.id, Claim.original_start == key, Claim.user_id == user_id
            )
        )
        if result.rowcount:
            bump_group_version(session, routine.group_id)
    if not result.rowcount:
        return f"“{slot.label}” was not taken by that person."
    return f"“{slot.label}” is free again."


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str
    user_id: int | None
    body: str
    created_at: datetime
    can_delete: bool


@dataclass(frozen=True)
class Panel:
    """Everything ``answers/_panel.html`` needs, loaded up front (no lazy loads in templates)."""

    slug: str
    routine_id: int
    key: str
    attendance: Attendance
    is_member: bool
    can_organize: bool
    viewer_id: int | None
    viewer_status: str | None
    viewer_position: int | None
    viewer_guests: int
    is_regular: bool
    closed_reason: str | None
    max_guests: int
    comments: tuple[CommentView, ...]

    @property
    def can_answer(self) -> bool:
        return self.is_member and self.closed_reason is None


def _membership(session: Session, group_id: int, viewer) -> Membership | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == viewer.id)
    )


def comments_of(
    session: Session, routine_id: int, original_start: datetime, viewer_id: int | None,
    can_organize: bool,
) -> tuple[CommentView, ...]:
    rows = session.execute(
        select(Comment, User.display_name)
        .outerjoin(User, User.id == Comment.user_id)
        .where(Comment.routine_id == routine_id, Comment.original_start == original_start)
        .order_by(Comment.created_at, Comment.id)
    )
    return tuple(
        CommentView(
            c.id,
            name or "A former member",
            c.user_id,
            c.body,
            c.created_at.replace(tzinfo=UTC),  # aware, so pages show it in the viewer's zone
            can_organize or (viewer_id is not None and c.user_id == viewer_id),
        )
        for c, name in rows
    )


def count_comments(session: Session, keys: list[KeyT]) -> dict[KeyT, int]:
    """Comment counts for many occurrences in one statement (lists show "3 comments")."""
    if not keys:
        return {}
    rids = {rid for rid, _ in keys}
    lo, hi = min(s for _, s in keys), max(s for _, s in keys)
    rows = session.execute(
        select(Comment.routine_id, Comment.original_start, func.count())
        .where(Comment.routine_id.in_(rids), Comment.original_start.between(lo, hi))
        .group_by(Comment.routine_id, Comment.original_start)
    )
    wanted = set(keys)
    return {(r, s): n for r, s, n in rows if (r, s) in wanted}


def occurrence_context(session: Session, routine, occurrence, viewer) -> dict:
    """Extra template context for the occurrence page (who's coming, the viewer's answer,
    slots, comments) in a fixed number of queries. Always includes ``attendance``.

    Returns ``{"attendance": Attendance, "answers": Panel}``; non-members get the attendance
    counts only (the panel hides names from them).
    """
    membership = _membership(session, routine.group_id, viewer)
    attendance = attendance_of(session, routine.id, occurrence.original_start)
    is_member = membership is not None
    can_organize = is_member and membership.can_organize
    viewer_id = viewer.id if is_member else None
    comments: tuple[CommentView, ...] = ()
    if is_member:
        comments = comments_of(
            session, routine.id, occurrence.original_start, viewer_id, can_organize
        )
    person = attendance.person(viewer_id) if viewer_id else None
    panel = Panel(
        slug=routine.group.slug,
        routine_id=routine.id,
        key=occurrence.key,
        attendance=attendance,
        is_member=is_member,
        can_organize=can_organize,
        viewer_id=viewer_id,
        viewer_status=attendance.status_of(viewer_id) if viewer_id else None,
        viewer_position=attendance.position_of(viewer_id) if viewer_id else None,
        viewer_guests=person.guests if person else 0,
        is_regular=attendance.is_regular(viewer_id) if viewer_id else False,
        closed_reason=closed_reason(occurrence),
        max_guests=routine.max_guests,
        comments=comments,
    )
    return {"attendance": attendance, "answers": panel}
