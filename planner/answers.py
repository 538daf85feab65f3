"""RSVPs, regulars, capacity and waitlist.

CONTRACT STUB (implemented by the joining-in work): the dataclasses and signatures are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Person:
    user_id: int
    display_name: str
    guests: int = 0
    regular: bool = False  # going by default as a regular, without an explicit answer


@dataclass(frozen=True)
class ClaimInfo:
    slot_id: int
    label: str
    capacity: int
    takers: tuple[Person, ...] = ()


@dataclass(frozen=True)
class Attendance:
    """Who answered what for one occurrence; what plugins receive (never database rows)."""

    routine_id: int
    original_start: datetime
    capacity: int | None = None
    going: tuple[Person, ...] = ()  # within capacity, in arrival order
    waitlisted: tuple[Person, ...] = ()  # beyond capacity, in arrival order
    maybe: tuple[Person, ...] = ()
    declined: tuple[Person, ...] = ()
    slots: tuple[ClaimInfo, ...] = field(default=())

    @property
    def going_count(self) -> int:
        """Places taken: people going plus their guests."""
        return sum(1 + p.guests for p in self.going)


def occurrence_context(session: Session, routine, occurrence, viewer) -> dict:
    """Extra template context for the occurrence page (who's coming, the viewer's answer,
    slots, comments) in a fixed number of queries. Always includes ``attendance``."""
    return {"attendance": Attendance(routine.id, occurrence.original_start, routine.capacity)}


def attendance_for(session: Session, keys: list[tuple[int, datetime]]) -> dict:
    """``{(routine_id, original_start): Attendance}`` for many occurrences in O(1) queries."""
    return {}
