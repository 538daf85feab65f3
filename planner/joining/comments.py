"""Comments on an occurrence: who may remove one, and writing them.

Comments stay open after an occurrence (a "thanks, see you next week" belongs there) and on a
cancelled one (people ask why), so unlike answers nothing here checks whether it is still open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.models import Comment

MAX_LENGTH = 2000


def post_comment(
    session: Session, routine_id: int, original_start: datetime, user_id: int, body: str
) -> Comment:
    comment = Comment(
        routine_id=routine_id, original_start=original_start, user_id=user_id, body=body
    )
    session.add(comment)
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
    session.delete(comment)
    session.commit()
