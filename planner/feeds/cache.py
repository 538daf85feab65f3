"""Rendered feed bytes, cached per feed and version.

The key already says which version of which feed it holds (the ETag token, see
:mod:`planner.feeds.sources`), so nothing is ever invalidated: a change makes a new key and the
old entry ages out. That is why an in-process cache is safe even with several workers (each
renders a version at most once) and why Redis is only an optimisation that lets workers and
hosts share renders (``PLANNER_REDIS_URL``, or ``REDIS_URL`` in the environment).

A cache that fails (Redis down) is logged and skipped: the feed is rendered instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "planner_feed_cache"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
REDIS_TTL_SECONDS = 7 * 24 * 3600
REDIS_PREFIX = "planner:feed:"
V = TypeVar("V")


class FeedCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class MemoryCache(Generic[V]):
    """A thread-safe LRU bounded by total bytes (a few large feeds cannot eat the worker).

    ``measure`` gives an entry's size in bytes: ``len`` for feed bytes; the page cache
    (:mod:`planner.web.page_cache`) stores pages as pieces and measures their sum.
    """

    def __init__(
        self, max_bytes: int = DEFAULT_MAX_BYTES, measure: Callable[[Any], int] = len
    ) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._measure = measure
        self._items: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: V) -> None:
        size = self._measure(value)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= self._measure(old)
            self._items[key] = value
            self.size += size
            while self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= self._measure(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


class RedisCache:
    """Shared across workers and hosts; entries expire after a week unless read again.

    ``near``, when given, is an in-process layer in front of Redis: keys name what they hold
    and are never rewritten with other contents, so a value once read from Redis can be kept,
    and a warm poll makes no Redis round trip for bytes it has already seen.
    """

    def __init__(
        self, url: str, ttl: int = REDIS_TTL_SECONDS, near: MemoryCache[bytes] | None = None
    ):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl = ttl
        self.near = near

    def get(self, key: str) -> bytes | None:
        if self.near is not None:
            found = self.near.get(key)
            if found is not None:
                return found
        try:
            value = self.client.get(REDIS_PREFIX + key)
        except Exception as exc:  # redis down: render instead of failing the request
            log.warning("feed cache: redis get failed: %s", exc)
            return None
        if not isinstance(value, bytes):  # absent, or a client with decode_responses
            return None
        if self.near is not None:
            self.near.set(key, value)
        return value

    def set(self, key: str, value: bytes) -> None:
        if self.near is not None:
            self.near.set(key, value)
        try:
            self.client.set(REDIS_PREFIX + key, value, ex=self.ttl)
        except Exception as exc:
            log.warning("feed cache: redis set failed: %s", exc)


def redis_url(app: Flask) -> str | None:
    return app.config.get("REDIS_URL") or os.environ.get("REDIS_URL") or None


def make_cache(app: Flask) -> FeedCache:
    url = redis_url(app)
    if url:
        return RedisCache(url, near=MemoryCache[bytes](int(app.config["FEED_CACHE_MAX_BYTES"])))
    return MemoryCache[bytes](int(app.config["FEED_CACHE_MAX_BYTES"]))


def feed_cache() -> FeedCache:
    """The app's feed cache, created on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: FeedCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions[EXTENSION] = make_cache(app)
    return cache
