"""The "Next up" list: the coming two weeks across all of a member's groups, with their answer.

Loaded in a fixed number of statements (memberships, routines, overrides, then attendance),
however many groups, routines and answers there are, because it is the first page a member
sees on every visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.joining.attendance import attendance_for, closed_reason
from planner.models import Group, Membership, User
from planner.routines.occurrences import Upcoming, expand_routines, routines_in_window, utc_now

DAYS = 14
LIMIT = 40


@dataclass(frozen=True)
class NextUp:
    """One occurrence on the dashboard, with the viewer's own answer."""

    item: Upcoming
    group_name: str
    status: str | None
    position: int | None
    guests: int
    regular: bool
    closed: str | None

    @property
    def needs_answer(self) -> bool:
        return self.status is None and self.closed is None


def next_up(session: Session, user: User, now: datetime | None = None) -> list[NextUp]:
    """The member's upcoming occurrences across groups, in start order (fixed statements)."""
    now = now or utc_now()
    groups = list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user.id)
        )
    )
    if not groups:
        return []
    by_id = {g.id: g for g in groups}
    end = now + timedelta(days=DAYS)
    routines, overrides = routines_in_window(session, list(by_id), now, end)
    pairs = expand_routines(routines, now, end, overrides)[:LIMIT]
    found = attendance_for(session, [(r.id, o.original_start) for r, o in pairs])
    plugins = current_app.extensions["planner"]
    items: list[NextUp] = []
    for routine, occurrence in pairs:
        group = by_id[routine.group_id]
        attendance = found.get((routine.id, occurrence.original_start))
        person = attendance.person(user.id) if attendance else None
        items.append(
            NextUp(
                item=Upcoming(
                    routine=routine,
                    occurrence=occurrence,
                    group_slug=group.slug,
                    group_timezone=group.timezone,
                    activity=plugins.activity(routine.activity_key),
                    attendance=attendance,
                ),
                group_name=group.name,
                status=attendance.status_of(user.id) if attendance else None,
                position=attendance.position_of(user.id) if attendance else None,
                guests=person.guests if person else 0,
                regular=attendance.is_regular(user.id) if attendance else False,
                closed=closed_reason(occurrence, now),
            )
        )
    return items
