"""Creating, editing, listing and deleting groups.

A web address (slug) is checked before saving so the person gets a message, and again by the
database's unique index at commit, because two people can pick the same one at the same moment;
both end as :class:`SlugTaken`, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.enums import Role, Visibility
from planner.models import Group, Membership, bump_group_version


class SlugTaken(Exception):
    """Another group has this web address."""


@dataclass(frozen=True)
class GroupValues:
    slug: str
    name: str
    description: str
    visibility: Visibility
    timezone: str
    language: str | None = None  # the feeds' language; None: the site's default


def slug_taken(db: Session, slug: str, except_id: int | None = None) -> bool:
    query = select(Group.id).where(Group.slug == slug)
    if except_id is not None:
        query = query.where(Group.id != except_id)
    return db.scalar(query) is not None


def _apply(group: Group, values: GroupValues) -> None:
    group.slug = values.slug
    group.name = values.name
    group.description = values.description
    group.visibility = values.visibility
    group.timezone = values.timezone
    group.language = values.language


def create_group(db: Session, values: GroupValues, owner_id: int) -> Group:
    """A new group with ``owner_id`` as its first owner, in one transaction."""
    if slug_taken(db, values.slug):
        raise SlugTaken
    group = Group()
    _apply(group, values)
    db.add(group)
    try:
        db.flush()
        db.add(Membership(group_id=group.id, user_id=owner_id, role=Role.OWNER))
        db.commit()
    except IntegrityError:
        db.rollback()
        raise SlugTaken from None
    return group


def update_group(db: Session, group: Group, values: GroupValues) -> None:
    """Save the group; its feeds carry its name and zone, so their version moves too."""
    if slug_taken(db, values.slug, except_id=group.id):
        raise SlugTaken
    _apply(group, values)
    try:
        db.flush()
        bump_group_version(db, group.id)
        db.commit()
    except IntegrityError:
        db.rollback()
        raise SlugTaken from None


def delete_group(db: Session, group: Group) -> None:
    """Everything in the group goes with it (``ON DELETE CASCADE``), in one statement."""
    db.execute(delete(Group).where(Group.id == group.id))
    db.commit()


def public_groups(db: Session, page: int, per_page: int) -> tuple[list[Group], bool]:
    """One page of the public directory by name, and whether another page follows."""
    groups = list(
        db.scalars(
            select(Group)
            .where(Group.visibility == Visibility.PUBLIC)
            .order_by(Group.name, Group.id)
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
    )
    return groups[:per_page], len(groups) > per_page


def groups_joined(db: Session, user_id: int, group_ids: list[int]) -> set[int]:
    """Which of ``group_ids`` the person is a member of (one query)."""
    if not group_ids:
        return set()
    return set(
        db.scalars(
            select(Membership.group_id).where(
                Membership.user_id == user_id, Membership.group_id.in_(group_ids)
            )
        )
    )
