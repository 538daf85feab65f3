"""Authorization in one place: who may see a group and who may organize it.

A private group answers 404 (not 403) to anyone who is not a member, so its existence does not
leak; organizer actions answer 403 to plain members, who can already see the group.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from planner.db import get_session
from planner.enums import Role
from planner.models import Group, Membership, Routine


@dataclass(frozen=True)
class GroupAccess:
    group: Group
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None

    @property
    def can_organize(self) -> bool:
        return self.membership is not None and self.membership.can_organize

    @property
    def is_owner(self) -> bool:
        return self.membership is not None and self.membership.role == Role.OWNER


#: Built once: every group page and every answer starts with it (its construction cost more
#: CPU than running it).
_WITH_MEMBERSHIP = (
    select(Group, Membership)
    .outerjoin(
        Membership,
        (Membership.group_id == Group.id) & (Membership.user_id == bindparam("user_id")),
    )
    .where(Group.slug == bindparam("slug"))
    .execution_options(populate_existing=True)
)


def group_access(slug: str) -> GroupAccess:
    """Load a group the current person may see, in one query, or abort 404.

    Read fresh (``populate_existing``) even from a session that already holds the group: its
    ``version`` keys the cached pages (:mod:`planner.web.page_cache`)."""
    session = get_session()
    if current_user.is_authenticated:
        row = session.execute(_WITH_MEMBERSHIP, {"slug": slug, "user_id": current_user.id}).first()
        group, membership = (row[0], row[1]) if row else (None, None)
    else:
        group = session.scalar(
            select(Group).where(Group.slug == slug).execution_options(populate_existing=True)
        )
        membership = None
    return _visible(group, membership)


def _visible(group: Group | None, membership: Membership | None) -> GroupAccess:
    """The access to a group as read, or 404: a private group hides from non-members."""
    if group is None or (not group.is_public and membership is None):
        abort(404)
    return GroupAccess(group, membership)


def _as_member(access: GroupAccess) -> GroupAccess:
    """The access of a member, or 403 (the group is visible, so saying why leaks nothing)."""
    if not access.is_member:
        abort(403, gettext("Join this group first."))
    return access


def member_access(slug: str) -> GroupAccess:
    """Like :func:`group_access`, but the person must be a member (403 for a public group)."""
    return _as_member(group_access(slug))


def organizer_access(slug: str) -> GroupAccess:
    access = group_access(slug)
    if not access.can_organize:
        abort(403, gettext("Only the group's organizers can do that."))
    return access


#: The group, the person's membership and one of the group's routines with its overrides, in
#: one statement: what every member's write to a routine (an answer, a comment, a slot claim)
#: starts with. Read apart, the group and the routine were two statements and two ORM loads,
#: about a fifth of an answer's CPU.
_WITH_ROUTINE = (
    select(Group, Membership, Routine)
    .outerjoin(
        Membership,
        (Membership.group_id == Group.id) & (Membership.user_id == bindparam("user_id")),
    )
    .outerjoin(
        Routine, (Routine.group_id == Group.id) & (Routine.id == bindparam("routine_id"))
    )
    .options(joinedload(Routine.overrides))
    .where(Group.slug == bindparam("slug"))
    .execution_options(populate_existing=True)
)


def member_routine(slug: str, routine_id: int) -> tuple[GroupAccess, Routine]:
    """:func:`member_access` and the group's routine ``routine_id`` (with its overrides) in one
    statement, with the same answers: 404 for a group hidden from the person, 403 for a
    visible group the person is not a member of, then 404 for a routine not in the group. A
    visitor's user id is NULL, which no membership matches."""
    user_id = current_user.id if current_user.is_authenticated else None
    row = (
        get_session()
        .execute(_WITH_ROUTINE, {"slug": slug, "user_id": user_id, "routine_id": routine_id})
        .unique()
        .first()
    )
    group, membership, routine = (row[0], row[1], row[2]) if row else (None, None, None)
    access = _as_member(_visible(group, membership))
    if routine is None:
        abort(404)
    return access, routine
