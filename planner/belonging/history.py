"""Shared history: "You've shared 8 Thursday suppers with Sam since March" on a member's page,
and on your own: "You've been to 14 Thursday suppers this year", with your longest run.

Counts come from :mod:`planner.belonging.past` (confirmed presence, else "going"). A member who
hid themselves from history appears in nobody else's counts, and sees a note on their own page
saying so. These are per-person figures: they are shown only to that person and, for a pair,
to either of the two, never as a ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.belonging.hosts import HOST_LABEL
from planner.belonging.past import PastDate
from planner.models import Claim, Slot
from planner.plugins.activity import HistoryDate


@dataclass(frozen=True)
class Shared:
    routine_title: str
    count: int
    since: datetime  # aware: the first shared date in the window


@dataclass(frozen=True)
class Own:
    routine_title: str
    this_year: int
    in_window: int
    longest_run: int  # the most dates of this routine in a row the person came to
    confirmed: bool  # False when any counted date was read off "going"


def shared_with(dates: list[PastDate], me: int, other: int) -> list[Shared]:
    """Per routine, the dates both ``me`` and ``other`` came to (most first)."""
    found: dict[int, list[PastDate]] = {}
    for d in dates:
        if me in d.came and other in d.came:
            found.setdefault(d.routine.id, []).append(d)
    rows = [
        Shared(routine_title=ds[0].routine.title, count=len(ds), since=ds[0].occurrence.start)
        for ds in found.values()
    ]
    return sorted(rows, key=lambda s: (-s.count, s.routine_title))


def own(dates: list[PastDate], me: int, now: datetime, joined: datetime | None = None) -> list[Own]:
    """Per routine the person went to: this year's count, the window's and the longest run.

    A run counts consecutive dates of one routine (cancelled ones never happened, so they do
    not break it); dates before the person joined are not theirs to miss."""
    by_routine: dict[int, list[PastDate]] = {}
    for d in dates:
        if joined is not None and d.occurrence.start < joined:
            continue
        by_routine.setdefault(d.routine.id, []).append(d)
    rows: list[Own] = []
    for ds in by_routine.values():
        mine = [d for d in ds if me in d.came]
        if not mine:
            continue
        longest = run = 0
        for d in ds:
            run = run + 1 if me in d.came else 0
            longest = max(longest, run)
        rows.append(Own(
            routine_title=ds[0].routine.title,
            this_year=sum(1 for d in mine if d.occurrence.start.year == now.year),
            in_window=len(mine),
            longest_run=longest,
            confirmed=all(d.confirmed for d in mine),
        ))
    return sorted(rows, key=lambda o: (-o.in_window, o.routine_title))


def type_lines(
    session: Session, dates: list[PastDate], person_id: int | None, other_id: int | None = None
) -> list[str]:
    """What each routine's activity type adds (``ActivityType.history_lines``): one statement
    for the "Host" slot holders of all the dates, then pure per-type code."""
    from flask import current_app

    plugins = current_app.extensions["planner"]
    dates = [d for d in dates if plugins.adds_history(d.routine)]
    if not dates:
        return []
    hosts = _hosts(session, dates)
    by_routine: dict[int, list[PastDate]] = {}
    for d in dates:
        by_routine.setdefault(d.routine.id, []).append(d)
    lines: list[str] = []
    for routine_dates in by_routine.values():
        routine = routine_dates[0].routine
        ctx = plugins.history_context(
            routine,
            dates=tuple(HistoryDate(d.occurrence, d.came, hosts.get(d.key)) for d in routine_dates),
            person_id=person_id, other_id=other_id,
        )
        lines.extend(plugins.history_lines(ctx))
    return lines


def _hosts(session: Session, dates: list[PastDate]) -> dict[tuple[int, datetime], int]:
    rows = session.execute(
        select(Slot.routine_id, Claim.original_start, Claim.user_id)
        .join(Claim, Claim.slot_id == Slot.id)
        .where(Slot.routine_id.in_({d.routine.id for d in dates}),
               func.lower(Slot.label) == HOST_LABEL)
        .order_by(Claim.id)
    )
    found: dict[tuple[int, datetime], int] = {}
    for routine_id, original_start, user_id in rows:
        found.setdefault((routine_id, original_start), user_id)
    return found
