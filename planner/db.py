"""Engine, a session per application context, and the declarative ``Base``.

The request owns the session: it is created on first use inside an app context and closed on
teardown, so no state outlives a request and any number of workers can share one database.

On SQLite a request that may write (any method but GET, HEAD and OPTIONS) begins its
transaction ``IMMEDIATE``. A deferred transaction that reads and then writes cannot wait for the
lock: SQLite refuses its upgrade at once ("database is locked"), whatever the busy timeout, so
concurrent sign-ups and joins failed. Taking the write lock at the first statement makes such a
request queue behind the busy timeout instead. When even that runs out the error is an
:class:`~sqlalchemy.exc.OperationalError`, which the error pages turn into a 503 with
``Retry-After``: the transaction was rolled back, so nothing was half-saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]


#: Seconds, unless the config says otherwise (``DATABASE_*_TIMEOUT``).
#: The busy timeout bounds every wait for a write lock: SQLite's database lock, and the
#: occurrence lock on PostgreSQL. Ten seconds, not five: 200 people answering one occurrence
#: at once queue behind every worker thread's lock holder, and on a loaded 2-core host a
#: five-second bound turned some of them into "try again" pages; waiting is what they want.
BUSY_TIMEOUT = 10
CONNECT_TIMEOUT = 5
STATEMENT_TIMEOUT = 30
#: ``Session.info`` key: the PostgreSQL ``lock_timeout`` of the occurrence lock ("10s"),
#: from ``DATABASE_BUSY_TIMEOUT`` (:mod:`planner.joining.locks`).
LOCK_WAIT = "planner_lock_wait"
#: Methods that never write: their transactions stay deferred (readers never wait on SQLite).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(
    url: str,
    *,
    busy_timeout: float = BUSY_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
    **kwargs: Any,
) -> Engine:
    """Create an engine with the per-backend settings the app relies on.

    Every wait is bounded, so a database that is down, locked or not a database at all gives an
    error within seconds instead of hanging a worker: the busy timeout on SQLite, and on
    PostgreSQL a connect timeout, a statement timeout and a ping before a pooled connection is
    reused (a restarted server otherwise fails the first request of every worker).
    """
    if url.startswith("sqlite"):
        # Pooled: opening a file and running the PRAGMAs below was a third of a cached page
        # (0.6 of 1.8 ms). Nothing leaks between requests: the PRAGMAs are the same for every
        # connection, the BEGIN mode is an option of the SQLAlchemy Connection, not of the
        # file handle, and a connection goes back to the pool rolled back. The overflow is
        # unbounded because a SQLite connection is cheap and waits belong to busy_timeout.
        kwargs.setdefault("poolclass", QueuePool)
        if kwargs["poolclass"] is QueuePool:
            kwargs.setdefault("pool_size", 8)
            kwargs.setdefault("max_overflow", -1)
        kwargs.setdefault(
            "connect_args", {"timeout": busy_timeout, "check_same_thread": False}
        )
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, int(busy_timeout * 1000))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", max(1, round(connect_timeout)))
        # Appended to what the URL's own ``options`` say (a search_path, say), never instead.
        given = make_url(url).query.get("options", "")
        limit = f"-c statement_timeout={int(statement_timeout * 1000)}"
        given = given if isinstance(given, str) else " ".join(given)
        connect_args.setdefault("options", f"{given} {limit}".strip())
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    """WAL, foreign keys, and SQLAlchemy's documented pysqlite transaction recipe.

    pysqlite's own transaction handling defers BEGIN until the first write, which makes
    ``SELECT ... then INSERT`` races invisible. Taking over BEGIN lets a capacity check start
    with ``BEGIN IMMEDIATE`` (see :func:`immediate`), the SQLite equivalent of a row lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        busy_timeout=float(app.config["DATABASE_BUSY_TIMEOUT"]),
        connect_timeout=float(app.config["DATABASE_CONNECT_TIMEOUT"]),
        statement_timeout=float(app.config["DATABASE_STATEMENT_TIMEOUT"]),
        **app.config.get("ENGINE_OPTIONS", {}),
    )
    wait = f"{round(float(app.config['DATABASE_BUSY_TIMEOUT']) * 1000)}ms"
    app.extensions["planner_db"] = Database(
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False, info={LOCK_WAIT: wait}),
    )

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["planner_db"]


def get_session() -> Session:
    """The current app context's session, created on first use."""
    if "db_session" not in g:
        found = database()
        writes = has_request_context() and request.method not in READ_METHODS
        if writes and found.engine.dialect.name == "sqlite":
            writing = found.engine.execution_options(sqlite_begin="IMMEDIATE")
            g.db_session = found.sessions(bind=writing)
        else:
            g.db_session = found.sessions()
    return g.db_session


#: ``Connection.info`` key: the groups a transaction's writes belong to when none of its
#: statements names one (an answer: its group's version is bumped after it commits, see
#: :func:`planner.models.bump_group_version_after`). :mod:`planner.feeds.versions` reads it.
WRITES_OF_GROUPS = "planner_writes_of_groups"


def attribute_writes(session: Session, group_id: int) -> None:
    """Say that the open transaction's writes belong to ``group_id``: trackers of writes
    (the feeds' stamps) then move that group's entries on commit, not everyone's."""
    session.connection().info.setdefault(WRITES_OF_GROUPS, set()).add(group_id)


@contextmanager
def immediate(session: Session, *, after_reads: bool = False) -> Iterator[Session]:
    """Run a write that must see a stable snapshot (capacity, slots) in its own transaction.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE`` so a second writer waits instead
    of reading stale counts; on PostgreSQL callers add a row or advisory lock inside the block.
    Commits on success, rolls back on error.

    ``after_reads``: the caller promises the open transaction has only read. On PostgreSQL it
    then goes on instead of being committed first: under READ COMMITTED each statement after
    the caller's lock sees a fresh snapshot anyway, and a commit there would cost a COMMIT, the
    connection's trip back to the pool (a ping when it is checked out again) and a BEGIN.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if session.in_transaction() and (sqlite or not after_reads):
        session.commit()
    if sqlite:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
