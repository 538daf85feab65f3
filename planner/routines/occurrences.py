"""Database-facing occurrence queries: routines and their overrides in, occurrences out.

An occurrence is not a row; it is computed from its routine and overrides by
:mod:`planner.scheduling.recurrence`. Every page loads what it needs here in a fixed number of
statements (one for the routines, one for their overrides), whether a group has one routine or
fifty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import abort, current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from planner import clock
from planner.joining.attendance import attendance_for
from planner.models import (
    OVERRIDE_COLUMNS,
    Claim,
    Comment,
    Group,
    Override,
    Regular,
    Routine,
    Rsvp,
    Slot,
    User,
)
from planner.scheduling import recurrence
from planner.scheduling.series import ZONE_MARGIN, series_of


def utc_now() -> datetime:
    """The app's now (:mod:`planner.clock`), so pages and answers agree on what is past."""
    return clock.now()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def load_routines(
    session: Session, group_id: int, since: datetime | None = None
) -> list[Routine]:
    """A group's routines with their overrides in two statements.

    With ``since`` (aware), overrides that can no longer matter for occurrences from then on
    (both the original and the new start long past) are not loaded, so an old group's history
    does not weigh on its front page.
    """
    overrides: Any = Routine.overrides
    if since is not None:
        floor = _naive_utc(since) - ZONE_MARGIN
        overrides = Routine.overrides.and_(
            or_(Override.original_start >= floor, Override.start >= floor)
        )
    statement = (
        select(Routine)
        .where(Routine.group_id == group_id)
        .options(selectinload(overrides))
        .order_by(Routine.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(statement))




def routines_in_window(
    session: Session, group_ids: list[int], start: datetime, end: datetime
) -> tuple[list[Routine], dict[int, list[Any]]]:
    """The groups' routines, and as plain rows only the overrides that can touch ``[start, end)``:
    those whose original or new start lies in it (widened by a day each side for zones and
    durations). Two statements; a page of a busy group builds no ORM object per override.
    """
    routines = list(
        session.scalars(
            select(Routine)
            .where(Routine.group_id.in_(group_ids))
            .order_by(Routine.id)
            .execution_options(populate_existing=True)
        )
    )
    by_routine: dict[int, list[Any]] = {r.id: [] for r in routines}
    if not routines:
        return routines, by_routine
    floor = _naive_utc(start) - ZONE_MARGIN
    ceiling = _naive_utc(end) + ZONE_MARGIN
    rows = session.execute(
        select(*OVERRIDE_COLUMNS)
        .where(Override.routine_id.in_(list(by_routine)))
        .where(
            or_(
                Override.original_start.between(floor, ceiling),
                Override.start.between(floor, ceiling),
            )
        )
        .order_by(Override.routine_id, Override.original_start)
    )
    for row in rows:
        by_routine[row.routine_id].append(row)
    return routines, by_routine


class HasId(Protocol):
    """A group as a page or a feed poll holds it: a model row or a light ``GroupRow``."""

    @property
    def id(self) -> int: ...


def load_routine(session: Session, group: HasId, routine_id: int) -> Routine:
    """One routine of ``group`` with all its overrides, or 404.

    One statement (the overrides joined in) built once: every answer and occurrence page
    starts here, and a second round trip and the statement's construction were a good part
    of an answer's CPU."""
    routine = (
        session.scalars(
            _ROUTINE_WITH_OVERRIDES, {"routine_id": routine_id, "group_id": group.id}
        )
        .unique()
        .one_or_none()
    )
    if routine is None:
        abort(404)
    return routine


_ROUTINE_WITH_OVERRIDES = (
    select(Routine)
    .where(Routine.id == bindparam("routine_id"), Routine.group_id == bindparam("group_id"))
    .options(joinedload(Routine.overrides))
    .execution_options(populate_existing=True)
)


def parse_key_or_404(key: str) -> datetime:
    try:
        return recurrence.parse_key(key)
    except (ValueError, recurrence.RecurrenceError):
        abort(404)


def occurrence_or_404(routine: Routine, key: str) -> recurrence.Occurrence:
    """The occurrence of ``routine`` whose URL key is ``key``; 404 when it is malformed or the
    series never produces it (an old link to a time that was changed away)."""
    original_start = parse_key_or_404(key)
    try:
        occurrence = recurrence.occurrence_at(series_of(routine), original_start)
    except recurrence.RecurrenceError:
        occurrence = None
    if occurrence is None:
        abort(404)
    return occurrence


@dataclass(frozen=True)
class Upcoming:
    """One occurrence as a list shows it: everything a template needs, no lazy loading."""

    routine: Routine
    occurrence: recurrence.Occurrence
    group_slug: str
    group_timezone: str
    activity: Any = None
    attendance: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.occurrence.key

    @property
    def title(self) -> str:
        return self.occurrence.title or self.routine.title

    @property
    def location(self) -> str:
        return self.occurrence.location or self.routine.location

    @property
    def start(self) -> datetime:
        return self.occurrence.start

    @property
    def end(self) -> datetime:
        return self.occurrence.end

    @property
    def status(self) -> str:
        return self.occurrence.status


def expand_routines(
    routines: list[Routine],
    start: datetime,
    end: datetime,
    overrides: dict[int, list[Any]] | None = None,
) -> list[tuple[Routine, recurrence.Occurrence]]:
    """All occurrences of ``routines`` in ``[start, end)``, in start order. A routine whose
    stored rule no longer expands (edited by hand in the database) is skipped, not a 500.
    ``overrides``: rows by routine id (see :func:`routines_in_window`); None reads
    each routine's loaded ``overrides``."""
    pairs: list[tuple[Routine, recurrence.Occurrence]] = []
    for routine in routines:
        rows = None if overrides is None else overrides.get(routine.id, [])
        try:
            occurrences = recurrence.expand(series_of(routine, overrides=rows), start, end)
        except recurrence.RecurrenceError:
            continue
        pairs.extend((routine, occurrence) for occurrence in occurrences)
    pairs.sort(key=lambda p: (p[1].start, p[0].title.lower(), p[0].id))
    return pairs


def group_upcoming(
    session: Session,
    group: Group,
    viewer: User | None,
    now: datetime | None = None,
    days: int = 28,
    limit: int | None = None,
) -> list[Upcoming]:
    """Upcoming occurrences of all the group's routines, in start order, in a fixed number of
    queries (never one per routine): :class:`Upcoming` items, with attendance when the
    joining-in module provides it."""
    now = now or utc_now()
    end = now + timedelta(days=days)
    routines, overrides = routines_in_window(session, [group.id], now, end)
    pairs = expand_routines(routines, now, end, overrides)
    if limit is not None:
        pairs = pairs[:limit]
    attendance = attendance_for(
        session, [(routine.id, occ.original_start) for routine, occ in pairs]
    ) if pairs else {}
    return upcoming_items(group, pairs, attendance)


def upcoming_items(
    group: Group,
    pairs: list[tuple[Routine, recurrence.Occurrence]],
    attendance: dict[tuple[int, datetime], Any],
) -> list[Upcoming]:
    """:class:`Upcoming` items of ``pairs`` (from :func:`expand_routines`), each with its
    attendance from ``attendance`` (keyed as :func:`attendance_for` keys it)."""
    plugins = current_app.extensions["planner"]
    return [
        Upcoming(
            routine=routine,
            occurrence=occ,
            group_slug=group.slug,
            group_timezone=group.timezone,
            activity=plugins.activity(routine.activity_key),
            attendance=attendance.get((routine.id, occ.original_start)),
        )
        for routine, occ in pairs
    ]


def routine_occurrences(
    routine: Routine, now: datetime | None = None, future: int = 10, past_days: int = 90,
    past: int = 10,
) -> tuple[list[recurrence.Occurrence], list[recurrence.Occurrence]]:
    """``(next, past)`` occurrences of one routine for its page: the next ``future`` from now,
    and the latest ``past`` within ``past_days``, newest first. Pure computation."""
    now = now or utc_now()
    series = series_of(routine)
    try:
        upcoming = recurrence.next_occurrences(series, now, future)
        earlier = recurrence.expand(series, now - timedelta(days=past_days), now)
    except recurrence.RecurrenceError:
        return [], []
    upcoming_keys = {o.original_start for o in upcoming}
    earlier = [o for o in earlier if o.original_start not in upcoming_keys]
    return upcoming, list(reversed(earlier))[:past]


# --------------------------------------------------------------------------- splitting a series


def carry_key(
    series: recurrence.Series, original_start: datetime, taken: set[datetime]
) -> datetime | None:
    """Where an occurrence of the old series lives in the new one, or None when it is gone.

    The same local time if the new series produces it; otherwise the new series' single
    occurrence on the same local day (19:00 moved to 19:30 keeps Thursday's answers), so
    members' answers follow the occurrence they meant.
    """
    if original_start not in taken and recurrence.produces(series, original_start):
        return original_start
    day = original_start.replace(hour=0, minute=0, second=0, microsecond=0)
    lo = recurrence.localize(day, series.timezone)
    hi = recurrence.localize(day + timedelta(days=1), series.timezone)
    same_day = [
        o.original_start
        for o in recurrence.expand(series, lo, hi)
        if o.original_start.date() == original_start.date()
    ]
    if len(same_day) == 1 and same_day[0] not in taken:
        return same_day[0]
    return None


def carry_over(
    session: Session, old: Routine, new: Routine, at: datetime
) -> dict[datetime, datetime]:
    """Move what hangs off the old series' occurrences from ``at`` on to the new series.

    Overrides, RSVPs, comments and slot claims of later occurrences that still exist move
    (re-keyed when the time of day changed); overrides of occurrences that no longer exist are
    deleted. Slots and regulars are copied, so the new series starts with the same sign-up
    slots and the same regular members. Returns ``{old_key: new_key}`` for the keys moved.
    """
    series = series_of(new, overrides=[])
    old_slots = list(old.slots)
    slot_map: dict[int, int] = {}
    for slot in old_slots:
        copy = Slot(
            routine_id=new.id, label=slot.label, capacity=slot.capacity, position=slot.position
        )
        session.add(copy)
        session.flush()
        slot_map[slot.id] = copy.id
    for user_id in session.scalars(select(Regular.user_id).where(Regular.routine_id == old.id)):
        session.add(Regular(routine_id=new.id, user_id=user_id))

    keys: set[datetime] = {o.original_start for o in old.overrides if o.original_start >= at}
    for column, where in (
        (Rsvp.original_start, Rsvp.routine_id == old.id),
        (Comment.original_start, Comment.routine_id == old.id),
    ):
        keys.update(session.scalars(select(column).where(where, column >= at).distinct()))
    if slot_map:
        keys.update(
            session.scalars(
                select(Claim.original_start)
                .where(Claim.slot_id.in_(slot_map), Claim.original_start >= at)
                .distinct()
            )
        )
    mapping: dict[datetime, datetime] = {}
    taken: set[datetime] = set()
    for key in sorted(keys):
        target = carry_key(series, key, taken)
        if target is not None:
            mapping[key] = target
            taken.add(target)

    for override in [o for o in old.overrides if o.original_start >= at]:
        target = mapping.get(override.original_start)
        if target is None:
            old.overrides.remove(override)
            session.delete(override)
            continue
        override.original_start = target
        override.routine = new  # leaves old.overrides through the back-reference
    session.flush()
    for key, target in mapping.items():
        session.execute(
            update(Rsvp)
            .where(Rsvp.routine_id == old.id, Rsvp.original_start == key)
            .values(routine_id=new.id, original_start=target)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Comment)
            .where(Comment.routine_id == old.id, Comment.original_start == key)
            .values(routine_id=new.id, original_start=target)
            .execution_options(synchronize_session=False)
        )
        for old_slot, new_slot in slot_map.items():
            session.execute(
                update(Claim)
                .where(Claim.slot_id == old_slot, Claim.original_start == key)
                .values(slot_id=new_slot, original_start=target)
                .execution_options(synchronize_session=False)
            )
    return mapping
