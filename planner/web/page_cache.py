"""Rendered pages kept by what they were rendered from, so a busy group's page is built once
per change instead of once per visit.

A page is stored under a key made of everything its HTML depends on besides the request's own
CSRF token and flashed messages: the URL (host, path, query), the viewer (id, name, zone, feed
token, role in the group), the language, the versions of the groups it shows (``Group.version``,
bumped by every write that changes what a page shows: routines, overrides, answers, regulars,
slots, comments, memberships, group edits, a member's new name) and the minute it was rendered in
(pages say "today", "in 3 hours" and close answers at the start). The key names the viewer,
so one person's page is never served to another.

**What a hit reads.** The person (Flask-Login's user load, with its session token and password
stamp checks) and nothing else while the feeds' stamps are trusted
(:func:`planner.feeds.versions.trusted_stamps`): a group page's access row (group id, public or
not, version, the viewer's role: :func:`known_parts`) and the person's groups with their
versions and roles (:func:`member_versions`) come from :func:`planner.feeds.versions.cached`
entries. Those hold while the stamps they were read under hold: ``g:<id>`` (moved after the
commit of every write that bumps the group's version or edits it, visibility included),
``u:<id>`` (the person's row) and ``all`` (memberships added or removed, deletions, bulk
updates), so the next request after a write reads the row again, in every worker. The rows are
read in autocommit on the feeds' reader, after the stamps, never inside the request's own
transaction (whose snapshot may be older than the stamps). The outsider's 404 comes from the
entry, before any page lookup. A miss, a POST and every other route go through
:func:`planner.groups.access.group_access` (ORM instances, read fresh); with untrusted stamps
(PostgreSQL without Redis under several processes) a hit reads its row from the database.

The CSRF token and the flashes are the two per-request parts: the page is rendered with a
placeholder for each and they are put in when it is served. Nothing is ever invalidated: a
write makes a new key, and old entries fall out of a least-recently-used map bounded in bytes
(``PAGE_CACHE_MAX_BYTES``, 0 switches the cache off).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Response, abort, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from planner.enums import Visibility
from planner.feeds import versions
from planner.feeds.cache import MemoryCache
from planner.feeds.poll import read_rows
from planner.groups.access import GroupAccess, group_access
from planner.models import Group, Membership
from planner.routines.occurrences import utc_now
from planner.web.helpers import viewer
from planner.web.i18n import current_locale

#: Stands for the request's CSRF token and flashes in a stored page; random per process, so no
#: text a member types can be mistaken for it.
CSRF_MARK = "csrf-" + secrets.token_hex(16)
FLASH_MARK = "<!--flashes-" + secrets.token_hex(16) + "-->"


#: A stored page: the UTF-8 pieces before and after the flash placeholder, each split at the
#: CSRF placeholder.
Stored = tuple[tuple[bytes, ...], tuple[bytes, ...]]


def _size(stored: Stored) -> int:
    return sum(len(piece) for pieces in stored for piece in pieces)


class PageCache(MemoryCache[Stored]):
    """The feeds' byte-bounded LRU, holding rendered pages and counting hits (tests read them)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, measure=_size)
        self.hits = 0
        self.misses = 0

    def get(self, key: str, count_miss: bool = True) -> Stored | None:
        page = super().get(key)
        if page is None:
            self.misses += count_miss
        else:
            self.hits += 1
        return page


def cache_of(app: Any) -> PageCache:
    cache: PageCache | None = app.extensions.get("planner_page_cache")
    if cache is None:
        cache = PageCache(int(app.config.get("PAGE_CACHE_MAX_BYTES", 0) or 0))
        app.extensions["planner_page_cache"] = cache
    return cache


def page_parts(access: GroupAccess) -> tuple[Any, ...]:
    """What a page of one group depends on: the group's version and the viewer's role."""
    role = str(access.membership.role) if access.membership is not None else None
    return ("group", access.group.id, access.group.version, role)


#: A group page's access in plain columns: the group, whether it is public, its version and the
#: viewer's role (NULL for an outsider or an anonymous visitor). Built once.
_ACCESS = (
    select(Group.id, Group.visibility, Group.version, Membership.role)
    .outerjoin(
        Membership,
        (Membership.group_id == Group.id) & (Membership.user_id == bindparam("user_id")),
    )
    .where(Group.slug == bindparam("slug"))
)
_MEMBER_VERSIONS = (
    select(Group.id, Group.version, Membership.role)
    .join(Membership, Membership.group_id == Group.id)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Group.id)
)


