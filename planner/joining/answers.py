"""Writing what people say: answers and regulars, checked against capacity (slot claims are
:mod:`planner.joining.slots`).

Who has a place is derived, never stored (see :mod:`planner.joining.attendance`); each write
here runs under :func:`planner.joining.locks.occurrence_lock`, compares the attendance before
and after, and tells plugins of the effective changes (``rsvp_changed``, through
:func:`notify_changes`) only once they are committed.

This module also re-exports the names plugins and views have always imported from
``planner.joining.answers`` (``Attendance``, ``occurrence_lock``, ``occurrence_context``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from planner import clock
from planner.db import attribute_writes
from planner.joining.attendance import (
    ANSWERS,
    DECLINED,
    GOING,
    MAYBE,
    WAITLISTED,
    WANTING,
    Attendance,
    ClaimInfo,
    KeyT,
    Person,
    attendance_for,
    attendance_of,
    closed_reason,
    derive,
    new_said,
    replaced,
    said_of,
)
from planner.joining.locks import Busy, occurrence_lock
from planner.joining.panel import (
    CommentView,
    Panel,
    comments_of,
    occurrence_context,
)
from planner.joining.promotions import queue_promotions
from planner.models import (
    Regular,
    Routine,
    Rsvp,
    User,
    bump_group_version,
    bump_group_version_after,
    utcnow,
)
from planner.scheduling import recurrence
from planner.scheduling.series import series_of

__all__ = [
    "ANSWERS",
    "DECLINED",
    "GOING",
    "MAYBE",
    "WAITLISTED",
    "WANTING",
    "AnswerError",
    "Attendance",
    "Busy",
    "Change",
    "ClaimInfo",
    "CommentView",
    "KeyT",
    "Outcome",
    "Panel",
    "Person",
    "announce",
    "answer",
    "attendance_for",
    "attendance_of",
    "check_open",
    "closed_reason",
    "comments_of",
    "derive",
    "notify_changes",
    "occurrence_context",
    "occurrence_lock",
    "set_regular",
    "settle",
    "snapshot",
]


class AnswerError(ValueError):
    """A refused change; ``str(error)`` is a message for the person. Nothing was changed."""


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


def _diff(
    before: Attendance,
    after: Attendance,
    actor_id: int | None,
    actor_changed: bool,
    statuses: tuple[dict[int, str], dict[int, str]] | None = None,
) -> list[Change]:
    """Everyone whose effective status moved; ``statuses``: both maps when already known."""
    old, new = statuses if statuses is not None else (before.statuses(), after.statuses())
    changes: list[Change] = []
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
    if status == GOING and guests:
        return str(ngettext("You're going with %(num)d guest.", "You're going with %(num)d guests.",
                        guests))
    if status == GOING:
        return str(gettext("You're going."))
    if status == WAITLISTED and guests:
        return str(ngettext(
            "All places are taken: you're number %(position)s on the waitlist with %(num)d guest.",
            "All places are taken: you're number %(position)s on the waitlist with %(num)d guests.",
            guests,
            position=position,
        ))
    if status == WAITLISTED:
        return str(gettext("All places are taken: you're number %(position)s on the waitlist.",
                       position=position))
    if status == MAYBE and guests:
        return str(ngettext("You answered maybe with %(num)d guest.",
                        "You answered maybe with %(num)d guests.", guests))
    if status == MAYBE:
        return str(gettext("You answered maybe."))
    if status == DECLINED:
        return str(gettext("You can't go; thanks for saying so."))
    return str(gettext("Your answer was withdrawn."))


#: The common write (a first answer), built once and run on the connection (Core, not the
#: ORM's insert path): both cost more CPU than the round trip, spent holding the lock.
_NEW_ANSWER = insert(Rsvp).returning(Rsvp.id)


def answer(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    user: User,
    status: str | None,
    guests: int = 0,
    now: datetime | None = None,
    member: bool | None = None,
) -> Outcome:
    """Record ``user``'s answer (``None`` withdraws it) under the occurrence lock.

    ``member``: whether the person is a member of the group, when the caller already checked
    (saves a statement); None reads it.

    Plugins hear of every effective change (the person's own, and anyone it promoted) after
    the commit. Moving into "going" puts the person at the back of the queue; staying "going"
    (a changed guest count, a regular confirming) keeps their place. A going party may not grow into
    places someone else already holds: that change is refused instead of pushing them out.
    """
    if status is not None and status not in ANSWERS:
        raise AnswerError(gettext("Choose going, maybe or can't go."))
    if guests < 0:
        raise AnswerError(gettext("The number of guests can't be negative."))
    if status == DECLINED:
        guests = 0
    if guests > routine.max_guests:
        raise AnswerError(
            gettext("This routine doesn't take guests.")
            if routine.max_guests == 0
            else ngettext("You can bring at most %(num)d guest.",
                          "You can bring at most %(num)d guests.", routine.max_guests)
        )
    check_open(occurrence, now)
    key = occurrence.original_start
    is_member = membership_known(session, routine, user) if member is None else member
    # Callers have only read so far (the routine, the membership): the transaction goes on.
    with occurrence_lock(session, routine.id, key, after_reads=True):
        # One read, one write: both attendances are derived in memory from the same rows.
        said = said_of(session, routine.id, key, user.id)
        before = said.attendance(routine.id, key)
        rsvp, regular = said.mine, said.my_regular
        # Effective statuses once, as maps: scanning the lists per person was quadratic.
        old_statuses = before.statuses()
        was = old_statuses.get(user.id)
        was_wanting = was in WANTING
        stamp = utcnow()
        if status is None and regular is not None:
            # A regular has no "no answer": withdrawing means going by default again.
            status, guests = GOING, rsvp.guests if rsvp is not None else 0
            if was_wanting:
                status = "keep"
        answers = said.answers
        if status == "keep":
            pass
        elif status is None:
            if rsvp is not None:
                session.execute(delete(Rsvp).where(Rsvp.id == rsvp.row_id))
                answers = replaced(answers, user.id, None)
        else:
            if status == GOING and was_wanting:
                arrival = rsvp.arrival if rsvp is not None and rsvp.status == GOING else (
                    regular.arrival if regular is not None else stamp
                )
            else:
                arrival = stamp
            unchanged = (
                rsvp is not None and rsvp.status == status and rsvp.guests == guests
            )
            if rsvp is None:
                row_id = session.connection().execute(
                    _NEW_ANSWER,
                    {"routine_id": routine.id, "original_start": key, "user_id": user.id,
                     "status": status, "guests": guests, "answered_at": arrival,
                     "created_at": stamp, "updated_at": stamp},
                ).scalar_one()  # fmt: skip
            elif not unchanged:
                row_id = rsvp.row_id
                session.execute(
                    update(Rsvp)
                    .where(Rsvp.id == row_id)
                    .values(status=status, guests=guests, answered_at=arrival, updated_at=stamp)
                )
            if rsvp is None or not unchanged:
                name = rsvp.display_name if rsvp is not None else user.display_name
                own = new_said(user.id, name, status, guests, arrival, row_id)
                if is_member:
                    answers = replaced(answers, user.id, own)
        after = said.attendance(routine.id, key, answers)
        new_statuses = after.statuses()
        pushed_out = [
            p for p in before.going if p.user_id != user.id and new_statuses.get(p.user_id) != GOING
        ]
        if pushed_out:
            left = max(0, (before.capacity or 0) - before.going_count)
            mine = before.person(user.id)
            most = (mine.guests if mine else 0) + left
            if left == 0:
                raise AnswerError(
                    gettext("All places are taken, so you can't bring more guests now.")
                )
            if left == 1:
                raise AnswerError(ngettext(
                    "Only 1 more place left, so you can bring at most %(num)d guest now.",
                    "Only 1 more place left, so you can bring at most %(num)d guests now.",
                    most,
                ))
            raise AnswerError(ngettext(
                "Only %(left)d more places left, so you can bring at most %(num)d guest now.",
                "Only %(left)d more places left, so you can bring at most %(num)d guests now.",
                most,
                left=left,
            ))
        now_person = after.person(user.id)
        now_status = new_statuses.get(user.id)
        actor_changed = (was != now_status) or (
            (before.person(user.id) or Person(0, "")).guests
            != (now_person or Person(0, "")).guests
        )
        outcome = Outcome(
            status=now_status,
            position=after.position_of(user.id),
            guests=now_person.guests if now_person else 0,
            changed=actor_changed,
            changes=_diff(before, after, user.id, actor_changed, (old_statuses, new_statuses)),
        )
        if outcome.changes:
            # No statement here names the group (its version moves after the commit): say
            # it, so the feeds' stamps move for this group alone.
            attribute_writes(session, routine.group_id)
            queue_promotions(session, routine, outcome.changes)
    if outcome.changes:
        # Pages and feeds show attendance (a sports match turns CONFIRMED): their version
        # moves once the answer is committed, outside the lock (see the function's note).
        bump_group_version_after(session, routine.group_id)
    outcome.message = _message(outcome.status, outcome.position, outcome.guests)
    notify_changes(session, routine, outcome.changes, user)
    return outcome


def membership_known(session: Session, routine: Routine, user: User) -> bool:
    """Whether the person's answer counts (only current members' do); read before the lock."""
    from planner.models import Membership

    return session.scalar(
        select(Membership.id).where(
            Membership.group_id == routine.group_id, Membership.user_id == user.id
        )
    ) is not None


def check_open(occurrence: recurrence.Occurrence, now: datetime | None = None) -> None:
    """Answers and slots close when an occurrence starts or is cancelled."""
    reason = closed_reason(occurrence, now)
    if reason:
        raise AnswerError(reason)


REGULAR_WINDOW = timedelta(days=92)


def _upcoming_keys(routine: Routine, now: datetime) -> list[datetime]:
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
    now = now or clock.now()
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
        queue_promotions(session, routine, changes)
    if join:
        message = (
            gettext(
                "You're a regular now: you're going to every occurrence unless you say otherwise."
            )
            if changed
            else gettext("You're already a regular of this routine.")
        )
    else:
        message = (
            gettext("You're no longer a regular.") if changed else gettext("You weren't a regular.")
        )
    notify_changes(session, routine, changes)
    return Outcome(changed=changed, changes=changes, message=message)


def notify_changes(
    session: Session, routine: Routine, changes: list[Change], actor: User | None = None
) -> None:
    """Fire ``rsvp_changed`` after commit for every effective change (one query for users,
    none when the only change is the ``actor``'s own: the common answer)."""
    if not changes:
        return
    from planner.plugins.manager import notify

    wanted = {c.user_id for c in changes}
    if actor is not None and wanted == {actor.id}:
        users = {actor.id: actor}
    else:
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
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


def snapshot(
    session: Session, routine: Routine, now: datetime | None = None
) -> dict[KeyT, Attendance]:
    """Effective attendance of a routine's upcoming occurrences, before an edit elsewhere
    (a changed capacity); pass it to :func:`announce` after commit to notify promotions."""
    keys = _upcoming_keys(routine, now or clock.now())
    return attendance_for(session, [(routine.id, k) for k in keys])


def settle(
    session: Session, routine: Routine, before: dict[KeyT, Attendance]
) -> list[Change]:
    """Inside the edit's transaction: what changed since :func:`snapshot`, with the promoted
    people's mails queued; pass the result to :func:`notify_changes` after commit."""
    session.flush()
    after = attendance_for(session, list(before))
    changes: list[Change] = []
    for key, old in before.items():
        if key in after:
            changes.extend(_diff(old, after[key], None, False))
    queue_promotions(session, routine, changes)
    return changes


def announce(session: Session, routine: Routine, before: dict[KeyT, Attendance]) -> None:
    """After commit, for callers that queue no mail: notify what changed since the snapshot."""
    after = attendance_for(session, list(before))
    changes: list[Change] = []
    for key, old in before.items():
        if key in after:
            changes.extend(_diff(old, after[key], None, False))
    notify_changes(session, routine, changes)
