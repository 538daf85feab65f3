"""State an activity type keeps per routine, in ``Routine.details`` under its ``state_keys``
(the meals host rotation), written under a row lock so two members clicking at once never
overwrite each other. Plugins reach it as :func:`planner.api.update_details`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from planner.db import get_session, immediate
from planner.models import Routine, bump_group_version


def update_details(
    routine: Any, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Apply ``change`` (old details -> new details) to the routine's stored JSON under a lock,
    commit, and mark the group's feeds as changed. Returns the new details.

    ``change`` receives a copy and runs on the freshly locked row, so a concurrent update is
    never lost; keep it quick and free of I/O.
    """
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
