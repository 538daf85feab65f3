"""What "Next up" asks of belonging: "Were you there?" for the dates you were going to in the
last few days, and the check-in prompts you received (the private nudge to write to someone).
A fixed number of statements, like the rest of Next up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.belonging.past import PastDate, past_dates
from planner.models import CheckinPrompt, Group, Membership, Presence, User

ASK_DAYS = 3
PROMPT_DAYS = 28


@dataclass(frozen=True)
class Ask:
    date: PastDate
    group: Group


@dataclass(frozen=True)
class Prompt:
    id: int
    group: Group
    absent_name: str


def were_you_there(session: Session, user_id: int, now: datetime) -> list[Ask]:
    """The person's dates that ended in the last ``ASK_DAYS`` days, that they were going to and
    have not said about (``now`` aware), newest first."""
    groups = {g.id: g for g in session.scalars(
        select(Group).join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user_id))}
    if not groups:
        return []
    dates = past_dates(session, list(groups), now, since=now - timedelta(days=ASK_DAYS))
    candidates = [d for d in dates if not d.confirmed and user_id in d.came]
    if not candidates:
        return []
    said = {(p.routine_id, p.original_start) for p in session.execute(
        select(Presence.routine_id, Presence.original_start).where(
            Presence.user_id == user_id,
            Presence.routine_id.in_({d.routine.id for d in candidates})))}
    return [Ask(d, groups[d.routine.group_id]) for d in reversed(candidates) if d.key not in said]


def my_prompts(session: Session, user_id: int, now: datetime) -> list[Prompt]:
    since = (now - timedelta(days=PROMPT_DAYS)).replace(tzinfo=None)
    rows = session.execute(
        select(CheckinPrompt.id, Group, User.display_name)
        .join(Group, Group.id == CheckinPrompt.group_id)
        .join(User, User.id == CheckinPrompt.absent_id)
        .join(Membership, (Membership.group_id == Group.id) & (Membership.user_id == user_id))
        .where(CheckinPrompt.recipient_id == user_id, CheckinPrompt.created_at >= since)
        .order_by(CheckinPrompt.created_at.desc())
    )
    return [Prompt(row[0], row[1], row[2]) for row in rows]
