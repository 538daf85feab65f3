"""The groups a person belongs to, private ones included, by name: the short list that keeps
every one of them a click away (Next up, the account page). One statement.

The fuller "My groups" page, with next dates and answers, needs the rooms above this one; it
is :mod:`planner.routines.mine`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.models import Group, Membership


def groups_of(session: Session, user_id: int) -> list[Group]:
    return list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.name, Group.id)
        )
    )
