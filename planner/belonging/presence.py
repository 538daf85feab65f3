"""Who came: each person says "I was there" or "couldn't make it" after a date, or the host or
an organizer confirms the list for everyone in one step.

Members see only how many came; the list of who did not is for organizers, and no page shows
members a list of no-shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner.joining.attendance import GOING, attendance_of
from planner.models import Presence, Routine, bump_group_version, utcnow
from planner.scheduling import recurrence


class PresenceError(ValueError):
    """Why presence cannot be said now; ``str()`` is for the person."""


@dataclass(frozen=True)
class WhoCame:
    """One past date's presence as a page shows it."""

    came: int  # how many came (all members may see this)
    confirmed: bool  # someone said or confirmed it (else the count is of those going)
    mine: bool | None  # what the viewer said; None: not said
    ask: bool  # ask the viewer "Were you there?"
    missing: tuple[int, ...] = ()  # who was going and did not come: organizers only


def _check_over(occurrence: recurrence.Occurrence, now: datetime) -> None:
    if occurrence.is_cancelled:
        raise PresenceError(gettext("This date was cancelled."))
    if occurrence.end > now:
        raise PresenceError(gettext("You can say who came once the date is over."))


def _upsert(session: Session, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Presence).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["routine_id", "original_start", "user_id"],
        set_={"came": statement.excluded.came,
              "confirmed_by_id": statement.excluded.confirmed_by_id,
              "updated_at": statement.excluded.updated_at},
    ))


def say(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, user_id: int,
    came: bool, now: datetime,
) -> None:
    """The person's own "I was there" / "couldn't make it" (caller commits)."""
    _check_over(occurrence, now)
    stamp = utcnow()
    _upsert(session, [dict(routine_id=routine.id, original_start=occurrence.original_start,
                           user_id=user_id, came=came, confirmed_by_id=None, created_at=stamp,
                           updated_at=stamp)])
    bump_group_version(session, routine.group_id)


def confirm(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, by: int,
    came: Iterable[int], now: datetime,
) -> int:
    """The host's or an organizer's list: everyone who was going (and anyone ticked) is marked
    came or not, in one step; people who said it themselves keep their own word. Returns how
    many came."""
    _check_over(occurrence, now)
    key = occurrence.original_start
    present = set(came)
    going = {p.user_id for p in attendance_of(session, routine.id, key).going}
    own = set(session.scalars(select(Presence.user_id).where(
        Presence.routine_id == routine.id, Presence.original_start == key,
        Presence.confirmed_by_id.is_(None))))
    stamp = utcnow()
    _upsert(session, [
        dict(routine_id=routine.id, original_start=key, user_id=u, came=u in present,
             confirmed_by_id=by, created_at=stamp, updated_at=stamp)
        for u in sorted((going | present) - own)
    ])
    bump_group_version(session, routine.group_id)
    return len(list(session.scalars(select(Presence.id).where(
        Presence.routine_id == routine.id, Presence.original_start == key, Presence.came))))


def who_came(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, viewer_id: int | None,
    now: datetime, organizer: bool = False,
) -> WhoCame | None:
    """What the date's page shows about presence; None before the date is over."""
    if occurrence.is_cancelled or occurrence.end > now:
        return None
    key = occurrence.original_start
    rows = {r.user_id: r.came for r in session.execute(
        select(Presence.user_id, Presence.came).where(
            Presence.routine_id == routine.id, Presence.original_start == key))}
    going = {p.user_id for p in attendance_of(session, routine.id, key).going}
    if rows:
        came = {u for u, yes in rows.items() if yes}
        confirmed = True
    else:
        came, confirmed = going, False
    mine = rows.get(viewer_id) if viewer_id is not None else None
    ask = viewer_id is not None and viewer_id in going and viewer_id not in rows
    missing = tuple(sorted(going - came)) if organizer and confirmed else ()
    return WhoCame(came=len(came), confirmed=confirmed, mine=mine, ask=ask, missing=missing)


def said_for(
    session: Session, keys: Iterable[tuple[int, datetime]]
) -> set[tuple[int, datetime, int]]:
    """``(routine_id, original_start, user_id)`` of everyone whose presence is known for these
    dates (said or confirmed), in one statement: the reminder asks "Were you there?" only of
    those it lacks."""
    wanted = set(keys)
    if not wanted:
        return set()
    rows = session.execute(
        select(Presence.routine_id, Presence.original_start, Presence.user_id).where(
            Presence.routine_id.in_({rid for rid, _ in wanted}),
            Presence.original_start.in_({start for _, start in wanted}),
        )
    )
    return {(r, s, u) for r, s, u in rows if (r, s) in wanted}


def forget(session: Session, user_id: int, group_routine_ids: Iterable[int]) -> int:
    """Delete the person's own presence history in a group; how many rows went."""
    ids = list(group_routine_ids)
    if not ids:
        return 0
    result = session.execute(delete(Presence).where(
        Presence.user_id == user_id, Presence.routine_id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["GOING", "PresenceError", "WhoCame", "confirm", "forget", "said_for", "say", "who_came"]
