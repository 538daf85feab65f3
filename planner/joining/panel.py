"""The answers panel of an occurrence page: who's coming, the viewer's answer, comments.

Loaded up front in a fixed number of statements, so the template ``answers/_panel.html``
triggers no lazy loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.joining.attendance import Attendance, attendance_of, closed_reason
from planner.models import Comment, Membership, Routine, User
from planner.scheduling import recurrence


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str
    user_id: int | None
    body: str
    created_at: datetime
    can_delete: bool


@dataclass(frozen=True)
class Panel:
    """Everything ``answers/_panel.html`` needs, loaded up front (no lazy loads in templates)."""

    slug: str
    routine_id: int
    key: str
    attendance: Attendance
    is_member: bool
    can_organize: bool
    viewer_id: int | None
    viewer_status: str | None
    viewer_position: int | None
    viewer_guests: int
    is_regular: bool
    closed_reason: str | None
    max_guests: int
    comments: tuple[CommentView, ...]

    @property
    def can_answer(self) -> bool:
        return self.is_member and self.closed_reason is None


def _membership(session: Session, group_id: int, viewer: Any) -> Membership | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == viewer.id)
    )


def comments_of(
    session: Session, routine_id: int, original_start: datetime, viewer_id: int | None,
    can_organize: bool,
) -> tuple[CommentView, ...]:
    rows = session.execute(
        select(Comment, User.display_name)
        .outerjoin(User, User.id == Comment.user_id)
        .where(Comment.routine_id == routine_id, Comment.original_start == original_start)
        .order_by(Comment.created_at, Comment.id)
    )
    return tuple(
        CommentView(
            c.id,
            name or gettext("A former member"),
            c.user_id,
            c.body,
            c.created_at.replace(tzinfo=UTC),  # aware, so pages show it in the viewer's zone
            can_organize or (viewer_id is not None and c.user_id == viewer_id),
        )
        for c, name in rows
    )


def occurrence_context(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, viewer: Any
) -> dict[str, Any]:
    """Extra template context for the occurrence page (who's coming, the viewer's answer,
    slots, comments) in a fixed number of queries. Always includes ``attendance``.

    Returns ``{"attendance": Attendance, "answers": Panel}``; non-members get the attendance
    counts only (the panel hides names from them).
    """
    membership = _membership(session, routine.group_id, viewer)
    attendance = attendance_of(session, routine.id, occurrence.original_start)
    is_member = membership is not None
    can_organize = membership is not None and membership.can_organize
    viewer_id = viewer.id if is_member else None
    comments: tuple[CommentView, ...] = ()
    if is_member:
        comments = comments_of(
            session, routine.id, occurrence.original_start, viewer_id, can_organize
        )
    person = attendance.person(viewer_id) if viewer_id else None
    panel = Panel(
        slug=routine.group.slug,
        routine_id=routine.id,
        key=occurrence.key,
        attendance=attendance,
        is_member=is_member,
        can_organize=can_organize,
        viewer_id=viewer_id,
        viewer_status=attendance.status_of(viewer_id) if viewer_id else None,
        viewer_position=attendance.position_of(viewer_id) if viewer_id else None,
        viewer_guests=person.guests if person else 0,
        is_regular=attendance.is_regular(viewer_id) if viewer_id else False,
        closed_reason=closed_reason(occurrence),
        max_guests=routine.max_guests,
        comments=comments,
    )
    return {"attendance": attendance, "answers": panel}
