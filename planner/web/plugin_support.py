"""What a plugin's own routes need from the web layer: the app's authorization rules for a
routine page, and whether the viewer belongs to its group. Plugins reach these as
:func:`planner.api.member_routine` and :func:`planner.api.is_member`.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from planner.db import get_session
from planner.groups import membership
from planner.groups.access import member_access
from planner.models import Routine
from planner.web.extensions import login_manager


def member_routine(slug: str, routine_id: int, activity_key: str | None = None) -> Routine:
    """The routine ``routine_id`` of group ``slug`` for the logged-in member, or abort: 404 for
    anyone who may not see a private group (or when the routine is not there or not of
    ``activity_key``), 403 with a reason for a logged-in non-member of a public group.
    Anonymous people are sent to log in."""
    if not current_user.is_authenticated:
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
    return membership.is_member(get_session(), routine.group_id, viewer.id)
