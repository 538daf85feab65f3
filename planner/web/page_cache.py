"""Rendered pages kept by what they were rendered from, so a busy group's page is built once
per change instead of once per visit.

A page is stored under a key made of everything its HTML depends on besides the request's own
CSRF token and flashed messages: the URL (host, path, query), the viewer (id, name, zone, feed
token, role in the group), the language, the versions of the groups it shows (``Group.version``,
bumped by every write that changes what a page shows: routines, overrides, answers, regulars,
slots, comments, memberships, group edits, a member's new name) and the minute it was rendered in
(pages say "today", "in 3 hours" and close answers at the start). The versions are read from
the database on every request, by the same statement that checks access, so several workers
never serve a page older than the last write and an outsider still gets the 404 before any
lookup; the key names the viewer, so one person's page is never served to another.

The CSRF token and the flashes are the two per-request parts: the page is rendered with a
placeholder for each and they are put in when it is served. Nothing is ever invalidated: a
write makes a new key, and old entries fall out of a least-recently-used map bounded in bytes
(``PAGE_CACHE_MAX_BYTES``, 0 switches the cache off).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app, g, render_template, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.feeds.cache import MemoryCache
from planner.groups.access import GroupAccess
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

    def get(self, key: str) -> Stored | None:
        page = super().get(key)
        if page is None:
            self.misses += 1
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
    role = access.membership.role if access.membership is not None else None
    return ("group", access.group.id, access.group.version, role)


def member_versions(db: Session, user_id: int) -> tuple[Any, ...]:
    """What a page across the person's groups depends on: each group's version, in one
    indexed statement (joining or leaving one changes the list itself)."""
    rows = db.execute(
        select(Group.id, Group.version, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user_id)
        .order_by(Group.id)
    )
    return ("groups", *(tuple(row) for row in rows))


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


def cached_template(parts: Iterable[Any], template: str, **context: Any) -> Response:
    """:func:`cached_page` for a plain ``render_template``."""
    return cached_page(parts, lambda **c: render_template(template, **c), **context)
