"""Newcomers welcomed: someone going to a routine for the first time gets a small "first time"
mark on the date (for members), and the host and regulars a line in their reminder.

First time means: no earlier date of this routine on which they were going or said they came.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.models import Presence, Regular, Rsvp

Key = tuple[int, datetime]  # (routine id, original start)


def first_timers(
    session: Session, routine_id: int, original_start: datetime, user_ids: Iterable[int]
) -> set[int]:
    """Those of ``user_ids`` with no earlier going answer or presence on the routine (three
    statements). Regulars count as having come (they are not new)."""
    key = (routine_id, original_start)
    return first_timers_for(session, {key: set(user_ids)}).get(key, set())


def first_timers_for(session: Session, wanted: Mapping[Key, Iterable[int]]) -> dict[Key, set[int]]:
    """:func:`first_timers` for many dates at once, in three statements whatever their number
    (the reminder scan asks it for every date it writes about): each person's earliest going
    answer and earliest presence per routine, and who is a regular."""
    asked = {key: set(users) for key, users in wanted.items()}
    routine_ids = {rid for rid, _ in asked}
    user_ids = set().union(*asked.values()) if asked else set()
    if not routine_ids or not user_ids:
        return {key: set() for key in asked}
    earliest: dict[tuple[int, int], datetime] = {}
    for query in (
        select(Rsvp.routine_id, Rsvp.user_id, func.min(Rsvp.original_start))
        .where(Rsvp.routine_id.in_(routine_ids), Rsvp.user_id.in_(user_ids),
               Rsvp.status == "going")
        .group_by(Rsvp.routine_id, Rsvp.user_id),
        select(Presence.routine_id, Presence.user_id, func.min(Presence.original_start))
        .where(Presence.routine_id.in_(routine_ids), Presence.user_id.in_(user_ids),
               Presence.came.is_(True))
        .group_by(Presence.routine_id, Presence.user_id),
    ):  # fmt: skip
        for routine_id, user_id, first in session.execute(query):
            pair = (routine_id, user_id)
            earliest[pair] = min(first, earliest.get(pair, first))
    regulars = {(r, u) for r, u in session.execute(select(Regular.routine_id, Regular.user_id)
                .where(Regular.routine_id.in_(routine_ids), Regular.user_id.in_(user_ids)))}
    found: dict[Key, set[int]] = {}
    for (routine_id, start), users in asked.items():
        found[(routine_id, start)] = {
            u for u in users
            if (routine_id, u) not in regulars
            and earliest.get((routine_id, u), start) >= start
        }  # fmt: skip
    return found
