"""Delivering due outbox rows: claim a batch with a lease, send one at a time, stamp each.

Why this shape:

- **Claim with a lease.** One ``UPDATE ... WHERE claimable`` marks a batch as this worker's until
  ``now + PLANNER_MAIL_LEASE_SECONDS``. The claimable test is repeated in the outer ``WHERE``,
  so two workers racing for a row (PostgreSQL re-checks it after the row lock; SQLite has one
  writer) never both get it.
- **Commit after every message.** A worker killed mid-batch has stamped everything it sent, and
  its unsent claims expire with the lease: only the message in flight (sent, not yet stamped)
  can go out twice. That is the documented bound (docs/mail.md).
- **Re-checked at send time.** A kind may register a check (:func:`add_check`): a reminder
  queued at 18:00 for a date cancelled at 18:01 is dropped (state ``dropped``, the reason in
  ``last_error``) by a worker that only gets to it later, instead of being sent.
- **Backoff in the row.** A temporary failure sets ``due_at`` ``base * 2**(attempts-1)`` ahead
  (capped); after ``PLANNER_MAIL_MAX_ATTEMPTS`` the row is failed. A 5xx fails it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from planner.clock import naive_now
from planner.db import database
from planner.mail.backends import Backend, EmlBackend, Permanent, SmtpBackend, Temporary
from planner.mail.message import build
from planner.models import OutboxMessage

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED, DROPPED = "queued", "sent", "failed", "dropped"

#: A send-time check: the reason this row should no longer go (``None``: send it). It runs in
#: the worker, with the worker's session, just before the message is built.
Check = Callable[[Session, OutboxMessage, datetime], "str | None"]


def add_check(app: Flask, kind: str, check: Check) -> None:
    """Re-ask ``check`` before sending any row of ``kind`` (registered by the room that queues
    that kind, so ``mail`` never imports it)."""
    app.extensions.setdefault("planner_mail_checks", {})[kind] = check


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.dropped


def clock(app: Flask) -> datetime:
    """Naive UTC now, or the app's injected ``CLOCK`` (tests drive time with it, never sleep)."""
    return naive_now(app)


def mail_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "mail"


def make_backend(app: Flask) -> Backend:
    url = app.config.get("SMTP_URL")
    if url:
        return SmtpBackend(url, ca_file=app.config.get("SMTP_CA_FILE"))
    return EmlBackend(mail_folder(app))


def backoff(app: Flask, attempts: int) -> timedelta:
    base = float(app.config["MAIL_RETRY_SECONDS"])
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _claimable(now: datetime) -> Any:
    return (
        (OutboxMessage.state == QUEUED)
        & (OutboxMessage.due_at <= now)
        & or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    )


def claim(session: Session, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for this worker (committed before anything is sent)."""
    inner = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # A CTE, not ``IN (subquery)``: PostgreSQL may run a LIMIT ... SKIP LOCKED subquery of
        # an UPDATE more than once and so claim more than ``limit`` rows; a CTE runs once.
        picked = inner.with_for_update(skip_locked=True).cte("picked")
        chosen: Any = OutboxMessage.id == picked.c.id
    else:
        chosen = OutboxMessage.id.in_(inner.scalar_subquery())
    ids = list(
        session.scalars(
            update(OutboxMessage)
            .where(chosen, _claimable(now))
            .values(claimed_until=now + lease)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    session.commit()
    if not ids:
        return []
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    )
    found = list(rows)
    session.commit()
    return found


def _finish(session: Session, row_id: int, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(claimed_until=None, attempts=OutboxMessage.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def deliver_due(
    app: Flask,
    now: datetime | None = None,
    limit: int | None = None,
    backend: Backend | None = None,
) -> Report:
    """Deliver every row due at ``now`` (batch after batch, up to ``limit`` rows in all)."""
    report = Report()
    own_backend = backend is None
    backend = backend or make_backend(app)
    batch = int(app.config["MAIL_BATCH_SIZE"])
    lease = timedelta(seconds=int(app.config["MAIL_LEASE_SECONDS"]))
    # One connection for the whole run: a session per commit would give the connection back
    # after every message, and a pool that closes it (overflow, or no pool) makes SQLite
    # checkpoint the WAL when the file's last connection closes.
    connection = database(app).engine.connect()
    session = Session(bind=connection, expire_on_commit=False)
    try:
        while limit is None or report.handled < limit:
            moment = now or clock(app)
            want = batch if limit is None else min(batch, limit - report.handled)
            rows = claim(session, moment, lease, want)
            if not rows:
                break
            down: str | None = None
            for row in rows:
                if down is not None:
                    # The server is unreachable: the rest of the batch waits, without trying.
                    outcome = _retry(app, session, row, moment, down)
                else:
                    outcome, down = _deliver_one(app, session, backend, row, moment)
                setattr(report, outcome, getattr(report, outcome) + 1)
    finally:
        session.close()
        connection.close()
        if own_backend:
            backend.close()
    return report


def _retry(app: Flask, session: Session, row: OutboxMessage, now: datetime, error: str) -> str:
    attempts = row.attempts + 1
    if attempts >= int(app.config["MAIL_MAX_ATTEMPTS"]):
        log.error("mail %s to %s failed for good after %s attempts: %s",
                  row.id, row.recipient, attempts, error)
        _finish(session, row.id, state=FAILED, last_error=error)
        return "failed"
    log.warning("mail %s to %s will be retried: %s", row.id, row.recipient, error)
    _finish(session, row.id, due_at=now + backoff(app, attempts), last_error=error)
    return "retried"


def _deliver_one(
    app: Flask, session: Session, backend: Backend, row: OutboxMessage, now: datetime
) -> tuple[str, str | None]:
    """Send one row; returns the outcome and, when the server is unreachable, the error."""
    check: Check | None = app.extensions.get("planner_mail_checks", {}).get(row.kind)
    if check is not None:
        reason = check(session, row, now)
        session.commit()  # the check's reads end their transaction before the send
        if reason:
            log.info("mail %s (%s) to %s dropped: %s", row.id, row.kind, row.recipient, reason)
            _finish(session, row.id, state=DROPPED, last_error=reason)
            return "dropped", None
    message = build(
        row,
        app.config["MAIL_FROM"],
        app.config["SITE_NAME"],
        app.config["FEED_UID_DOMAIN"],
    )
    try:
        plugins = app.extensions.get("planner")
        taken = None
        if plugins is not None:
            taken = plugins.hook.deliver_mail(
                message=message, kind=row.kind, recipient=row.recipient
            )
        path = "" if taken else backend.send(message, f"{row.id:08d}-{row.kind}")
    except Permanent as exc:
        log.error("mail %s to %s refused: %s", row.id, row.recipient, exc)
        _finish(session, row.id, state=FAILED, last_error=str(exc))
        return "failed", None
    except Temporary as exc:
        error = str(exc)
        unreachable = error.startswith("cannot reach")
        return _retry(app, session, row, now, error), (error if unreachable else None)
    if path:
        log.info("mail %s (%s) written to %s", row.id, row.kind, path)
    _finish(session, row.id, state=SENT, sent_at=now, last_error="", path=path or row.path)
    return "sent", None


def recent(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The newest rows, for ``planner outbox``."""
    return list(
        session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    )
