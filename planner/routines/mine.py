"""My groups: every group a person belongs to, private ones included, with its next date and
their answer to it.

Lives with routines rather than groups because "next date" and "your answer" come from the
routines and joining rooms, which sit above groups. A fixed number of statements (groups with
roles, routines, overrides, attendance) however many groups a person has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.joining.attendance import attendance_for
from planner.models import Group, Membership, Routine, User
from planner.routines.listing import HORIZON, next_date
from planner.routines.occurrences import routines_in_window, utc_now
from planner.scheduling import recurrence


@dataclass(frozen=True)
class MyGroup:
    group: Group
    role: str
    routine: Routine | None  # the routine of the next date
    next: recurrence.Occurrence | None
    answer: str | None  # the viewer's status for that date (going, maybe, waitlisted...)
    going: int


def my_groups(session: Session, user: User, now: datetime | None = None) -> list[MyGroup]:
    """The person's groups, the ones with the soonest next date first, then by name."""
    now = now or utc_now()
    joined = session.execute(
        select(Group, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id)
        .order_by(Group.name, Group.id)
    ).all()
    if not joined:
        return []
    routines, overrides = routines_in_window(
        session, [g.id for g, _role in joined], now, now + HORIZON
    )
    soonest: dict[int, tuple[Routine, recurrence.Occurrence]] = {}
    for routine in routines:
        occurrence = next_date(routine, now, overrides[routine.id])
        if occurrence is None:
            continue
        held = soonest.get(routine.group_id)
        if held is None or occurrence.start < held[1].start:
            soonest[routine.group_id] = (routine, occurrence)
    keys = [(r.id, o.original_start) for r, o in soonest.values()]
    found = attendance_for(session, keys) if keys else {}
    rows = []
    for group, role in joined:
        pair = soonest.get(group.id)
        attendance = found.get((pair[0].id, pair[1].original_start)) if pair else None
        rows.append(
            MyGroup(
                group=group,
                role=role,
                routine=pair[0] if pair else None,
                next=pair[1] if pair else None,
                answer=attendance.status_of(user.id) if attendance else None,
                going=attendance.going_count if attendance else 0,
            )
        )
    rows.sort(key=lambda r: (r.next is None, r.next.start.timestamp() if r.next else 0))
    return rows
