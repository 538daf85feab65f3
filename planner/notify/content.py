"""What an activity type adds to a reminder or notice (meals: who hosts, what's missing)."""

from __future__ import annotations

from planner.plugins.activity import ActivityContext


def type_lines(ctx: ActivityContext, kind: str) -> list[str]:
    """Plain-text lines the routine's activity type adds to mail of ``kind`` ("reminder",
    "ask", "notice", ...), isolated so that a failing plugin costs its lines, not the mail."""
    return []
