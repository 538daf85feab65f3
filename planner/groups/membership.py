"""Membership and its roles: who may change whose role, joining, leaving, removing.

Who may do what (also in ``docs/accounts.md``): members see the group and may leave;
organizers also promote, demote and remove members and organizers; owners also make and unmake
owners and remove owners.

A group never ends up without an owner: the last owner cannot leave, be removed or demoted.
That check and the change run in one locked transaction (``immediate`` plus a row lock on the
group), so two owners demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.db import immediate
from planner.enums import Role
from planner.models import Group, Membership, User, bump_group_version

# Lazy, and read with ``LAST_OWNER.format(group=...)`` when shown (translated then).
LAST_OWNER = lazy_gettext(
    "{group} needs at least one owner. Make someone else an owner first, or delete the group."
)
ROLE_ORDER: dict[str, int] = {Role.OWNER: 0, Role.ORGANIZER: 1, Role.MEMBER: 2}


class LastOwner(Exception):
    """The change would leave the group without an owner."""


class NotMember(Exception):
    """The person is not (or no longer) a member of the group."""


def may_manage(actor_role: str, target_role: str) -> bool:
    """Owners manage everyone; organizers manage organizers and members, never owners."""
    if actor_role == Role.OWNER:
        return True
    return actor_role == Role.ORGANIZER and target_role != Role.OWNER


def may_grant(actor_role: str, new_role: str) -> bool:
    """Only owners make owners; organizers may make organizers and members."""
    if actor_role == Role.OWNER:
        return True
    return actor_role == Role.ORGANIZER and new_role != Role.OWNER


def member_counts(db: Session, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = db.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.group_id.in_(group_ids))
        .group_by(Membership.group_id)
    )
    return {group_id: count for group_id, count in rows}


def lock_group(db: Session, group_id: int) -> None:
    """Serialize owner changes per group: a row lock on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    db.execute(select(Group.id).where(Group.id == group_id).with_for_update())


def owner_count(db: Session, group_id: int) -> int:
    return db.scalar(
        select(func.count(Membership.id)).where(
            Membership.group_id == group_id, Membership.role == Role.OWNER
        )
    ) or 0


def members_of(db: Session, group_id: int) -> list[tuple[Membership, User]]:
    """The group's members with their accounts, owners first, then by name."""
    rows = [
        (membership, user)
        for membership, user in db.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.group_id == group_id)
        )
    ]
    rows.sort(key=lambda row: (ROLE_ORDER.get(row[0].role, 9), row[1].display_name.lower()))
    return rows


def membership_of(db: Session, group_id: int, user_id: int) -> Membership | None:
    """The membership as stored now (fresh role even inside a locked transaction)."""
    return db.scalar(
        select(Membership)
        .where(Membership.group_id == group_id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def is_member(db: Session, group_id: int, user_id: int) -> bool:
    """One indexed lookup, for pages that know the group but not the person's role."""
    return (
        db.scalar(
            select(Membership.id).where(
                Membership.group_id == group_id, Membership.user_id == user_id
            )
        )
        is not None
    )


def join(db: Session, group: Group, user_id: int) -> bool:
    """Join as a plain member; False when already one (a double click included)."""
    db.add(Membership(group_id=group.id, user_id=user_id, role=Role.MEMBER))
    bump_group_version(db, group.id)  # the member count and the pages' cache keys
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True


def set_role(db: Session, group: Group, user_id: int, new_role: Role) -> Membership:
    """Give ``user_id`` ``new_role``; raises :class:`LastOwner` rather than demote the last
    owner, :class:`NotMember` when they left meanwhile. Permission is the caller's check
    (:func:`may_manage`, :func:`may_grant`)."""
    with immediate(db):
        lock_group(db, group.id)
        current = membership_of(db, group.id, user_id)
        if current is None:
            raise NotMember
        if current.role == Role.OWNER and new_role != Role.OWNER and owner_count(db, group.id) < 2:
            raise LastOwner
        current.role = new_role
        bump_group_version(db, group.id)
    return current


def remove(db: Session, group: Group, user_id: int) -> None:
    """Remove one membership, refusing to remove the last owner (raises :class:`LastOwner`)."""
    with immediate(db):
        lock_group(db, group.id)
        membership = membership_of(db, group.id, user_id)
        if membership is None:
            return
        if membership.role == Role.OWNER and owner_count(db, group.id) < 2:
            raise LastOwner
        db.delete(membership)
        bump_group_version(db, group.id)
