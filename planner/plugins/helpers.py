"""The few things a plugin may need beyond what hooks hand it. Private: plugins import these
from :mod:`planner.api`, which re-exports them, so they can move without breaking anyone.

Plugins never import ``planner.web.views`` or ``planner.models`` internals: a route a plugin adds
loads its routine through :func:`member_routine` (so it gets the app's authorization rules), and
state a plugin keeps per routine lives in ``Routine.details`` under the activity type's
``state_keys``, written only through :func:`update_details` (locked, so two members clicking at
once do not overwrite each other).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrulestr
from flask import abort

if TYPE_CHECKING:
    from planner.models import Routine

__all__ = ["is_member", "member_routine", "occurrence_number", "update_details"]

# Counting stops here: about 19 years of a daily routine; turns past it repeat harmlessly.
MAX_COUNT = 7000
_UNTIL = re.compile(r"(^|;)UNTIL=[^;]*", re.IGNORECASE)


def occurrence_number(routine: Any, original_start: datetime) -> int:
    """How many occurrences the routine's rule produces before ``original_start`` (0 for the
    first). Rotations (whose turn it is to host) use it, so the turn follows the schedule and
    not the calendar: a fortnightly dinner passes the turn on every other week.

    Cancelled occurrences still count, so cancelling one does not reshuffle every later turn.
    """
    rule_text = (routine.rrule or "").strip()
    if not rule_text or original_start <= routine.start:
        return 0
    # Only starts before original_start matter, and original_start is itself produced, so UNTIL
    # (stored in UTC, which dateutil refuses next to a naive start) can be dropped.
    rule_text = _UNTIL.sub("", rule_text).strip(";")
    rule = rrulestr(f"RRULE:{rule_text}", dtstart=routine.start)
    count = 0
    for start in rule:
        if start >= original_start or count >= MAX_COUNT:
            break
        count += 1
    return count


def member_routine(slug: str, routine_id: int, activity_key: str | None = None) -> Routine:
    """The routine ``routine_id`` of group ``slug`` for the logged-in member, or abort: 404 for
    anyone who may not see a private group (or when the routine is not there or not of
    ``activity_key``), 403 with a reason for a logged-in non-member of a public group.
    Anonymous people are sent to log in."""
    from flask_login import current_user

    from planner.db import get_session
    from planner.groups.access import member_access
    from planner.models import Routine

    if not current_user.is_authenticated:
        from planner.web.extensions import login_manager

        abort(login_manager.unauthorized())
    access = member_access(slug)
    routine = get_session().get(Routine, routine_id)
    if routine is None or routine.group_id != access.group.id:
        abort(404)
    if activity_key is not None and routine.activity_key != activity_key:
        abort(404)
    return routine


def is_member(viewer: Any, routine: Any) -> bool:
    """Whether ``viewer`` (a user or ``None``) belongs to the routine's group (one query)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    from sqlalchemy import select

    from planner.db import get_session
    from planner.models import Membership

    found = get_session().scalar(
        select(Membership.id).where(
            Membership.group_id == routine.group_id, Membership.user_id == viewer.id
        )
    )
    return found is not None


def update_details(
    routine: Any, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Apply ``change`` (old details -> new details) to the routine's stored JSON under a lock,
    commit, and mark the group's feeds as changed. Returns the new details.

    ``change`` receives a copy and runs on the freshly locked row, so a concurrent update is
    never lost; keep it quick and free of I/O.
    """
    from sqlalchemy import select

    from planner.db import get_session, immediate
    from planner.models import Routine, bump_group_version

    session = get_session()
    with immediate(session):
        locked = session.scalars(
            select(Routine)
            .where(Routine.id == routine.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        current = dict(locked.details) if isinstance(locked.details, dict) else {}
        new = change(dict(current))
        if new != current:
            locked.details = new  # reassigned: JSON columns do not track in-place edits
            bump_group_version(session, locked.group_id)
    return new
