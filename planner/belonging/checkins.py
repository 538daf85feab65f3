"""Kind check-ins: when a member who usually comes has missed their last few dates, one person
who knows them gets a private prompt ("Sam hasn't been to the last 3 suppers: maybe drop them a
line?"). The absent member never gets an automatic "we miss you".

Who usually comes: at least ``USUAL_OF`` of the ``USUAL_WINDOW`` possible dates before the
missed run. Possible dates are the routine's past dates since the member joined the group. The
prompt goes to the member's chosen buddy, else the routine's creator, else an organizer, never
to the absent member; at most one per absent member and group every ``QUIET_DAYS`` days. A
member can switch check-ins off for themselves, an organizer for the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.belonging.past import PastDate, past_dates
from planner.enums import Role
from planner.models import CheckinPrompt, Group, Membership, Routine

MISSED = 3
USUAL_OF, USUAL_WINDOW = 3, 5
QUIET_DAYS = 28


@dataclass(frozen=True)
class Due:
    group: Group
    routine: Routine
    absent_id: int
    recipient_id: int
    missed: int


def usually_comes_and_missed(dates: list[PastDate], user_id: int, missed: int = MISSED) -> bool:
    """``dates``: one routine's past dates the person could have come to, oldest first."""
    if len(dates) < missed + USUAL_WINDOW:
        recent, before = dates[-missed:], dates[:-missed][-USUAL_WINDOW:]
    else:
        recent, before = dates[-missed:], dates[-missed - USUAL_WINDOW:-missed]
    if len(recent) < missed or any(user_id in d.came for d in recent):
        return False
    return sum(1 for d in before if user_id in d.came) >= USUAL_OF


def due_checkins(session: Session, now: datetime, group_ids: list[int] | None = None) -> list[Due]:
    """The prompts that should go now (``now`` aware); a fixed number of statements."""
    query = select(Group).where(Group.checkins_enabled.is_(True))
    if group_ids is not None:
        query = query.where(Group.id.in_(group_ids))
    groups = {g.id: g for g in session.scalars(query)}
    if not groups:
        return []
    members = list(session.scalars(select(Membership).where(
        Membership.group_id.in_(list(groups)))))
    organizers: dict[int, list[int]] = {}
    for m in members:
        if Role(m.role).organizes:
            organizers.setdefault(m.group_id, []).append(m.user_id)
    since = now - timedelta(days=QUIET_DAYS)
    recent = {(p.group_id, p.absent_id) for p in session.scalars(select(CheckinPrompt).where(
        CheckinPrompt.group_id.in_(list(groups)), CheckinPrompt.created_at >= since.replace(
            tzinfo=None)))}
    dates = past_dates(session, list(groups), now)
    by_routine: dict[int, list[PastDate]] = {}
    for d in dates:
        by_routine.setdefault(d.routine.id, []).append(d)
    member_ids = {(m.group_id, m.user_id) for m in members}
    found: list[Due] = []
    for m in members:
        if not m.checkins or (m.group_id, m.user_id) in recent:
            continue
        joined = m.created_at
        for routine_dates in by_routine.values():
            routine = routine_dates[0].routine
            if routine.group_id != m.group_id:
                continue
            possible = [d for d in routine_dates
                        if d.occurrence.start.replace(tzinfo=None) >= joined - timedelta(days=1)
                        or m.user_id in d.came]
            if not usually_comes_and_missed(possible, m.user_id):
                continue
            recipient = _recipient(m, routine, organizers.get(m.group_id, []), member_ids)
            if recipient is not None:
                found.append(Due(groups[m.group_id], routine, m.user_id, recipient, MISSED))
                break  # one prompt per absent member and group
    return found


def _recipient(
    member: Membership, routine: Routine, organizers: list[int], members: set[tuple[int, int]]
) -> int | None:
    """The buddy (if still a member), else the routine's creator, else an organizer."""
    for candidate in (member.buddy_id, routine.created_by_id, *organizers):
        if candidate is not None and candidate != member.user_id and (
            member.group_id, candidate) in members:
            return candidate
    return None


def record(session: Session, due: Due, now: datetime) -> None:
    session.add(CheckinPrompt(group_id=due.group.id, absent_id=due.absent_id,
                              recipient_id=due.recipient_id, routine_id=due.routine.id,
                              created_at=now.replace(tzinfo=None)))
