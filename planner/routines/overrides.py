"""The organizers' exceptions to one occurrence: cancel it, restore it, change it.

Each is an :class:`planner.models.Override` row keyed by the occurrence's original start, added
or dropped both in the session and in ``routine.overrides`` (which the page and the feed read
next in the same request). An override that says nothing the series does not already say is
deleted rather than kept, so "restored" really is the series again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from planner.enums import OverrideStatus
from planner.models import Override, Routine
from planner.routines.saving import publish
from planner.scheduling import recurrence

RESTORED = "restored"


@dataclass(frozen=True)
class OccurrenceChange:
    """What the organizer typed for one occurrence, before comparing with the series."""

    start: datetime  # naive local
    duration_minutes: int
    location: str
    title: str
    note: str | None


def override_of(routine: Routine, occurrence: recurrence.Occurrence) -> Override | None:
    return next(
        (o for o in routine.overrides if o.original_start == occurrence.original_start), None
    )


def _override_for(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence
) -> Override:
    override = override_of(routine, occurrence)
    if override is None:
        override = Override(routine_id=routine.id, original_start=occurrence.original_start)
        session.add(override)
        routine.overrides.append(override)
    return override


def _drop(session: Session, routine: Routine, override: Override) -> None:
    routine.overrides.remove(override)
    session.delete(override)


def _has_changes(override: Override) -> bool:
    return any(
        value is not None
        for value in (override.start, override.duration_minutes, override.location, override.title)
    )


def _announce(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    change: str,
    override: Override | None,
) -> None:
    publish(
        session,
        routine,
        "occurrence_changed",
        override=override,
        original_start=occurrence.original_start,
        change=change,
    )


def cancel_occurrence(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, reason: str | None
) -> None:
    override = _override_for(session, routine, occurrence)
    override.status = OverrideStatus.CANCELLED
    override.note = reason or None
    _announce(session, routine, occurrence, OverrideStatus.CANCELLED, override)


def restore_occurrence(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence
) -> bool:
    """Undo a cancellation; False (nothing changed) when the occurrence is not cancelled. A
    restored occurrence keeps its other changes (a new time stays)."""
    override = override_of(routine, occurrence)
    if override is None or override.status != OverrideStatus.CANCELLED:
        return False
    if _has_changes(override):
        override.status = OverrideStatus.CHANGED
        override.note = None
        _announce(session, routine, occurrence, RESTORED, override)
    else:
        _drop(session, routine, override)
        _announce(session, routine, occurrence, RESTORED, None)
    return True


def change_occurrence(
    session: Session,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    change: OccurrenceChange,
) -> None:
    """Store only what differs from the series; a change back to exactly what the series says
    drops the override and counts as restored."""
    values: dict[str, object] = {
        "start": None if change.start == occurrence.original_start else change.start,
        "duration_minutes": (
            None if change.duration_minutes == routine.duration_minutes
            else change.duration_minutes
        ),
        "location": None if change.location == routine.location else change.location,
        "title": None if change.title == routine.title else change.title,
        "note": change.note or None,
    }
    override = override_of(routine, occurrence)
    if all(v is None for v in values.values()):
        if override is not None:
            _drop(session, routine, override)
        _announce(session, routine, occurrence, RESTORED, None)
        return
    override = _override_for(session, routine, occurrence)
    override.status = OverrideStatus.CHANGED
    for name, value in values.items():
        setattr(override, name, value)
    _announce(session, routine, occurrence, OverrideStatus.CHANGED, override)
