"""The poll front: a calendar app's repeated poll answered before Flask runs.

Calendar apps poll every feed they hold every few minutes, and almost every poll finds it
unchanged. The feed views already answer those polls without the database (the rows come from
:mod:`planner.feeds.versions` while their stamps hold, the bytes from the byte cache), but each
still pays for Flask: the request context, the session, Babel, Talisman, the after-request
hooks; together more than the rest of the poll. This WSGI middleware remembers the last
response of each feed URL together with the stamps (and their values) its rows were read
under, which the view vouches for (:func:`planner.feeds.versions.vouched`), and while those
stamps still hold, it replays that response: the same status, headers and bytes that Flask
would send again, because every input of that response is in the entry's key or its stamps.

* **The key** is what the response depends on besides the stamps: the scheme and host (the
  feed's links), the path and query, and whether the client takes gzip. Requests that carry a
  ``Cookie`` (a browser, whose session changes headers), a method other than GET, an
  ``Accept-Encoding`` with q-values or an ``If-Modified-Since`` alone go to Flask, as does any
  ``If-None-Match`` that is not exactly the entry's ETag.
* **Freshness** is the view's own test: the stamps are read (a memory read on SQLite, one
  ``MGET`` with Redis) and compared with the values the rows were read under; the UTC day is
  compared too, as the feed window moves at midnight. Anything else, a revoked token, a group
  made private, a member who left, moves a stamp (the same stamps that let the view skip the
  database), so the next poll goes to Flask, which answers 404 or the new feed.
* **Only 200 and 304** responses without ``Set-Cookie`` are kept, and only those the view
  vouched for; a front whose stamps are not trusted (PostgreSQL without Redis under several
  processes) keeps nothing, as the view would read the database anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from planner.feeds import versions
from planner.feeds.cache import MemoryCache

PREFIX = "/feeds/"
EXTENSION = "planner_poll_front"
MAX_BYTES = 32 * 1024 * 1024  # replies per process (their bodies, mostly gzipped)
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Reply:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    keys: tuple[str, ...]  # the stamps the rows were read under ...
    values: tuple[str, ...]  # ... and their values then
    day: int  # the UTC day (days since the epoch): the feed window's


def _today() -> int:
    return datetime.now(UTC).toordinal()


def _takes_gzip(header: str) -> bool | None:
    """As the feed view decides (``_accepts_gzip``) for headers without q-values; None for
    the rest, which the front leaves to Flask."""
    if ";" in header:
        return None
    return any(part.strip().lower() in ("gzip", "*") for part in header.split(","))


def _key(environ: dict[str, Any]) -> str | None:
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ:
        return None
    gzip = _takes_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    if gzip is None:
        return None
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return (
        f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"
        f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}|{int(gzip)}"
    )


class PollFront:
    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]):
        self.app = app
        self.inner = inner
        self.replies = MemoryCache[Reply](MAX_BYTES, measure=lambda r: len(r.body) + 512)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.inner(environ, start_response)
        key = _key(environ)
        if key is None:
            return self.inner(environ, start_response)
        wanted = self._wanted(environ)
        if wanted is None:
            return self.inner(environ, start_response)
        reply = self.replies.get(f"{wanted}:{key}")
        if reply is not None and self._current(reply, environ):
            start_response(reply.status, list(reply.headers))
            return [reply.body]
        return self._through(environ, start_response, key)

    @staticmethod
    def _wanted(environ: dict[str, Any]) -> str | None:
        """``200`` for a plain GET, ``304:<etag>`` for one that sends the ETag it holds; None
        for other conditional requests."""
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            return f"304:{if_none_match}"
        if "HTTP_IF_MODIFIED_SINCE" in environ:
            return None
        return "200"

    def _current(self, reply: Reply, environ: dict[str, Any]) -> bool:
        if reply.day != _today():
            return False
        stamps = versions.trusted_stamps(self.app, environ)
        return stamps is not None and stamps.read(reply.keys) == reply.values

    def _through(
        self, environ: dict[str, Any], start_response: StartResponse, key: str
    ) -> Iterable[bytes]:
        """Flask answers; a vouched 200 or 304 is remembered for the next poll."""
        day = _today()
        seen: dict[str, Any] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        result = self.inner(environ, recording)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._remember(environ, key, day, seen, body)
        return [body]

    def _remember(
        self, environ: dict[str, Any], key: str, day: int, seen: dict[str, Any], body: bytes
    ) -> None:
        found = versions.vouched(environ)
        status: str = seen.get("status", "")
        headers: list[tuple[str, str]] = seen.get("headers", [])
        if found is None or status[:3] not in ("200", "304"):
            return
        names = {name.lower(): value for name, value in headers}
        if "set-cookie" in names:
            return
        etag = names.get("etag")
        if status.startswith("304"):
            if etag is None or environ.get("HTTP_IF_NONE_MATCH") != etag:
                return  # a 304 for another ETag in the list, or by date: not replayable
            wanted = f"304:{etag}"
        elif "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
            return  # a 200 to a conditional request: the plain GET's entry comes from one
        else:
            wanted = "200"
        keys, values = found
        self.replies.set(
            f"{wanted}:{key}", Reply(status, list(headers), body, keys, values, day)
        )


def init_app(app: Flask) -> None:
    """Put the front in before any proxy fix wraps the app, so it sees the forwarded scheme
    and host the feed's links are built from. ``PLANNER_FEED_POLL_CACHE=false`` turns it off
    with the rest of the poll cache: the views then vouch for nothing."""
    front = app.extensions[EXTENSION] = PollFront(app, app.wsgi_app)
    app.wsgi_app = front  # type: ignore[method-assign]
