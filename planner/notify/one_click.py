"""Using a one-click answer link: what it may change, checked again when it is used.

The link was mailed days ago; since then the person may have left the group, the date may have
been cancelled, moved or be over. So the token only names (person, occurrence, answer) and
everything else is read now: a link in an old mail can never answer for someone who is no
longer a member, nor a date that has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.enums import Answer, OverrideStatus
from planner.joining import answers
from planner.models import Group, Membership, Routine, User
from planner.notify import answer_links
from planner.scheduling import recurrence
from planner.scheduling.series import series_of


class LinkProblem(ValueError):
    """Why a one-click link cannot be used; ``str()`` is a message for the person."""


@dataclass(frozen=True)
class Pending:
    """A valid link's answer, before the person confirms it."""

    user: User
    group: Group
    routine: Routine
    occurrence: recurrence.Occurrence
    answer: str
    current: str | None  # the person's effective status now

    @property
    def recurring(self) -> bool:
        return bool(self.routine.rrule)


def open_link(session: Session, token: str, now: datetime) -> Pending:
    """The answer a token asks for, if it may still be given (``now``: naive UTC)."""
    found = answer_links.read(token)
    if found is None:
        raise LinkProblem("This answer link is not valid. Open the date from the group's page.")
    user_id, routine_id, original_start, answer = found
    routine = session.get(Routine, routine_id)
    user = session.get(User, user_id)
    if routine is None or user is None:
        raise LinkProblem("This date no longer exists.")
    group = session.get(Group, routine.group_id)
    member = session.scalar(
        select(Membership.id).where(
            Membership.group_id == routine.group_id, Membership.user_id == user.id
        )
    )
    if group is None or member is None:
        raise LinkProblem("You're no longer a member of this group, so the link can't answer.")
    try:
        occurrence = recurrence.occurrence_at(series_of(routine), original_start)
    except recurrence.RecurrenceError:
        occurrence = None
    if occurrence is None:
        raise LinkProblem("This date is no longer part of the routine.")
    if occurrence.status == OverrideStatus.CANCELLED:
        raise LinkProblem("This date was cancelled, so there is nothing to answer.")
    if occurrence.start <= now.replace(tzinfo=UTC):
        raise LinkProblem("This date has already started, so answers are closed.")
    current = answers.attendance_of(session, routine.id, original_start).status_of(user.id)
    return Pending(user=user, group=group, routine=routine, occurrence=occurrence,
                   answer=answer, current=current)


def confirm(session: Session, pending: Pending, *, every_date: bool, now: datetime) -> str:
    """Give the answer (and with ``every_date`` become a regular); the message for the page.

    Goes through the same capacity-checked path as the occurrence page, so a full date puts
    the person on the waitlist exactly as a tap there would.
    """
    aware = now.replace(tzinfo=UTC)
    guests = 0
    if pending.answer == Answer.GOING:
        mine = answers.attendance_of(
            session, pending.routine.id, pending.occurrence.original_start
        ).person(pending.user.id)
        guests = mine.guests if mine is not None else 0
    try:
        outcome = answers.answer(
            session, pending.routine, pending.occurrence, pending.user, pending.answer, guests,
            now=aware, member=True,
        )
    except answers.AnswerError as error:
        raise LinkProblem(str(error)) from None
    message = outcome.message
    if every_date and pending.answer == Answer.GOING and pending.recurring:
        message = answers.set_regular(session, pending.routine, pending.user, True,
                                      now=aware).message
        message = f"{outcome.message} {message}"
    return message
