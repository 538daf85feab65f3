"""Deleting an account, seen from the waitlist: the places it held go to the next in line.

The cascade removes the person's answers and regular spots in one statement; the attendance of
every occurrence they were on is derived before and after inside the same transaction, so the
promoted people's mails are queued with the deletion (and plugins hear ``rsvp_changed`` after).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import clock
from planner.accounts import people
from planner.joining.answers import Change, _diff, _upcoming_keys, notify_changes
from planner.joining.attendance import KeyT, attendance_for
from planner.joining.promotions import queue_promotions
from planner.models import Regular, Routine, Rsvp, User


def _keys(db: Session, user: User, now: datetime) -> list[KeyT]:
    # Answers a day back still cover every zone's "today"; older ones cannot promote anyone.
    since = now.replace(tzinfo=None) - timedelta(days=1)
    answered = db.execute(
        select(Rsvp.routine_id, Rsvp.original_start).where(
            Rsvp.user_id == user.id, Rsvp.original_start >= since
        )
    )
    keys: set[KeyT] = {(row[0], row[1]) for row in answered}
    regular_of = select(Regular.routine_id).where(Regular.user_id == user.id)
    for routine in db.scalars(select(Routine).where(Routine.id.in_(regular_of))):
        keys.update((routine.id, k) for k in _upcoming_keys(routine, now))
    return sorted(keys)


def delete_account(db: Session, user: User, now: datetime | None = None) -> None:
    """:func:`planner.accounts.people.delete_account`, plus the promotions it causes."""
    now = now or clock.now()
    keys = _keys(db, user, now)
    before = attendance_for(db, keys)
    gone = user.id
    people.delete_account(db, user, commit=False)
    db.flush()
    db.expire_all()
    after = attendance_for(db, keys)
    by_routine: dict[int, list[Change]] = {}
    for key, old in before.items():
        if key in after:
            for change in _diff(old, after[key], None, False):
                if change.user_id != gone:
                    by_routine.setdefault(key[0], []).append(change)
    routines = {r.id: r for r in db.scalars(select(Routine).where(Routine.id.in_(by_routine)))}
    for routine_id, changes in by_routine.items():
        queue_promotions(db, routines[routine_id], changes)
    db.commit()
    for routine_id, changes in by_routine.items():
        notify_changes(db, routines[routine_id], changes)
