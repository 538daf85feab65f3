"""Who hosts a date: the one rule the reminder ("Olga is hosting"), the newcomer's welcome and
the who-came page (the host may confirm for everyone) all follow, so they never disagree.

The holder of the date's "Host" slot, else whom the routine's activity type names
(:meth:`~planner.plugins.activity.ActivityType.host`: the meals rotation's turn).
"""

from __future__ import annotations

from flask import current_app

from planner.joining.attendance import Attendance
from planner.models import Routine
from planner.scheduling.recurrence import Occurrence

#: The slot whose holder is a date's host, by its label (the meals type's default slot).
HOST_LABEL = "host"


def is_host_slot(label: str) -> bool:
    return label.strip().lower() == HOST_LABEL


def date_host(
    routine: Routine, occurrence: Occurrence, attendance: Attendance | None
) -> tuple[int, str] | None:
    """``(user_id, name)`` of the date's host, or None when nobody hosts it."""
    if attendance is not None:
        for slot in attendance.slots:
            if is_host_slot(slot.label) and slot.takers:
                return slot.takers[0].user_id, slot.takers[0].display_name
    plugins = current_app.extensions.get("planner")
    found: tuple[int, str] | None = (
        plugins.host_of(occurrence, routine, attendance) if plugins is not None else None
    )
    return found
