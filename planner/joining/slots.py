"""Sign-up slots: members claim and release them per occurrence, organizers edit a routine's.

A claim is checked against the slot's capacity under the occurrence lock, like an answer; a
slot removed a moment ago is a refusal with a message, never a claim on nothing. Editing the
slots changes what every feed shows, so it moves the group's feed version in the same commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from flask_babel import gettext, ngettext
from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from planner.joining.answers import AnswerError, check_open
from planner.joining.locks import occurrence_lock
from planner.models import Claim, Routine, Slot, User, bump_group_version
from planner.scheduling import recurrence

MAX_SLOTS = 30


# --------------------------------------------------------------------------- claims


@contextmanager
def _locked_slot(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    slot_id: int,
    now: datetime | None,
) -> Iterator[Slot]:
    """The routine's slot, read under the occurrence lock of a still-open occurrence: a slot an
    organizer removed a moment ago is refused with a message, never claimed or a 500."""
    check_open(occurrence, now)
    with occurrence_lock(session, routine.id, occurrence.original_start):
        slot = session.scalar(select(Slot).where(Slot.id == slot_id, Slot.routine_id == routine.id))
        if slot is None:
            raise AnswerError(gettext("That slot no longer exists."))
        yield slot


def claim_slot(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    user: User,
    slot_id: int,
    now: datetime | None = None,
) -> str:
    """Take a slot on one occurrence if it has room; idempotent for the same person."""
    key = occurrence.original_start
    with _locked_slot(session, routine, occurrence, slot_id, now) as slot:
        takers = session.execute(
            select(Claim.user_id, User.display_name)
            .join(User, User.id == Claim.user_id)
            .where(Claim.slot_id == slot.id, Claim.original_start == key)
            .order_by(Claim.created_at, Claim.id)
        ).all()
        if any(uid == user.id for uid, _ in takers):
            return str(gettext("You already have “%(slot)s”.", slot=slot.label))
        if len(takers) >= slot.capacity:
            names = ", ".join(name for _, name in takers)
            raise AnswerError(
                gettext("“%(slot)s” is already taken by %(names)s.", slot=slot.label, names=names)
            )
        session.add(Claim(slot_id=slot.id, original_start=key, user_id=user.id))
        bump_group_version(session, routine.group_id)
    return str(gettext("You took “%(slot)s”.", slot=slot.label))


def release_slot(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    slot_id: int,
    user_id: int,
    now: datetime | None = None,
) -> str:
    key = occurrence.original_start
    with _locked_slot(session, routine, occurrence, slot_id, now) as slot:
        statement = delete(Claim).where(
            Claim.slot_id == slot.id, Claim.original_start == key, Claim.user_id == user_id
        )
        result = cast("CursorResult[Any]", session.execute(statement))
        if result.rowcount:
            bump_group_version(session, routine.group_id)
    if not result.rowcount:
        return str(gettext("“%(slot)s” was not taken by that person.", slot=slot.label))
    return str(gettext("“%(slot)s” is free again.", slot=slot.label))


# --------------------------------------------------------------------------- organizers


def routine_slots(session: Session, routine_id: int) -> list[Slot]:
    return list(
        session.scalars(
            select(Slot).where(Slot.routine_id == routine_id).order_by(Slot.position, Slot.id)
        )
    )


def slot_of(session: Session, routine_id: int, slot_id: int) -> Slot | None:
    return session.scalar(select(Slot).where(Slot.id == slot_id, Slot.routine_id == routine_id))


def add_slot(session: Session, routine: Routine, label: str, capacity: int) -> Slot:
    """A new slot at the end of the list; refused (:class:`AnswerError`) past :data:`MAX_SLOTS`,
    which keeps the occurrence page and its feed entry readable."""
    count, last = session.execute(
        select(func.count(Slot.id), func.max(Slot.position)).where(Slot.routine_id == routine.id)
    ).one()
    if count >= MAX_SLOTS:
        raise AnswerError(
            ngettext("A routine can have at most %(num)d slot.",
                     "A routine can have at most %(num)d slots.", MAX_SLOTS)
        )
    slot = Slot(routine_id=routine.id, label=label, capacity=capacity, position=(last or 0) + 1)
    session.add(slot)
    bump_group_version(session, routine.group_id)
    session.commit()
    return slot


def update_slot(session: Session, routine: Routine, slot: Slot, label: str, capacity: int) -> None:
    slot.label, slot.capacity = label, capacity
    bump_group_version(session, routine.group_id)
    session.commit()


def remove_slot(session: Session, routine: Routine, slot: Slot) -> None:
    """The slot and its claims on every occurrence go (``ON DELETE CASCADE``)."""
    session.delete(slot)
    bump_group_version(session, routine.group_id)
    session.commit()
