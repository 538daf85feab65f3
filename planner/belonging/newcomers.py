"""Newcomers welcomed: someone going to a routine for the first time gets a small "first time"
mark on the date (for members), and the host and regulars a line in their reminder.

First time means: no earlier date of this routine on which they were going or said they came.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.models import Presence, Rsvp


def first_timers(
    session: Session, routine_id: int, original_start: datetime, user_ids: Iterable[int]
) -> set[int]:
    """Those of ``user_ids`` with no earlier going answer or presence on the routine (two
    statements). Regulars who joined before the date count as having come (they are not new)."""
    from planner.models import Regular

    wanted = set(user_ids)
    if not wanted:
        return set()
    seen = set(session.scalars(select(Rsvp.user_id).where(
        Rsvp.routine_id == routine_id, Rsvp.original_start < original_start,
        Rsvp.status == "going", Rsvp.user_id.in_(wanted))))
    seen |= set(session.scalars(select(Presence.user_id).where(
        Presence.routine_id == routine_id, Presence.original_start < original_start,
        Presence.came.is_(True), Presence.user_id.in_(wanted))))
    seen |= set(session.scalars(select(Regular.user_id).where(
        Regular.routine_id == routine_id, Regular.user_id.in_(wanted))))
    return wanted - seen
