"""Last time, next time: after a date, those who came may add one short "good thing" (up to
280 characters); the next date's page and reminder show one or two of them ("Last time: Olga's
lentil soup"). Authors delete their own; organizers hide one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.belonging.past import PastDate
from planner.models import GoodThing, Routine, bump_group_version, utcnow
from planner.scheduling import recurrence

MAX_LENGTH = 280
SHOWN = 2


class GoodThingError(ValueError):
    """Why a good thing cannot be added; ``str()`` is for the person."""


def add(
    session: Session, routine: Routine, occurrence: recurrence.Occurrence, user_id: int,
    body: str, came: bool,
) -> GoodThing:
    body = " ".join(body.split())
    if not body:
        raise GoodThingError(gettext("Write the good thing first."))
    if len(body) > MAX_LENGTH:
        raise GoodThingError(ngettext("Keep it under %(num)d character.",
                                      "Keep it under %(num)d characters.", MAX_LENGTH))
    if not came:
        raise GoodThingError(gettext("Only people who came can add a good thing."))
    row = GoodThing(routine_id=routine.id, original_start=occurrence.original_start,
                    user_id=user_id, body=body, created_at=utcnow())
    session.add(row)
    bump_group_version(session, routine.group_id)
    return row


def of_date(session: Session, routine_id: int, original_start: datetime,
            include_hidden: bool = False) -> list[GoodThing]:
    query = select(GoodThing).where(GoodThing.routine_id == routine_id,
                                    GoodThing.original_start == original_start)
    if not include_hidden:
        query = query.where(GoodThing.hidden_at.is_(None))
    return list(session.scalars(query.order_by(GoodThing.id)))


def last_time(session: Session, routine: Routine, before: datetime,
              dates: list[PastDate]) -> list[GoodThing]:
    """One or two good things from the routine's latest past date before ``before`` (aware)."""
    previous = [d for d in dates if d.routine.id == routine.id and d.occurrence.start < before]
    if not previous:
        return []
    latest = previous[-1]
    return of_date(session, routine.id, latest.occurrence.original_start)[:SHOWN]


def shown_for(
    session: Session, keys: Iterable[tuple[int, datetime]]
) -> dict[tuple[int, datetime], list[str]]:
    """The first :data:`SHOWN` visible good things of each date, oldest first, in one
    statement for any number of dates (the reminder's "Last time: ...")."""
    wanted = set(keys)
    if not wanted:
        return {}
    found: dict[tuple[int, datetime], list[str]] = {}
    rows = session.execute(
        select(GoodThing.routine_id, GoodThing.original_start, GoodThing.body)
        .where(GoodThing.routine_id.in_({rid for rid, _ in wanted}),
               GoodThing.original_start.in_({start for _, start in wanted}),
               GoodThing.hidden_at.is_(None))
        .order_by(GoodThing.id)
    )  # fmt: skip
    for routine_id, start, body in rows:
        shown = found.setdefault((routine_id, start), [])
        if (routine_id, start) in wanted and len(shown) < SHOWN:
            shown.append(body)
    return {key: bodies for key, bodies in found.items() if key in wanted}


def hide(session: Session, row: GoodThing, routine: Routine) -> None:
    row.hidden_at = utcnow()
    bump_group_version(session, routine.group_id)


def delete(session: Session, row: GoodThing, routine: Routine) -> None:
    session.delete(row)
    bump_group_version(session, routine.group_id)
