"""Comments on an occurrence: who may remove one, and writing them.

Comments stay open after an occurrence (a "thanks, see you next week" belongs there) and on a
cancelled one (people ask why), so unlike answers nothing here checks whether it is still open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.models import Comment, Routine, bump_group_version

MAX_LENGTH = 2000


def post_comment(
    session: Session, routine_id: int, original_start: datetime, user_id: int, body: str
) -> Comment:
    comment = Comment(
        routine_id=routine_id, original_start=original_start, user_id=user_id, body=body
    )
    session.add(comment)
    _touch(session, routine_id)
    session.commit()
    return comment


def comment_on(
    session: Session, routine_id: int, original_start: datetime, comment_id: int
) -> Comment | None:
    """The comment, only if it belongs to that occurrence (an id from another page is None)."""
    return session.scalar(
        select(Comment).where(
            Comment.id == comment_id,
            Comment.routine_id == routine_id,
            Comment.original_start == original_start,
        )
    )


def may_delete(comment: Comment, user_id: int, can_organize: bool) -> bool:
    """The author, or an organizer tidying up; never another member."""
    return comment.user_id == user_id or can_organize


def delete_comment(session: Session, comment: Comment) -> None:
    routine_id = comment.routine_id
    session.delete(comment)
    _touch(session, routine_id)
    session.commit()


def _touch(session: Session, routine_id: int) -> None:
    """A comment shows on its occurrence page, which is cached by the group's version."""
    group_id = session.scalar(select(Routine.group_id).where(Routine.id == routine_id))
    if group_id is not None:
        bump_group_version(session, group_id)
