"""Feed versions known without the database: stamps moved by the writes that change them.

A poll needs the group's row (access, version) before it can answer 304. This module keeps
those rows in process and says when they went stale, so a poll whose feed did not change
costs no database round trip.

**Stamps.** Every group has two stamps and every user one, each a random nonce (never a
counter, so a lost or evicted stamp cannot come back with an old value):

* ``g:<id>`` moves on every committed write that names the group (everything that bumps
  ``Group.version``): answers included;
* ``s:<id>`` moves on those writes except the ones that only touch answers, regulars and slot
  claims (``ATTENDANCE``): the group's *schedule*. A group feed whose render did not read any
  attendance is versioned by this stamp, so an answer does not even re-render it;
* ``u:<id>`` moves when the user's row changes (token, name);
* ``all`` moves on a write the tracker cannot attribute (a membership added or removed, a
  group or user deleted, a bulk update over several groups): every entry goes stale.

**Where they live.** In Redis when ``REDIS_URL`` is set (shared by every worker and host).
Else, on a SQLite database, in a small shared-memory file beside it (``<database>.stamps``,
:class:`SharedStamps`): SQLite means one host, and every process on it (gunicorn's workers, a
separate job worker, a CLI command) maps the same pages, so a write in one moves the stamps
all of them read, at the cost of a memory read. Else (PostgreSQL without Redis, where the
workers may be on several hosts) in process, which is only trusted when the WSGI server runs a
single process (``wsgi.multiprocess`` false: werkzeug, ``gunicorn -w 1``); under several
processes a write in one would not move another's stamps, so polls read the database as before.
A stamp store that fails (Redis down) is skipped the same way.

**What moves them.** :func:`track` listens on the app's engine: every INSERT, UPDATE and
DELETE a transaction runs is noted on its connection (the table, and the group or user id of
``UPDATE groups|users ... WHERE id = ?``, or of :func:`planner.db.attribute_writes`: an
answer's transaction writes no groups row, its version bump follows the commit), and the
stamps move when the connection goes back to the pool after the COMMIT, never before it:
a poll that read a stamp before the move and the database before the commit is then stale
by one stamp and re-reads. A rollback forgets the notes. Writes through other processes that
share the database without the tracker (a ``psql`` session) are not seen: restart or flush
the stamps after them.

**Poll rows.** :func:`cached` reads a poll's rows (a group by slug, a token's group, a
token's owner and groups) through an in-process entry holding the rows, the stamps they
depend on and those stamps' values when the rows were read. The stamps are read *before* the
database, so an entry is only stored under values that were current when its read began.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import Connection, Engine, event

from planner.db import WRITES_OF_GROUPS
from planner.feeds.cache import MemoryCache, redis_url

log = logging.getLogger(__name__)

STAMPS_KEY = "planner_feed_stamps"
ROWS_KEY = "planner_feed_poll_rows"
REDIS_PREFIX = "planner:feed:stamp:"
ROWS_MAX = 20_000  # poll entries per process (a row or two each)
ALL = "all"

#: Written when someone answers: they change personal feeds, and group feeds only through a
#: plugin that reads attendance (detected at render, see :mod:`planner.feeds.delivery`).
ATTENDANCE = frozenset({"rsvps", "regulars", "claims", "planned_breaks", "presences"})
#: Never read by a feed: writing them alone moves no stamp.
NOT_IN_FEEDS = frozenset(
    {
        "outbox", "pending_notices", "mail_settings", "group_mail_settings", "comments",
        "invites", "checkin_prompts", "good_things", "alembic_version",
    }
)  # fmt: skip

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_WRITE_IN_CTE = re.compile(r'\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_BY_ID = re.compile(
    r"\bWHERE\s+(?:\"?\w+\"?\.)?\"?id\"?\s*=\s*(\?|%\((\w+)\)s)(?:::\w+)?\s*$", re.IGNORECASE
)
#: ``bump_group_version``'s statement: a version bump and nothing else.
_BUMP_ONLY = re.compile(
    r"^\s*UPDATE\s+groups\s+SET\s+version\s*=\s*\(groups\.version\s*\+\s*[^,]+?\)\s*,"
    r"\s*updated_at\s*=\s*[^,]+?\s+WHERE\s+groups\.id\s*=[^,]*$",
    re.IGNORECASE,
)
NOTES = "planner_feed_writes"
COMMITTED = "planner_feed_committed"


def group_stamps(group_id: int) -> tuple[str, str]:
    return f"g:{group_id}", f"s:{group_id}"


def user_stamp(user_id: int) -> str:
    return f"u:{user_id}"


# -- the stores -------------------------------------------------------------------------------


class Stamps(Protocol):
    def read(self, keys: Sequence[str]) -> tuple[str, ...] | None:
        """The current value of each key (a missing one is given a new value); None when the
        store cannot answer."""

    def move(self, keys: Iterable[str]) -> None: ...


def _nonce() -> str:
    return secrets.token_hex(8)


class MemoryStamps:
    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def read(self, keys: Sequence[str]) -> tuple[str, ...]:
        values = self._values
        try:
            return tuple(values[k] for k in keys)  # the common case, without the lock
        except KeyError:
            with self._lock:
                return tuple(values.setdefault(k, _nonce()) for k in keys)

    def move(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._values[key] = _nonce()


class RedisStamps:
    """One MGET per poll; a missing stamp is created with SET NX (eviction is harmless).

    A move that fails (Redis unreachable after a commit) is owed: until ``all`` has been moved
    this process reads the database for every poll, and each poll and write tries to pay.
    """

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.owed = False

    def read(self, keys: Sequence[str]) -> tuple[str, ...] | None:
        if self.owed:
            self.move(())
            if self.owed:
                return None
        names = [REDIS_PREFIX + k for k in keys]
        try:
            values = self.client.mget(names)
            if any(v is None for v in values):
                pipe = self.client.pipeline()
                for name, value in zip(names, values, strict=True):
                    if value is None:
                        pipe.set(name, _nonce(), nx=True)
                pipe.mget(names)
                values = pipe.execute()[-1]
        except Exception as exc:
            log.warning("feed stamps: redis read failed: %s", exc)
            return None
        found = [v for v in values if isinstance(v, bytes)]
        if len(found) != len(keys):
            return None
        return tuple(v.decode("ascii", "replace") for v in found)

    def move(self, keys: Iterable[str]) -> None:
        keys = {ALL, *keys} if self.owed else set(keys)
        if not keys:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.set(REDIS_PREFIX + key, _nonce())
            pipe.execute()
        except Exception as exc:
            # A stamp that did not move would let a stale row answer 304 in other workers.
            log.error("feed stamps: redis write failed, polls read the database: %s", exc)
            self.owed = True
        else:
            self.owed = False


class SharedStamps:
    """Stamps in a file every process of the host maps (``mmap``, shared pages): a SQLite
    database's processes all run on its host, so they need no Redis to agree.

    Each key hashes (CRC-32, the same in every process) to one of ``SLOTS`` 8-byte slots
    holding a random nonce, and a move writes a new nonce. Two keys that share a slot only
    make each other look stale now and then (a re-read, never a wrong answer); nonces rather
    than counters mean that two processes moving one slot at once cannot leave a value a
    reader saw before. A torn read of a slot being written is a value nobody stored: it too
    only reads as a change.
    """

    SLOTS = 1 << 16  # 512 KiB of address space; only touched pages are ever resident
    WIDTH = 8

    def __init__(self, path: str):
        import mmap

        size = self.SLOTS * self.WIDTH
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)  # zeros: a valid first value in every slot
            self._map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.path = path

    def _offset(self, key: str) -> int:
        return (zlib.crc32(key.encode()) % self.SLOTS) * self.WIDTH

    def read(self, keys: Sequence[str]) -> tuple[str, ...]:
        view, width = self._map, self.WIDTH
        return tuple(
            view[(o := self._offset(k)) : o + width].hex() for k in keys
        )

    def move(self, keys: Iterable[str]) -> None:
        for key in keys:
            offset = self._offset(key)
            self._map[offset : offset + self.WIDTH] = secrets.token_bytes(self.WIDTH)


def shared_stamps_path(app: Flask) -> str | None:
    """``<database file>.stamps`` for a SQLite file database, else None."""
    from sqlalchemy.engine import make_url

    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None  # a URI filename (shared cache, memory): no plain file beside it
    return os.path.abspath(str(url.database)) + ".stamps"


def stamps_of(app: Flask) -> Stamps:
    found: Stamps | None = app.extensions.get(STAMPS_KEY)
    if found is None:
        url = redis_url(app)
        shared = None if url else shared_stamps_path(app)
        if url:
            found = RedisStamps(url)
        elif shared:
            found = SharedStamps(shared)
        else:
            found = MemoryStamps()
        app.extensions[STAMPS_KEY] = found
    return found


def trusted_stamps(
    app: Flask | None = None, environ: dict[str, Any] | None = None
) -> Stamps | None:
    """The stamps when this request may rely on them (see the module's docstring): of ``app``
    and the WSGI ``environ`` given (the poll front, before Flask runs), else the current ones."""
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["FEED_POLL_CACHE"]:
        return None
    stamps = stamps_of(app)
    if isinstance(stamps, RedisStamps | SharedStamps):
        return stamps  # shared by every process (Redis: its read() is None while one is owed)
    if environ is None and has_request_context():
        environ = request.environ
    if environ is not None and environ.get("wsgi.multiprocess", False):
        return None
    return stamps


# -- what moves them --------------------------------------------------------------------------


@dataclass
class _Notes:
    groups: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    schedule_tables: bool = False  # something besides attendance and version bumps
    unattributed: bool = False  # a feed table written without naming a group
    everything: bool = False

    def note(self, verb: str, table: str, statement: str, parameters: Any) -> None:
        self.tables.add(table)
        if table in NOT_IN_FEEDS:
            return
        if table in ("groups", "users"):
            if verb == "INSERT":
                return  # a new row: no poll holds it yet (misses are never stored)
            found = _row_id(statement, parameters) if verb == "UPDATE" else None
            if found is None:
                self.everything = True
            elif table == "users":
                self.users.add(found)
            else:
                self.groups.add(found)
                if not _BUMP_ONLY.match(statement):
                    self.schedule_tables = True
            return
        if table == "memberships" and verb != "UPDATE":
            self.everything = True  # a token's list of groups changed
            return
        if table not in ATTENDANCE:
            self.schedule_tables = True
        self.unattributed = True

    def keys(self) -> list[str]:
        if self.everything or (self.unattributed and not self.groups):
            return [ALL]
        keys = [user_stamp(u) for u in self.users]
        for group_id in self.groups:
            every, schedule = group_stamps(group_id)
            keys.append(every)
            if self.schedule_tables:
                keys.append(schedule)
        return keys


def _row_id(statement: str, parameters: Any) -> int | None:
    """The id of ``... WHERE <table>.id = ?`` (qmark or pyformat), else None."""
    found = _BY_ID.search(statement)
    if found is None:
        return None
    try:
        value = parameters[found.group(2)] if found.group(2) else parameters[-1]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, int) else None


def _notes_of(conn: Connection) -> _Notes:
    notes: _Notes | None = conn.info.get(NOTES)
    if notes is None:
        notes = conn.info[NOTES] = _Notes()
    return notes


def _note_cte(conn: Connection, statement: str) -> None:
    """``WITH picked AS (SELECT ... FOR UPDATE) UPDATE outbox ...``: a write to a table no feed
    reads moves nothing; any other moves ``all`` (its rows cannot be told from the text)."""
    for write in _WRITE_IN_CTE.finditer(statement):
        before = statement[: write.start()].rstrip().upper()
        table = write.group(2).lower()
        if before.endswith("FOR") or table in NOT_IN_FEEDS:
            continue
        _notes_of(conn).everything = True


def track(app: Flask, engine: Engine) -> None:
    """Move the stamps after each committed transaction on ``engine`` that changes feeds."""

    def before_cursor_execute(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
        executemany: bool,
    ) -> None:
        found = _WRITE.match(statement)
        if found is None:
            if statement.lstrip()[:4].upper() == "WITH":
                _note_cte(conn, statement)
            return
        notes = _notes_of(conn)
        verb = found.group(1).split()[0].upper()
        if executemany and verb == "UPDATE":
            notes.everything = True
            return
        notes.note(verb, found.group(2).lower(), statement, parameters)

    def commit(conn: Connection) -> None:
        notes = conn.info.pop(NOTES, None)
        groups = conn.info.pop(WRITES_OF_GROUPS, None)
        if notes is not None:
            if groups:
                notes.groups.update(groups)  # an answer's rows, its group named by the caller
            conn.info.setdefault(COMMITTED, []).extend(notes.keys())

    def rollback(conn: Connection) -> None:
        conn.info.pop(NOTES, None)
        conn.info.pop(WRITES_OF_GROUPS, None)

    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info.pop(NOTES, None)  # never committed: the pool rolls it back
        record.info.pop(WRITES_OF_GROUPS, None)
        keys = record.info.pop(COMMITTED, None)
        if keys:
            stamps_of(app).move(set(keys))

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    event.listen(engine, "checkin", checkin)


# -- poll rows --------------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Entry:
    value: Any
    deps: tuple[str, ...]
    values: tuple[str, ...]


#: Where a request notes the stamps its poll rows were current under (the poll front's entry).
VOUCHED = "planner.poll_stamps"


def _vouch(entry: _Entry) -> None:
    """Tell :mod:`planner.web.poll_front` which stamps, at which values, this response's rows
    were read under: while they hold, the same request gets the same response."""
    if has_request_context():
        request.environ[VOUCHED] = ((ALL, *entry.deps), entry.values)


def vouched(environ: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    found = environ.get(VOUCHED)
    return cast(tuple[tuple[str, ...], tuple[str, ...]], found) if found else None


def _rows(app: Flask) -> MemoryCache[Any]:
    found: MemoryCache[Any] | None = app.extensions.get(ROWS_KEY)
    if found is None:
        found = app.extensions[ROWS_KEY] = MemoryCache[Any](ROWS_MAX, measure=lambda _: 1)
    return found


def cached(
    key: str,
    load: Callable[[], T | None],
    deps_of: Callable[[Any], tuple[str, ...]],
    finish: Callable[[T, dict[str, str] | None], R],
) -> R | None:
    """``finish(load(), stamps)`` (one database read), or an entry's still current; ``stamps``
    are the values of the stamps the rows depend on (None when stamps are not trusted).
    ``finish`` runs once per entry, not once per poll."""
    stamps = trusted_stamps()
    if stamps is None:
        value = load()
        return None if value is None else finish(value, None)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rows = _rows(app)
    entry: _Entry | None = rows.get(key)
    hint: tuple[str, ...] | None = entry.deps if entry is not None else rows.get("hint:" + key)
    values: tuple[str, ...] | None = None
    if hint is not None:
        values = stamps.read((ALL, *hint))
        if values is None:
            value = load()
            return None if value is None else finish(value, None)
        if entry is not None and entry.values == values:
            _vouch(entry)
            return cast(R, entry.value)
    value = load()
    if value is None:
        return None
    deps = deps_of(value)
    if values is not None and deps == hint:
        final = finish(value, dict(zip(deps, values[1:], strict=True)))
        entry = _Entry(final, deps, values)
        rows.set(key, entry)
        _vouch(entry)
        return final
    # First sight (or its stamps changed): remember what to read before the database next
    # time, and store nothing now, as these stamps were read after the rows. They still version
    # this request's render, which reads the database after them.
    rows.set("hint:" + key, deps)
    late = stamps.read((ALL, *deps))
    return finish(value, None if late is None else dict(zip(deps, late[1:], strict=True)))
