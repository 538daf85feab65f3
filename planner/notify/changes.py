"""Recording what changed, so people hear of it once it has been quiet for a few minutes.

The web views call these just before the domain write commits (the row is in the same
transaction as the change: a change that rolls back leaves no notice). Each writes or refreshes
one :class:`~planner.models.PendingNotice` per (date, kind): the first edit stores ``before``,
the state people last heard of, and every later edit within the quiet time only moves
``due_at`` on, so five quick edits send one notice with the final state beside the first. The
flush (:mod:`planner.notify.notices`) compares ``before`` with what the date is by then.

Routines may not import this room, which is why the calls live in the views (and, for a lowered
capacity, in the callback :func:`planner.routines.saving.save_routine` runs under its lock).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner.enums import NoticeKind
from planner.mail.delivery import clock
from planner.models import Comment, PendingNotice, Routine
from planner.scheduling import recurrence
from planner.scheduling.series import series_of
from planner.scheduling.zones import to_local_naive

#: The key of notices about a whole routine rather than one date (it ended; it was edited):
#: the routine's own start moves with an edit, so it cannot key a run of them.
WHOLE_SERIES = datetime(2000, 1, 1)
#: New comments on a date are gathered this long from the first one: one mail an hour at most.
COMMENT_BATCH = timedelta(minutes=60)
#: The kinds about one date's own time, place and status: they share the ``before`` people
#: last heard of (a change then a cancellation within the quiet time is told against the
#: original date, and a cancellation undone within it is told not at all).
DATE_KINDS = (NoticeKind.CANCELLED.value, NoticeKind.CHANGED.value)


class _Change(Protocol):  # planner.joining.answers.Change
    @property
    def original_start(self) -> datetime: ...
    @property
    def user_id(self) -> int: ...
    @property
    def previous(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...


def quiet() -> timedelta:
    return timedelta(minutes=int(current_app.config["NOTICE_QUIET_MINUTES"]))


def date_state(routine: Routine, occurrence: recurrence.Occurrence) -> dict[str, str]:
    """What people know of one date: title, start and end (naive local ISO in ``zone``),
    place and whether it is on."""
    zone = routine.timezone
    return {
        "title": occurrence.title or routine.title,
        "start": to_local_naive(occurrence.start, zone).isoformat(),
        "end": to_local_naive(occurrence.end, zone).isoformat(),
        "zone": zone,
        "location": occurrence.location or routine.location or "",
        "status": "cancelled" if occurrence.is_cancelled else "on",
    }


def series_state(routine: Routine) -> dict[str, str]:
    """What people know of a series: enough to say what changed from a date on."""
    return {
        "title": routine.title,
        "start": routine.start.isoformat(),
        "minutes": str(routine.duration_minutes),
        "zone": routine.timezone,
        "location": routine.location or "",
        "rrule": routine.rrule or "",
    }


def _upsert(
    session: Session,
    *,
    routine_id: int,
    original_start: datetime,
    kind: str,
    before: dict[str, Any],
    detail: dict[str, Any],
    actor_id: int | None,
    due_at: datetime,
    move: bool = True,
) -> None:
    """Insert the row, or (``move``) keep its ``before`` and move ``due_at`` and the detail on;
    ``move=False`` leaves an existing row alone (comments: the first one sets the hour)."""
    values = dict(
        routine_id=routine_id, original_start=original_start, kind=kind, before=before,
        detail=detail, actor_id=actor_id, due_at=due_at, created_at=clock(current_app),
    )
    dialect = session.get_bind().dialect.name
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(PendingNotice).values(
        **values
    )
    keys = ["routine_id", "original_start", "kind"]
    if move:
        statement = insert.on_conflict_do_update(
            index_elements=keys,
            set_={"due_at": insert.excluded.due_at, "detail": insert.excluded.detail,
                  "actor_id": insert.excluded.actor_id},
        )
    else:
        statement = insert.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)


def _pending(
    session: Session, routine_id: int, original_start: datetime, kinds: Iterable[str]
) -> list[PendingNotice]:
    return list(
        session.scalars(
            select(PendingNotice).where(
                PendingNotice.routine_id == routine_id,
                PendingNotice.original_start == original_start,
                PendingNotice.kind.in_(list(kinds)),
            ).order_by(PendingNotice.id)
        )
    )


def date_changed(
    session: Session,
    routine: Routine,
    original_start: datetime,
    *,
    actor_id: int | None,
    kind: str = NoticeKind.CHANGED,
) -> None:
    """Call before a date's change (time, place, title, restore; ``kind`` CANCELLED for a
    cancellation) is written: records what people know of it now, unless a notice of this
    date is already waiting, whose ``before`` is kept."""
    occurrence = recurrence.occurrence_at(series_of(routine), original_start)
    if occurrence is None:
        return
    waiting = _pending(session, routine.id, original_start, DATE_KINDS)
    before = waiting[0].before if waiting else date_state(routine, occurrence)
    _upsert(
        session, routine_id=routine.id, original_start=original_start, kind=str(kind),
        before=before, detail={}, actor_id=actor_id, due_at=clock(current_app) + quiet(),
    )


def cancelled(
    session: Session, routine: Routine, original_start: datetime, *, actor_id: int | None
) -> None:
    """Call before a date is cancelled; the reason is read from the override when it is told."""
    date_changed(session, routine, original_start, actor_id=actor_id,
                 kind=NoticeKind.CANCELLED)


def series_changed(
    session: Session, routine: Routine, at: datetime, *, actor_id: int | None
) -> None:
    """Call before the series is changed from ``at`` on (split into a new routine)."""
    waiting = _pending(session, routine.id, at, [NoticeKind.SERIES.value])
    before = waiting[0].before if waiting else series_state(routine)
    _upsert(
        session, routine_id=routine.id, original_start=at, kind=NoticeKind.SERIES,
        before=before, detail={}, actor_id=actor_id, due_at=clock(current_app) + quiet(),
    )


def series_edited(
    session: Session, routine: Routine, before: dict[str, str], *, actor_id: int | None
) -> None:
    """Inside a whole-routine edit's transaction (``save_routine``'s ``settled`` callback):
    ``before`` is :func:`series_state` taken before the form was applied. Keyed by the
    routine (:data:`WHOLE_SERIES`), so a run of edits is one notice against the first state."""
    waiting = _pending(session, routine.id, WHOLE_SERIES, [NoticeKind.SERIES.value])
    if waiting:
        before = waiting[0].before
    _upsert(
        session, routine_id=routine.id, original_start=WHOLE_SERIES, kind=NoticeKind.SERIES,
        before=before, detail={"edit": True}, actor_id=actor_id,
        due_at=clock(current_app) + quiet(),
    )


def series_ended(
    session: Session, routine: Routine, last_date: date, *, actor_id: int | None
) -> None:
    """Call before the series is made to end on ``last_date``. One row per routine (keyed by
    :data:`WHOLE_SERIES`): ending it on another date within the quiet time tells the last one."""
    waiting = _pending(session, routine.id, WHOLE_SERIES, [NoticeKind.ENDED.value])
    before = waiting[0].before if waiting else series_state(routine)
    _upsert(
        session, routine_id=routine.id, original_start=WHOLE_SERIES, kind=NoticeKind.ENDED,
        before=before, detail={"last": last_date.isoformat()}, actor_id=actor_id,
        due_at=clock(current_app) + quiet(),
    )


def capacity_lowered(
    session: Session, routine: Routine, changes: Iterable[_Change], *, actor_id: int | None
) -> int:
    """Inside the routine edit's transaction (the ``settled`` callback of ``save_routine``):
    a row per date where someone going is now waiting; returns how many dates."""
    moved: dict[datetime, set[int]] = {}
    for change in changes:
        if change.previous == "going" and change.status == "waitlisted":
            moved.setdefault(change.original_start, set()).add(change.user_id)
    for key, people in moved.items():
        waiting = _pending(session, routine.id, key, [NoticeKind.CAPACITY.value])
        earlier = set(waiting[0].detail.get("waiting", [])) if waiting else set()
        _upsert(
            session, routine_id=routine.id, original_start=key, kind=NoticeKind.CAPACITY,
            before={}, detail={"waiting": sorted(earlier | people)}, actor_id=actor_id,
            due_at=clock(current_app) + quiet(),
        )
    return len(moved)


def comment_posted(session: Session, routine_id: int, original_start: datetime) -> None:
    """Call before a new comment is added: the first comment since the last mail starts the
    hour; later ones join it without moving it (at most one mail per date per hour)."""
    last = session.scalar(
        select(func.max(Comment.id)).where(
            Comment.routine_id == routine_id, Comment.original_start == original_start
        )
    )
    _upsert(
        session, routine_id=routine_id, original_start=original_start,
        kind=NoticeKind.COMMENTS, before={}, detail={"after_id": int(last or 0)},
        actor_id=None, due_at=clock(current_app) + COMMENT_BATCH, move=False,
    )
