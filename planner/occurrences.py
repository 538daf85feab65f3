"""CONTRACT STUB: database-facing occurrence queries (implemented by the routines work)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .models import Group, User


def group_upcoming(
    session: Session,
    group: Group,
    viewer: User | None,
    now: datetime | None = None,
    days: int = 28,
    limit: int | None = None,
) -> list:
    """Upcoming occurrences of all the group's routines, in start order, in a fixed number of
    queries (never one per routine)."""
    return []
