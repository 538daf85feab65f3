"""What a poll gets: a per-feed ETag that follows the feed's bytes, and bytes compressed once.

The validators of :mod:`planner.feeds.poll` name a *version* (the group's counter, the window's
day, the plugins). One version counter serves every feed of a group, so on its own it would
change the group feed's ETag when only a member's answer changed, which makes every calendar
app subscribed to the group download it again for nothing. Here a version is mapped, once, to
the hash of what its feed really holds (the rendered bytes without DTSTAMP, which changes on
every render), and that hash is the ETag. An answer therefore re-renders the group feed once
per version (per process, or once for all with Redis) and then answers 304 to every client
that holds the unchanged ETag, while the answering member's personal feed, whose bytes did
change, gets a new one.

Compressed bytes are kept beside the plain ones in the byte cache under the content hash, so
gzip costs one compression per distinct feed content, not one per request.

Cache entries, all in :mod:`planner.feeds.cache` (never invalidated: keys name what they hold):

* ``v:<fmt>:<version etag>:<base>`` -> ``<content etag> <last modified, epoch seconds>``;
* ``b:<fmt>:<content etag>:<base>`` -> the bytes; ``z:...`` -> the same, gzipped;
* ``m:<fmt>:<content etag>:<base>`` -> when that content was first seen (Last-Modified);
* ``a:<fmt>:<schedule version etag>:<base>`` -> present when that schedule's render read
  attendance (see :class:`FeedBytes`).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

from planner.feeds.cache import FeedCache
from planner.feeds.model import Feed
from planner.feeds.poll import FEED_SCHEMA, Validators

# Level 6 (zlib's default) gets within a few percent of 9 at a third of the time; it runs
# once per feed content, so either would do, but a cold poll waits for it.
GZIP_LEVEL = 6


#: Every DTSTAMP value, in iCalendar (``DTSTAMP:20261201T221300Z``) and jCal
#: (``["dtstamp", {}, "date-time", "2026-12-01T22:13:00Z"]``) shape.
_DTSTAMPS = re.compile(
    rb'(DTSTAMP:)\d{8}T\d{6}Z|("dtstamp",\s*\{\},\s*"date-time",\s*)"[^"]*"', re.IGNORECASE
)


def content_etag(body: bytes, stamp: datetime) -> str:
    """The hash of a rendering, DTSTAMP left out: two renders of the same content hash alike.

    Every DTSTAMP is blanked, not only the render's own ``stamp``: a piece of the body built in
    an earlier second (or by another worker) would otherwise change the ETag of unchanged
    content about once a second, and calendar apps would download it again for nothing.
    """
    del stamp  # kept in the signature: callers pass the render's stamp
    stripped = _DTSTAMPS.sub(lambda m: m.group(1) or m.group(2), body)
    digest = hashlib.sha256(FEED_SCHEMA.encode() + b"\0" + stripped)
    return digest.hexdigest()[:32]


#: What a gzipped representation adds to the content ETag: each encoding has its own ETag,
#: so a cache holding one never revalidates it with the other's (RFC 9110 8.8.3).
GZIP_SUFFIX = "-gzip"


def representation_etag(etag: str, compressed: bool) -> str:
    return etag + GZIP_SUFFIX if compressed else etag


class FeedBytes:
    """One feed at one version for one base URL: its content ETag, bytes and gzipped bytes.

    ``build`` makes the :class:`Feed` and ``render`` turns it into bytes; both run at most once
    per instance and only when the cache does not already know the answer.

    ``schedule``, when given, is the version of the group's schedule alone (routines,
    overrides, the group's own fields; not answers, see :mod:`planner.feeds.versions`). A
    feed whose render read no attendance is looked up by it, so an answer neither changes its
    ETag nor makes it render again. A render that did read attendance (a plugin's
    ``ical_event``) leaves the flag ``a:<schedule>``, and that schedule is then looked up by
    the full ``version``.
    """

    def __init__(
        self,
        cache: FeedCache,
        fmt_key: str,
        version: Validators,
        base: str,
        build: Callable[[], Feed],
        render: Callable[[Feed], bytes],
        schedule: Validators | None = None,
    ):
        self.cache = cache
        self.fmt_key = fmt_key
        self.version = version
        self.schedule = schedule
        self.base = base
        self.build = build
        self.render = render
        self._body: bytes | None = None

    def _key(self, kind: str, token: str) -> str:
        return f"{kind}:{self.fmt_key}:{token}:{self.base}"

    def _render(self) -> tuple[bytes, str, bool]:
        """The bytes, their content ETag, and whether the render read any attendance."""
        feed = self.build()
        read: list[bool] = []
        loader = feed.attendance_loader
        if loader is not None:

            def reading(keys):  # type: ignore[no-untyped-def]
                read.append(True)
                return loader(keys)

            feed.attendance_loader = reading
        body = self.render(feed)
        etag = content_etag(body, feed.stamp)
        self._body = body
        self.cache.set(self._key("b", etag), body)
        return body, etag, bool(read)

    def _looked_up_by(self) -> Validators:
        if self.schedule is None:
            return self.version
        if self.cache.get(self._key("a", self.schedule.etag)) is not None:
            return self.version  # this schedule's feed shows attendance
        return self.schedule

    def validators(self) -> Validators:
        """The content ETag; renders once when this version was never seen (by this process,
        or by any with Redis). Last-Modified is when that content was first seen."""
        version = self._looked_up_by()
        known = _parse(self.cache.get(self._key("v", version.etag)))
        if known is not None:
            return known
        _, etag, read_attendance = self._render()
        if read_attendance and version is self.schedule:
            self.cache.set(self._key("a", version.etag), b"1")
            version = self.version
        # Content seen before under another version (an answer the feed does not show): keep
        # its Last-Modified, so If-Modified-Since polls get their 304 as well.
        first_seen = self.cache.get(self._key("m", etag))
        stamp = int(version.last_modified.timestamp())
        if first_seen is None or not first_seen.isdigit():
            self.cache.set(self._key("m", etag), str(stamp).encode())
        else:
            stamp = int(first_seen)
        self.cache.set(self._key("v", version.etag), f"{etag} {stamp}".encode())
        modified = datetime.fromtimestamp(stamp, UTC)
        return Validators(etag=etag, last_modified=modified)

    def body(self, etag: str, compressed: bool) -> bytes:
        """The bytes for ``etag``, gzipped when ``compressed``: from the cache, else rendered
        (an evicted entry) and kept. Plain bytes are compressed once, then kept as well."""
        if compressed:
            packed = self.cache.get(self._key("z", etag))
            if packed is not None:
                return packed
        plain = self._body if self._body is not None else self.cache.get(self._key("b", etag))
        if plain is None:
            plain, _, _ = self._render()
        if not compressed:
            return plain
        packed = gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)
        self.cache.set(self._key("z", etag), packed)
        return packed


def _parse(value: bytes | None) -> Validators | None:
    """A ``v:`` entry, or None when absent or not one (never a 500 over a cache entry)."""
    if value is None:
        return None
    etag, _, stamp = value.decode("ascii", "replace").partition(" ")
    if len(etag) != 32 or not stamp.isdigit():
        return None
    return Validators(etag=etag, last_modified=datetime.fromtimestamp(int(stamp), UTC))
