"""The occurrence lock: count-checking writes of one occurrence never overlap.

Writes that depend on counts (answers, regulars, slot claims, a changed capacity) run under
:func:`occurrence_lock` (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL), so each response and each ``rsvp_changed`` notification describes the state that
was really committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from planner.db import LOCK_WAIT, immediate

#: The longest a count-checking write waits for its lock when the session does not say
#: (:data:`planner.db.LOCK_WAIT`, set from ``DATABASE_BUSY_TIMEOUT``, the bound SQLite uses).
LOCK_TIMEOUT = "10s"
# Namespace of the per-routine advisory lock (one 64-bit key); the per-occurrence lock uses the
# separate two-int key space (routine id, minutes since 2000), so the two never collide.
ROUTINE_LOCK_NAMESPACE = 0x504C4E52 << 32  # "PLNR"
EPOCH = datetime(2000, 1, 1)


_ROUTINE_LOCK = text("SELECT set_config('lock_timeout', :t, true), pg_advisory_xact_lock(:k)")
_OCCURRENCE_LOCK = text(
    "SELECT set_config('lock_timeout', :t, true), pg_advisory_xact_lock_shared(:k), "
    "pg_advisory_xact_lock(:a, :b)"
)


class Busy(Exception):
    """Someone else held the occurrence too long; the person should simply try again."""


def _is_lock_failure(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    if code in ("55P03", "40P01", "40001"):  # lock_not_available, deadlock, serialization
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _minutes(original_start: datetime) -> int:
    return int((original_start - EPOCH).total_seconds() // 60)


@contextmanager
def occurrence_lock(
    session: Session,
    routine_id: int,
    original_start: datetime | None = None,
    *,
    after_reads: bool = False,
) -> Iterator[Session]:
    """A write transaction that no other count-checking write of the same occurrence overlaps.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock up front (busy_timeout bounds
    the wait). PostgreSQL: ``lock_timeout`` (the same ``DATABASE_BUSY_TIMEOUT``) bounds the
    wait, then a shared lock on the routine
    and an exclusive lock on the occurrence (two-int key: routine id, minutes since 2000). With
    ``original_start=None`` the routine lock is exclusive: joining or leaving as a regular
    touches every occurrence at once. Both locks end with the transaction. A lock wait that
    times out raises :class:`Busy`; everything inside rolls back.

    On PostgreSQL the timeout and the locks are one statement (one round trip): its select list
    is evaluated left to right, so the timeout is set before either lock is waited for. The
    statements inside the block run after it, each with a snapshot taken once the lock is held.
    ``after_reads``: see :func:`planner.db.immediate` (the open transaction has only read).
    """
    try:
        with immediate(session, after_reads=after_reads):
            if session.get_bind().dialect.name == "postgresql":
                routine_key = ROUTINE_LOCK_NAMESPACE | routine_id
                conn = session.connection()
                wait = session.info.get(LOCK_WAIT, LOCK_TIMEOUT)
                if original_start is None:
                    conn.execute(_ROUTINE_LOCK, {"t": wait, "k": routine_key})
                else:
                    conn.execute(
                        _OCCURRENCE_LOCK,
                        {"t": wait, "k": routine_key, "a": routine_id,
                         "b": _minutes(original_start)},
                    )  # fmt: skip
            yield session
    except OperationalError as error:
        if _is_lock_failure(error):
            raise Busy(str(error.orig)) from error
        raise
