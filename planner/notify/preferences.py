"""Who wants which mail: the one question every reminder and notice asks before it is queued.

Categories (``CATEGORIES``) are what a person can switch off, per group or everywhere, and what
one-click unsubscribe names. Account mail (verification, resets) has no category: it always goes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

#: reminder: the day-before (or morning-of, or N hours before) reminder of a date you're going to;
#: ask: the nudge to answer; digest: the weekly digest; notice: a date cancelled, changed, a
#: series changed or ended, capacity lowered; comments: new comments on dates you're going to;
#: message: an organizer's message to those going or to all members.
CATEGORIES = ("reminder", "ask", "digest", "notice", "comments", "message")


def may_send(session: Session, *, user_id: int, group_id: int, category: str) -> bool:
    """Whether ``category`` mail about ``group_id`` may go to ``user_id`` now.

    Membership, a declined answer and cancellation are the caller's to check; this answers only
    the person's (or the group's default) choice, so every sender asks it the same way.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    return category != "comments"  # the defaults until preferences are stored
