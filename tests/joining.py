"""Helpers shared by tests that need a routine: joining in (RSVPs, waitlist, slots, comments,
dashboard), occurrence pages and routine editing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from planner.models import Group, Routine, Slot
from planner.scheduling.recurrence import format_key


def next_week_start(days: int = 7, hour: int = 19, tz: str = "Europe/Berlin") -> datetime:
    """A naive local wall-clock start ``days`` from now at ``hour``:00, always in the future."""
    local = datetime.now(ZoneInfo(tz)) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)


def make_routine(
    session: Session,
    group: Group,
    *,
    title: str = "Thursday supper",
    capacity: int | None = None,
    max_guests: int = 0,
    start: datetime | None = None,
    rrule: str = "FREQ=WEEKLY",
    slots: tuple[tuple[str, int], ...] = (),
    **fields: Any,
) -> Routine:
    """A committed weekly routine of ``group``; ``fields`` sets any other column
    (``location``, ``created_by_id``, ...)."""
    routine = Routine(
        group_id=group.id,
        activity_key="gathering",
        title=title,
        timezone=group.timezone,
        start=start or next_week_start(),
        duration_minutes=120,
        rrule=rrule,
        capacity=capacity,
        max_guests=max_guests,
        details={},
        **fields,
    )
    session.add(routine)
    session.flush()
    for position, (label, size) in enumerate(slots):
        session.add(Slot(routine_id=routine.id, label=label, capacity=size, position=position))
    session.commit()
    return routine


def key_of(routine: Routine, weeks: int = 0) -> str:
    return format_key(routine.start + timedelta(weeks=weeks))


def answer_path(group: Group, routine: Routine, key: str) -> str:
    return f"/g/{group.slug}/r/{routine.id}/{key}/answer"


def occurrence_path(group: Group, routine: Routine, key: str) -> str:
    return f"/g/{group.slug}/r/{routine.id}/{key}"


def flashes(client) -> list[tuple[str, str]]:
    """Flash messages waiting in a test client's session (read without consuming a page)."""
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def last_flash(client) -> str:
    messages = flashes(client)
    return messages[-1][1] if messages else ""
