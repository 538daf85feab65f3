"""The start page: a short landing page for visitors, "Next up" for a logged-in member.

"Next up" gathers the coming two weeks across all the member's groups, with their answer and
one-click buttons, and lists first what still needs their answer. It loads everything in a fixed
number of statements (memberships, routines, overrides, then attendance), however many groups,
routines and answers there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from planner.db import get_session
from planner.joining.attendance import attendance_for, closed_reason
from planner.models import Group, Membership, Override, Routine
from planner.routines.occurrences import Upcoming, expand_routines, utc_now
from planner.scheduling.series import ZONE_MARGIN
from planner.web.helpers import NextForm

bp = Blueprint("home", __name__)

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


def next_up(session, user, now: datetime | None = None) -> list[NextUp]:
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
    floor = now.astimezone(UTC).replace(tzinfo=None) - ZONE_MARGIN
    overrides = Routine.overrides.and_(
        or_(Override.original_start >= floor, Override.start >= floor)
    )
    routines = list(
        session.scalars(
            select(Routine)
            .where(Routine.group_id.in_(by_id))
            .options(selectinload(overrides))
            .order_by(Routine.id)
            .execution_options(populate_existing=True)
        )
    )
    pairs = expand_routines(routines, now, now + timedelta(days=DAYS))[:LIMIT]
    found = attendance_for(session, [(r.id, o.original_start) for r, o in pairs])
    plugins = current_app.extensions["planner"]
    items = []
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


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    items = next_up(get_session(), current_user)
    return render_template(
        "home/dashboard.html",
        items=items,
        needs_answer=[i for i in items if i.needs_answer],
        form=NextForm(),
        days=DAYS,
    )
