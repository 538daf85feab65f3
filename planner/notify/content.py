"""What an activity type adds to a reminder or notice (meals: who hosts, what's missing)."""

from __future__ import annotations

from flask import current_app

from planner.joining.attendance import Attendance
from planner.models import Routine, User
from planner.scheduling.recurrence import Occurrence


def type_lines(
    kind: str,
    occurrence: Occurrence,
    routine: Routine,
    recipient: User | None,
    attendance: Attendance | None,
) -> list[str]:
    """Plain-text lines the routine's activity type adds to mail of ``kind`` ("reminder",
    "ask", "notice", ...), isolated so that a failing plugin costs its lines, not the mail."""
    plugins = current_app.extensions.get("planner")
    if plugins is None:
        return []
    lines: list[str] = plugins.mail_lines(kind, occurrence, routine, recipient, attendance)
    return lines

