"""The poll path: a feed's version from one indexed read, or none.

A version comes from ``Group.version`` (bumped on every change a page or feed may show) or, for
a group's own feeds, its schedule stamp (:mod:`planner.feeds.versions`: answers do not move
it), plus the group's ``updated_at``, the feed window's first day and the set of loaded plugins.
Nothing is rendered to compute it, and the rows it is read from are kept in process while
their stamps say they are current, so a poll that ends in 304 costs no statement (one indexed
read when the stamps cannot be trusted). :mod:`planner.feeds.delivery` maps the version to the
content ETag. DTSTAMP is not an input: it changes on every render.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Engine, Executable, and_, bindparam, create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from planner.db import database
from planner.feeds import versions
from planner.models import Group, Membership, User

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
    return _window(now.astimezone(UTC).date(), config["FEED_PAST_DAYS"], config["FEED_FUTURE_DAYS"])


@lru_cache(maxsize=64)
def _window(today: date, past: int, future: int) -> Window:
    start = datetime.combine(today - timedelta(days=int(past)), time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=int(future)), time(), tzinfo=UTC)
    return Window(day=today, start=start, end=end)


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

    The app's SQLite engine takes over BEGIN (its ``BEGIN IMMEDIATE`` recipe), so even a read
    there costs a BEGIN and a ROLLBACK around it. Polls only read one row in autocommit, so an
    engine of its own on the same file is safe: each SELECT sees the latest committed data
    (WAL). PostgreSQL's engine serves as it is.
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
    language: str | None = None  # the feeds' language (Group.language); None: the default
    member: bool = False  # the token owner is a member (token routes only)
    # The group's schedule stamp (planner.feeds.versions) when known: versions the group's
    # own feeds apart from answers. None: use ``version``.
    schedule: str | None = None

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
    Group.language,
)


# Built once: constructing a statement costs more than running it on an indexed column.
_BY_SLUG = select(*_GROUP_COLUMNS).where(Group.slug == bindparam("slug"))
_BY_TOKEN_AND_SLUG = (
    select(*_GROUP_COLUMNS, User.id, Membership.id)
    .select_from(User)
    .join(Group, Group.slug == bindparam("slug"))
    .outerjoin(Membership, and_(Membership.group_id == Group.id, Membership.user_id == User.id))
    .where(User.feed_token == bindparam("token"))
)
_OWNER_AND_GROUPS = (
    select(User.id, User.display_name, User.feed_token, User.locale, *_GROUP_COLUMNS)
    .select_from(User)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Group, Group.id == Membership.group_id)
    .where(User.feed_token == bindparam("token"))
    .order_by(Group.id)
)


def read_rows(statement: Executable, **params: Any) -> list[Any]:
    """One autocommit read on :func:`reader`: each SELECT sees the latest commit, never the
    snapshot of a transaction the request began earlier (what a stamped entry needs)."""
    with reader().connect() as conn:
        return list(conn.execute(statement, params).all())


def _group_row(values: Sequence[Any], member: bool = False) -> GroupRow:
    """A GroupRow from the ``_GROUP_COLUMNS`` part of a row (unpacked, so a changed column
    list fails here and not as a shifted field)."""
    id_, slug, name, description, visibility, version, updated_at, language = values
    return GroupRow(
        id_, slug, name, description, visibility, version, updated_at, language, member
    )


def _with_schedule(group: GroupRow, stamps: dict[str, str] | None) -> GroupRow:
    if stamps is None:
        return group
    return replace(group, schedule=stamps[versions.group_stamps(group.id)[1]])


def group_row(slug: str) -> GroupRow | None:
    """The group by slug: one statement, or none when the stamps say the row is current."""

    def load() -> GroupRow | None:
        rows = read_rows(_BY_SLUG, slug=slug)
        return _group_row(rows[0]) if rows else None

    def deps(group: GroupRow) -> tuple[str, ...]:
        return versions.group_stamps(group.id)

    return versions.cached(f"slug:{slug}", load, deps, _with_schedule)


def token_group_row(token: str, slug: str) -> GroupRow | None:
    """The group and whether the token's owner is a member, in one statement (or none, as
    :func:`group_row`); None when the token is wrong or revoked, or the group does not exist."""

    def load() -> tuple[int, GroupRow] | None:
        rows = read_rows(_BY_TOKEN_AND_SLUG, token=token, slug=slug)
        row = rows[0] if rows else None
        if row is None:
            return None
        return row[-2], _group_row(row[:-2], member=row[-1] is not None)

    def deps(found: tuple[int, GroupRow]) -> tuple[str, ...]:
        return (versions.user_stamp(found[0]), *versions.group_stamps(found[1].id))

    def finish(found: tuple[int, GroupRow], stamps: dict[str, str] | None) -> GroupRow:
        return _with_schedule(found[1], stamps)

    return versions.cached(f"tg:{token}:{slug}", load, deps, finish)


def _validators(
    parts: tuple[object, ...], modified: list[datetime | None], win: Window
) -> Validators:
    return _hashed(_plugin_fingerprint(), win, parts, tuple(modified))


@lru_cache(maxsize=4096)
def _hashed(
    fingerprint: str, win: Window, parts: tuple[object, ...], modified: tuple[datetime | None]
) -> Validators:
    """Memoized: a warm poll asks for the same validators again and again."""
    text = repr((FEED_SCHEMA, fingerprint, win.day.isoformat(), *parts))
    etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    stamps = [m.replace(tzinfo=UTC) for m in modified if m is not None]
    last = max([*stamps, win.begins_at]).replace(microsecond=0)
    return Validators(etag=etag, last_modified=last)


def group_validators(
    group: Group | GroupRow, kind: str, fmt: str, win: Window, extra: tuple[object, ...] = ()
) -> Validators:
    """For a group's feed, one routine's feed, or one occurrence: from the group row alone."""
    parts = (kind, fmt, group.id, group.version, group.visibility, group.language, *extra)
    return _validators(parts, [group.updated_at], win)


def schedule_validators(
    group: GroupRow, kind: str, fmt: str, win: Window, extra: tuple[object, ...] = ()
) -> Validators | None:
    """Like :func:`group_validators` from the group's schedule stamp, which answers do not
    move; None when it is not known. Only for a feed whose render reads no attendance."""
    if group.schedule is None:
        return None
    parts = (
        kind, fmt, group.id, "schedule", group.schedule, group.visibility, group.language, *extra
    )
    return _validators(parts, [group.updated_at], win)


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
    locale: str | None = None  # the personal feed's language (User.locale)


def token_owner_rows(token: str) -> tuple[UserRow, list[GroupRow]] | None:
    """The token's owner and their groups in one statement (or none, as :func:`group_row`);
    None for a wrong or revoked token."""

    def load() -> tuple[UserRow, list[GroupRow]] | None:
        rows = read_rows(_OWNER_AND_GROUPS, token=token)
        if not rows:
            return None
        user = UserRow(*rows[0][:4])
        groups = [_group_row(row[4:], member=True) for row in rows if row[4] is not None]
        return user, groups

    def deps(found: tuple[UserRow, list[GroupRow]]) -> tuple[str, ...]:
        user, groups = found
        return (versions.user_stamp(user.id), *(versions.group_stamps(g.id)[0] for g in groups))

    return versions.cached(f"me:{token}", load, deps, lambda found, _stamps: found)


def personal_validators(
    user: User | UserRow, groups: list[Group] | list[GroupRow], fmt: str, win: Window
) -> Validators:
    parts = (
        "me", fmt, user.id, user.feed_token, user.locale, tuple((g.id, g.version) for g in groups)
    )
    return _validators(parts, [g.updated_at for g in groups], win)
