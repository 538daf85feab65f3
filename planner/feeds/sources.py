"""What each feed contains, read from the database: routines, overrides and answers as a
:class:`planner.feeds.model.Feed`.

Every loader runs a fixed number of statements, whatever the number of routines or overrides.
The validators a poll checks first live in :mod:`planner.feeds.poll`; their names are
re-exported here because the feed views have always imported them from this module.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from planner.feeds.model import AttendanceKey, AttendanceLoader, Feed, FeedOccurrence, FeedRoutine
from planner.feeds.poll import (
    FEED_SCHEMA,
    GroupRow,
    UserRow,
    Validators,
    Window,
    group_row,
    group_validators,
    member_groups,
    personal_validators,
    reader,
    schedule_validators,
    token_group_row,
    token_owner_rows,
    window,
)
from planner.joining.attendance import Attendance, attendance_for
from planner.locales import FALLBACK
from planner.models import OVERRIDE_COLUMNS, Group, Override, Regular, Routine, Rsvp, User
from planner.scheduling import recurrence, rules
from planner.scheduling.series import ZONE_MARGIN, series_of

__all__ = [
    "FEED_SCHEMA",
    "Feed",
    "FeedOccurrence",
    "FeedRoutine",
    "GroupRow",
    "UserRow",
    "Validators",
    "Window",
    "group_feed",
    "group_row",
    "group_validators",
    "member_groups",
    "occurrence_feed",
    "personal_feed",
    "personal_validators",
    "reader",
    "routine_feed",
    "routine_uid",
    "schedule_validators",
    "token_group_row",
    "token_owner_rows",
    "uid_domain",
    "window",
]


def uid_domain() -> str:
    """The right-hand side of every UID (``PLANNER_FEED_UID_DOMAIN``, default ``planner``)."""
    return str(current_app.config.get("FEED_UID_DOMAIN") or "planner")


def routine_uid(routine: Routine, domain: str) -> str:
    """A series' UID: its id plus its creation instant in microseconds.

    Depends on nothing that an admin changes (not the host name, not the secret key), so
    subscribers never see duplicates after a move or a key rotation; the creation instant
    keeps two installations' ``routine-1`` apart in a calendar that subscribes to both.
    """
    created = routine.created_at.replace(tzinfo=UTC)
    return f"routine-{routine.id}-{int(created.timestamp() * 1_000_000):x}@{domain}"


# -- building Feeds -----------------------------------------------------------------------------


def schedule_words(routine: Routine) -> str:
    """The schedule in a sentence, in the feed's language (the caller forces it): a calendar
    app shows each date alone, so "Jeden zweiten Donnerstag um 19:00" says it is a routine.
    Empty for a rule that no longer reads (never fail a feed over words)."""
    locale = get_locale()
    return _schedule_words(
        routine.rrule, routine.start, routine.timezone, routine.duration,
        str(locale) if locale is not None else FALLBACK,
    )


@functools.lru_cache(maxsize=4096)
def _schedule_words(
    rrule: str, start: datetime, timezone: str, duration: timedelta, locale: str
) -> str:
    """:func:`rules.describe`, remembered: it depends on nothing else, and wording a schedule
    through Babel was a sixth of a cold group feed. A group's routines share few rules and
    times, and an edited routine is a new key, so the cache never serves stale words."""
    try:
        return rules.describe(rrule, start, timezone, duration, locale=locale)
    except recurrence.RecurrenceError:
        return ""


def _text_join(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


_OVERRIDE_COLUMNS = (*OVERRIDE_COLUMNS, Override.updated_at)  # LAST-MODIFIED


def load_series_rows(
    session: Session, since: datetime, **where: Any
) -> list[tuple[Routine, list[Any]]]:
    """Routines (ORM, for plugins) with their overrides from ``since`` on as plain rows.

    Two statements. Overrides are read as rows, not ORM objects: a feed reads each once and
    building a thousand ORM instances costs more than the rest of the render's database work.
    ``where``: ``group_id=`` or ``routine_ids=``.
    """
    query = select(Routine).order_by(Routine.id)
    if "group_id" in where:
        query = query.where(Routine.group_id == where["group_id"])
    if "routine_ids" in where:
        query = query.where(Routine.id.in_(where["routine_ids"]))
    routines = list(session.scalars(query))
    if not routines:
        return []
    floor = since.astimezone(UTC).replace(tzinfo=None) - ZONE_MARGIN
    rows = session.execute(
        select(*_OVERRIDE_COLUMNS)
        .where(Override.routine_id.in_([r.id for r in routines]))
        .where(or_(Override.original_start >= floor, Override.start >= floor))
        .order_by(Override.routine_id, Override.original_start)
    ).all()
    # Plain rows that series_of reads like Override objects (same attribute names).
    by_routine: dict[int, list[Any]] = {r.id: [] for r in routines}
    for row in rows:
        by_routine[row.routine_id].append(row)
    return [(r, by_routine[r.id]) for r in routines]


def feed_routine(
    routine: Routine,
    group: Group | GroupRow,
    base_url: str,
    domain: str,
    overrides: list[Any] | None = None,
) -> FeedRoutine:
    """``overrides``: rows from :func:`load_series_rows`; None reads ``routine.overrides``."""
    activity = current_app.extensions["planner"].activity(routine.activity_key)
    if overrides is None:
        series = series_of(routine)
        meta = {o.original_start: (o.sequence or 0, o.updated_at) for o in routine.overrides}
    else:
        data, meta = _from_rows(overrides)
        series = series_of(routine, data=data)
    return FeedRoutine(
        routine=routine,
        series=series,
        uid=routine_uid(routine, domain),
        title=routine.title,
        description=_text_join(
            routine.description, schedule_words(routine), activity.safe_describe(routine.details)
        ),
        location=routine.location or "",
        url=f"{base_url}/g/{group.slug}/r/{routine.id}",
        categories=current_app.extensions["planner"].categories_of(routine),
        sequence=routine.sequence or 0,
        created=routine.created_at,
        modified=routine.updated_at,
        override_meta=meta,
    )


def _from_rows(
    rows: list[Any],
) -> tuple[list[recurrence.OverrideData], dict[datetime, tuple[int, datetime]]]:
    """Pure overrides and their SEQUENCE and LAST-MODIFIED from rows of ``_OVERRIDE_COLUMNS``,
    unpacked by position: reading a Row's columns by name took twice as long, a tenth of a
    cold group feed with a thousand overrides."""
    data: list[recurrence.OverrideData] = []
    meta: dict[datetime, tuple[int, datetime]] = {}
    for row in rows:
        _routine, original, status, start, minutes, location, title, note, seq, updated = row
        duration = None if minutes is None else timedelta(minutes=minutes)
        data.append(recurrence.OverrideData(
            original, status, start, duration, location, title, note, seq or 0
        ))
        meta[original] = (seq or 0, updated)
    return data, meta


def _still_running(item: FeedRoutine, since: datetime) -> bool:
    """Whether a series has anything (even a cancelled or moved occurrence) from ``since`` on."""
    try:
        if item.series.rrule:
            parts = recurrence.parse_parts(item.series.rrule)
            if "COUNT" not in parts and "UNTIL" not in parts:
                return True  # endless: no need to look
            if "UNTIL" in parts and not item.series.overrides:
                return recurrence.parse_until(parts["UNTIL"], item.series.timezone) >= since
        return bool(recurrence.next_occurrences(item.series, since, 1)) or bool(
            recurrence.expand(item.series, since - timedelta(days=1), since + timedelta(days=1))
        )
    except recurrence.RecurrenceError:
        return False  # a rule edited by hand into nonsense: leave it out, never a 500


def _attendance_loader(session: Session) -> AttendanceLoader:
    def load(keys: list[AttendanceKey]) -> dict[AttendanceKey, Attendance]:
        found = attendance_for(session, keys) if keys else {}
        for rid, start in keys:
            found.setdefault((rid, start), Attendance(rid, start))
        return found

    return load


def _feed(name: str, win: Window, **kwargs: Any) -> Feed:
    plugins = current_app.extensions["planner"]
    return Feed(
        name=name,
        window_start=win.start,
        refresh_minutes=int(current_app.config.get("FEED_REFRESH_MINUTES", 360)),
        decorate=plugins.decorate_event,
        decorates=plugins.decorates_event,
        **kwargs,
    )


def group_feed(session: Session, group: Group | GroupRow, base_url: str, win: Window) -> Feed:
    """Every routine of the group as a series (routines, overrides: two statements)."""
    domain = uid_domain()
    items = [
        feed_routine(routine, group, base_url, domain, rows)
        for routine, rows in load_series_rows(session, win.start, group_id=group.id)
    ]
    return _feed(
        group.name,
        win,
        routines=[item for item in items if _still_running(item, win.start)],
        description=group.description or "",
        url=f"{base_url}/g/{group.slug}",
        attendance_loader=_attendance_loader(session),
    )


def routine_feed(
    session: Session, group: Group | GroupRow, routine: Routine, base_url: str, win: Window
) -> Feed:
    item = feed_routine(routine, group, base_url, uid_domain())
    return _feed(
        f"{routine.title} · {group.name}",
        win,
        routines=[item] if _still_running(item, win.start) else [],
        url=item.url,
        attendance_loader=_attendance_loader(session),
    )


def occurrence_feed(
    session: Session,
    group: Group,
    routine: Routine,
    occurrence: recurrence.Occurrence,
    base_url: str,
    win: Window,
) -> Feed:
    """One occurrence for "add to calendar": never windowed out, even if it is old."""
    item = feed_routine(routine, group, base_url, uid_domain())
    key = (routine.id, occurrence.original_start)
    attendance = attendance_for(session, [key])
    return _feed(
        occurrence.title or routine.title,
        replace(win, start=min(win.start, occurrence.start.astimezone(UTC))),
        occurrences=[FeedOccurrence(item, occurrence, attendance.get(key))],
        url=item.occurrence_url(occurrence),
    )


def personal_feed(
    session: Session,
    user: User | UserRow,
    groups: list[Group] | list[GroupRow],
    base_url: str,
    win: Window,
) -> Feed:
    """Occurrences the member is going to (or waitlisted for), maybe going to, or a regular of,
    across their groups, each as its own VEVENT. Exactly the answers module's idea of "going":
    the candidates' attendance decides, so regulars who joined later, declines and members who
    left are honoured. Five statements plus attendance's fixed few."""
    by_id = {g.id: g for g in groups}
    domain = uid_domain()
    feed = _feed(f"{user.display_name} · planner", win, url=f"{base_url}/subscribe")
    if not groups:
        return feed
    floor = win.start.replace(tzinfo=None) - ZONE_MARGIN
    regular_ids = set(
        session.scalars(
            select(Regular.routine_id)
            .join(Routine, Routine.id == Regular.routine_id)
            .where(Regular.user_id == user.id, Routine.group_id.in_(by_id))
        )
    )
    said = list(
        session.execute(
            select(Rsvp.routine_id, Rsvp.original_start)
            .join(Routine, Routine.id == Rsvp.routine_id)
            .where(
                Rsvp.user_id == user.id,
                Rsvp.status.in_(("going", "maybe")),
                Rsvp.original_start >= floor,
                Routine.group_id.in_(by_id),
            )
        )
    )
    routine_ids = regular_ids | {rid for rid, _ in said}
    if not routine_ids:
        return feed
    items = {
        r.id: feed_routine(r, by_id[r.group_id], base_url, domain, rows)
        for r, rows in load_series_rows(session, win.start, routine_ids=sorted(routine_ids))
    }
    candidates: dict[tuple[int, datetime], recurrence.Occurrence] = {}
    for rid, item in items.items():
        try:
            if rid in regular_ids:
                found = recurrence.expand(item.series, win.start, win.end)
            else:
                wanted = {start for r, start in said if r == rid}
                found = [
                    o
                    for start in sorted(wanted)
                    if (o := recurrence.occurrence_at(item.series, start)) is not None
                    and o.end >= win.start
                ]
        except recurrence.RecurrenceError:
            continue
        for occurrence in found:
            if not occurrence.is_cancelled:
                candidates[(rid, occurrence.original_start)] = occurrence
    attendance = attendance_for(session, list(candidates)) if candidates else {}
    chosen = []
    for key, occurrence in candidates.items():
        att = attendance.get(key)
        status = att.status_of(user.id) if att is not None else None
        if status in ("going", "waitlisted", "maybe"):
            chosen.append(FeedOccurrence(items[key[0]], occurrence, att))
    chosen.sort(key=lambda f: (f.occurrence.start, f.routine.routine.id))
    feed.occurrences = chosen
    feed.viewer_id = user.id
    return feed
