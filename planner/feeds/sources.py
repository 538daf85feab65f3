"""What each feed contains, read from the database, and its validators (ETag, Last-Modified).

Validators come from ``Group.version`` (bumped on every change that alters a feed: routines,
overrides, answers, slots), the group's ``updated_at``, the feed window's first day and the set
of loaded plugins. Nothing is rendered to compute them, so a poll that ends in 304 costs one or
two indexed queries. DTSTAMP is not an input: it changes on every render, so an ETag hashed
from the body would never match.

Every loader runs a fixed number of statements, whatever the number of routines or overrides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, and_, bindparam, create_engine, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from planner.db import database
from planner.feeds.model import Feed, FeedOccurrence, FeedRoutine
from planner.joining.attendance import Attendance, attendance_for
from planner.models import Group, Membership, Override, Regular, Routine, Rsvp, User
from planner.routines.occurrences import ZONE_MARGIN, series_of
from planner.scheduling import recurrence

# Bump when the rendered output changes shape, so every cached render and ETag is replaced.
FEED_SCHEMA = "1"


@dataclass(frozen=True)
class Validators:
    etag: str  # the opaque part, without quotes or W/
    last_modified: datetime  # aware UTC, whole seconds

    @property
    def header(self) -> str:
        return f'W/"{self.etag}"'


@dataclass(frozen=True)
class Window:
    """The feed's time span. ``start`` moves once a day, so it is part of the validators."""

    day: date  # today (UTC) when the window was computed
    start: datetime  # aware UTC midnight, FEED_PAST_DAYS before ``day``
    end: datetime  # aware UTC; only bounds standalone occurrences (personal feed)

    @property
    def begins_at(self) -> datetime:
        """When this window came into force: content may change then without a version bump."""
        return datetime.combine(self.day, time(), tzinfo=UTC)


def window(now: datetime | None = None) -> Window:
    now = now or datetime.now(UTC)
    config = current_app.config
    today = now.astimezone(UTC).date()
    past = int(config["FEED_PAST_DAYS"])
    future = int(config["FEED_FUTURE_DAYS"])
    start = datetime.combine(today - timedelta(days=past), time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=future), time(), tzinfo=UTC)
    return Window(day=today, start=start, end=end)


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


def _plugin_fingerprint() -> str:
    found = current_app.extensions.get("planner_feed_fingerprint")
    if found is None:
        plugins = current_app.extensions["planner"]
        infos = sorted(plugins.info.values(), key=lambda i: i.name)
        found = ",".join(f"{i.name}={i.version}" for i in infos)
        current_app.extensions["planner_feed_fingerprint"] = found
    return found


# -- the poll path: one indexed read on a pooled connection ------------------------------------

READER_KEY = "planner_feed_reader"


def reader() -> Engine:
    """The engine for the poll path's single read.

    The app's SQLite engine opens a fresh connection per request (NullPool, for its
    ``BEGIN IMMEDIATE`` recipe) and that, with its PRAGMAs, costs more than the whole rest of a
    304. Polls only read one row in autocommit, so a pooled engine on the same file is safe:
    each SELECT sees the latest committed data (WAL). PostgreSQL's engine is pooled already.
    """
    engine = current_app.extensions.get(READER_KEY)
    if engine is None:
        main = database().engine
        if main.dialect.name != "sqlite":
            engine = main
        else:
            engine = create_engine(
                main.url,
                poolclass=QueuePool,
                pool_size=8,
                max_overflow=8,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
        current_app.extensions[READER_KEY] = engine
    return engine


@dataclass(frozen=True)
class GroupRow:
    """The group columns a feed needs, read without the ORM (the poll path)."""

    id: int
    slug: str
    name: str
    description: str
    visibility: str
    version: int
    updated_at: datetime
    member: bool = False  # the token owner is a member (token routes only)

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"


_GROUP_COLUMNS = (
    Group.id,
    Group.slug,
    Group.name,
    Group.description,
    Group.visibility,
    Group.version,
    Group.updated_at,
)


# Built once: constructing a statement costs more than running it on an indexed column.
_BY_SLUG = select(*_GROUP_COLUMNS).where(Group.slug == bindparam("slug"))
_BY_TOKEN_AND_SLUG = (
    select(*_GROUP_COLUMNS, Membership.id)
    .select_from(User)
    .join(Group, Group.slug == bindparam("slug"))
    .outerjoin(Membership, and_(Membership.group_id == Group.id, Membership.user_id == User.id))
    .where(User.feed_token == bindparam("token"))
)
_OWNER_AND_GROUPS = (
    select(User.id, User.display_name, User.feed_token, *_GROUP_COLUMNS)
    .select_from(User)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Group, Group.id == Membership.group_id)
    .where(User.feed_token == bindparam("token"))
    .order_by(Group.id)
)


