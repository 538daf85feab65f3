"""Small builders shared by the feed tests: routines and overrides written straight to the
database (the routine forms are tested elsewhere), and the feed fetched through the app."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from planner.models import Group, Override, Routine, bump_group_version


def next_local(zone: str = "Europe/Berlin", days: int = 7, hour: int = 19) -> datetime:
    """A naive local time ``days`` from today at ``hour``: inside every feed window."""
    today = datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    return (today + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def add_routine(db, group: Group, **fields) -> Routine:
    values = {
        "title": "Thursday supper",
        "timezone": group.timezone,
        "start": next_local(group.timezone),
        "duration_minutes": 120,
        "rrule": "FREQ=WEEKLY",
        "activity_key": "gathering",
    }
    values.update(fields)
    routine = Routine(group_id=group.id, **values)
    db.add(routine)
    db.flush()
    bump_group_version(db, group.id)
    db.commit()
    return routine


def add_override(db, routine: Routine, original_start: datetime, status: str, **fields):
    override = Override(
        routine_id=routine.id, original_start=original_start, status=status, **fields
    )
    db.add(override)
    db.flush()
    bump_group_version(db, routine.group_id)
    db.commit()
    return override


def calendar_of(response) -> Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return Calendar.from_ical(response.data)


def events_of(response):
    return calendar_of(response).walk("VEVENT")
