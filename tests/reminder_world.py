"""Shared pieces of the reminder tests: a settable clock, rows written directly, and reading
the outbox back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from planner.mail.delivery import deliver_due
from planner.mail.queue import run_jobs
from planner.models import MailSettings, OutboxMessage, Regular, Rsvp


@dataclass
class Clock:
    """``app.config["CLOCK"]``: naive UTC, moved by the test (never a sleep)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def set_clock(app, when: datetime) -> Clock:
    clock = app.config.get("CLOCK")
    if not isinstance(clock, Clock):
        clock = Clock(when)
        app.config["CLOCK"] = clock
    clock.now = when
    return clock


def tick(app, when: datetime):
    """The clock at ``when``, every periodic job once, then delivery: one worker's minute."""
    set_clock(app, when)
    run_jobs(app)
    return deliver_due(app)


def say(db, routine, user, status, when=None, guests=0):
    db.add(Rsvp(routine_id=routine.id, original_start=when or routine.start, user_id=user.id,
                status=status, guests=guests))
    db.commit()


def regular(db, routine, user):
    db.add(Regular(routine_id=routine.id, user_id=user.id))
    db.commit()


def settings(db, user, **values):
    row = db.get(MailSettings, user.id) or MailSettings(user_id=user.id, comments=False)
    for name, value in values.items():
        setattr(row, name, value)
    db.add(row)
    db.commit()


def rows(db, kind=None):
    db.rollback()  # a fresh snapshot: the scan and the worker commit on their own sessions
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.scalars(query))


def sent(db, kind=None):
    return [r for r in rows(db, kind) if r.state == "sent"]