def _read(statement, **params: Any) -> list:
    with reader().connect() as conn:
        return conn.execute(statement, params).all()


def group_row(slug: str) -> GroupRow | None:
    rows = _read(_BY_SLUG, slug=slug)
    return GroupRow(*rows[0]) if rows else None


def token_group_row(token: str, slug: str) -> GroupRow | None:
    """The group and whether the token's owner is a member, in one statement; None when the
    token is wrong or revoked, or the group does not exist."""
    rows = _read(_BY_TOKEN_AND_SLUG, token=token, slug=slug)
    row = rows[0] if rows else None
    if row is None:
        return None
    return GroupRow(*row[:-1], member=row[-1] is not None)


def _validators(parts: tuple, modified: list[datetime | None], win: Window) -> Validators:
    text = repr((FEED_SCHEMA, _plugin_fingerprint(), win.day.isoformat(), *parts))
    etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    stamps = [m.replace(tzinfo=UTC) for m in modified if m is not None]
    last = max([*stamps, win.begins_at]).replace(microsecond=0)
    return Validators(etag=etag, last_modified=last)


def group_validators(
    group: Group | GroupRow, kind: str, fmt: str, win: Window, extra: tuple = ()
) -> Validators:
    """For a group's feed, one routine's feed, or one occurrence: from the group row alone."""
    return _validators(
        (kind, fmt, group.id, group.version, group.visibility, *extra), [group.updated_at], win
    )


def member_groups(session: Session, user: User) -> list[Group]:
    """The groups a member belongs to (one statement): the personal feed's scope."""
    return list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user.id)
            .order_by(Group.id)
        )
    )


@dataclass(frozen=True)
class UserRow:
    id: int
    display_name: str
    feed_token: str


def token_owner_rows(token: str) -> tuple[UserRow, list[GroupRow]] | None:
    """The token's owner and their groups in one statement; None for a wrong or revoked token."""
    rows = _read(_OWNER_AND_GROUPS, token=token)
    if not rows:
        return None
    user = UserRow(*rows[0][:3])
    groups = [GroupRow(*row[3:], member=True) for row in rows if row[3] is not None]
    return user, groups


def personal_validators(
    user: User | UserRow, groups: list[Group] | list[GroupRow], fmt: str, win: Window
) -> Validators:
    parts = ("me", fmt, user.id, user.feed_token, tuple((g.id, g.version) for g in groups))
    return _validators(parts, [g.updated_at for g in groups], win)


# -- building Feeds -----------------------------------------------------------------------------


def _text_join(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


_OVERRIDE_COLUMNS = (
    Override.routine_id,
    Override.original_start,
    Override.status,
    Override.start,
    Override.duration_minutes,
    Override.location,
    Override.title,
    Override.note,
    Override.sequence,
    Override.updated_at,
)


def load_series_rows(
    session: Session, since: datetime, **where: Any
) -> list[tuple[Routine, list]]:
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
    by_routine: dict[int, list] = {r.id: [] for r in routines}
    for row in rows:
        by_routine[row.routine_id].append(row)
    return [(r, by_routine[r.id]) for r in routines]


def feed_routine(
    routine: Routine,
    group: Group | GroupRow,
    base_url: str,
    domain: str,
    overrides: list | None = None,
) -> FeedRoutine:
    """``overrides``: rows from :func:`load_series_rows`; None reads ``routine.overrides``."""
    activity = current_app.extensions["planner"].activity(routine.activity_key)
    rows = routine.overrides if overrides is None else overrides
    return FeedRoutine(
        routine=routine,
        series=series_of(routine, overrides=rows),
        uid=routine_uid(routine, domain),
        title=routine.title,
        description=_text_join(routine.description, activity.safe_describe(routine.details)),
        location=routine.location or "",
        url=f"{base_url}/g/{group.slug}/r/{routine.id}",
        categories=tuple(activity.categories),
        sequence=routine.sequence or 0,
        created=routine.created_at,
        modified=routine.updated_at,
        override_meta={o.original_start: (o.sequence or 0, o.updated_at) for o in rows},
    )


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


def _attendance_loader(session: Session):
    def load(keys: list[tuple[int, datetime]]) -> dict:
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