def known_parts(slug: str) -> tuple[Any, ...] | None:
    """:func:`page_parts` of the group ``slug`` for the current viewer, read through the feeds'
    stamps (:func:`planner.feeds.versions.cached`): no statement while the group's stamp and
    ``all`` hold. Aborts 404 for an outsider on a private group, before any page lookup.

    None when this cannot be known so (stamps not trusted, or no such group): the caller then
    goes through :func:`planner.groups.access.group_access`, which reads the database."""
    if versions.trusted_stamps() is None:
        return None
    user_id = current_user.id if current_user.is_authenticated else None

    def load() -> tuple[Any, ...] | None:
        rows = read_rows(_ACCESS, slug=slug, user_id=user_id)
        if not rows:
            return None  # never stored: group_access answers the 404
        group_id, visibility, version, role = rows[0]
        public = visibility == Visibility.PUBLIC
        return (public, ("group", group_id, version, None if role is None else str(role)))

    def deps(found: tuple[Any, ...]) -> tuple[str, ...]:
        return (versions.group_stamps(found[1][1])[0],)

    found = versions.cached(f"page:{user_id}:{slug}", load, deps, lambda found, _: found)
    if found is None:
        return None
    public, parts = found
    if not public and parts[3] is None:
        abort(404)
    return cast(tuple[Any, ...], parts)


def member_versions(db: Session, user_id: int) -> tuple[Any, ...]:
    """What a page across the person's groups depends on: each group's version and the
    person's role, in one indexed statement (joining or leaving one changes the list itself),
    or none while the stamps of the person and of each group (and ``all``, which a membership
    added or removed moves) hold."""
    if versions.trusted_stamps() is None:
        rows = db.execute(_MEMBER_VERSIONS, {"user_id": user_id})
        return ("groups", *(tuple(row) for row in rows))

    def load() -> tuple[Any, ...]:
        return ("groups", *(tuple(row) for row in read_rows(_MEMBER_VERSIONS, user_id=user_id)))

    def deps(parts: tuple[Any, ...]) -> tuple[str, ...]:
        groups = (versions.group_stamps(row[0])[0] for row in parts[1:])
        return (versions.user_stamp(user_id), *groups)

    found = versions.cached(f"mine:{user_id}", load, deps, lambda parts, _: parts)
    assert found is not None  # load never answers None
    return found


def _key(parts: Iterable[Any]) -> str:
    person = viewer()
    who: tuple[Any, ...] = (
        (person.id, person.display_name, person.timezone, person.feed_token)
        if person is not None
        else ("anonymous",)
    )
    minute = utc_now().strftime("%Y%m%d%H%M")
    raw = repr((request.host_url, request.full_path, who, current_locale(), minute, *parts))
    return hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


def _split(page: str) -> Stored:
    """The page as UTF-8 pieces around the placeholders: serving it is then two joins of
    bytes, with no pass over the text and no encoding."""
    head, _, tail = page.partition(FLASH_MARK)
    mark = CSRF_MARK.encode()
    return tuple(head.encode().split(mark)), tuple(tail.encode().split(mark))


def _fill(stored: Stored) -> bytes:
    flashes = render_template("_flashes.html") if session.get("_flashes") else ""
    token = generate_csrf().encode()
    head, tail = stored
    return token.join(head) + flashes.encode() + token.join(tail)


def cached_page(parts: Iterable[Any], render: Callable[..., str], /, **context: Any) -> Response:
    """The page ``render(**context)`` would return, from the cache when ``parts`` (versions,
    role: whatever the page shows besides the URL and the viewer) match a stored one.

    ``render`` is called with ``page_cache_marks`` (the flash placeholder) in the context when
    it renders for the cache: ``base.html`` then leaves it instead of the messages."""
    cache = cache_of(current_app)
    if cache.max_bytes <= 0:
        return Response(render(**context), mimetype="text/html")
    key = _key(parts)
    stored = cache.get(key)
    if stored is None:
        field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        had = g.pop(field, None)
        setattr(g, field, CSRF_MARK)
        try:
            stored = _split(render(page_cache_marks=FLASH_MARK, **context))
        finally:
            g.pop(field, None)
            if had is not None:
                setattr(g, field, had)
        cache.set(key, stored)
    return Response(_fill(stored), mimetype="text/html")


def group_page(slug: str, render: Callable[..., str], /, **context: Any) -> Response:
    """A page of the group ``slug``: ``render(access=..., **context)`` through
    :func:`cached_page`. A hit costs no statement while the stamps hold (:func:`known_parts`);
    only a miss loads the group and the membership as ORM objects (``group_access``) and
    renders."""
    parts = known_parts(slug)
    cache = cache_of(current_app)
    if parts is not None and cache.max_bytes > 0:
        stored = cache.get(_key(parts), count_miss=False)
        if stored is not None:
            return Response(_fill(stored), mimetype="text/html")
    access = group_access(slug)
    return cached_page(page_parts(access), render, access=access, **context)


def cached_template(parts: Iterable[Any], template: str, **context: Any) -> Response:
    """:func:`cached_page` for a plain ``render_template``."""
    return cached_page(parts, lambda **c: render_template(template, **c), **context)
