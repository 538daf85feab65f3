"""The notify room's periodic jobs and send-time checks, registered while the app is built.

Each job runs once a minute on the queue's consumer (``planner worker``, or in-process with
``make run``), reads the injected clock and is idempotent: it may run late, twice, or on two
workers at once, and the outbox's dedupe keys keep every mail single.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from planner.mail.delivery import add_check
    from planner.mail.queue import add_job
    from planner.notify import digest, notices, reminders

    add_job(app, "reminders", reminders.scan)
    add_check(app, reminders.REMINDER, reminders.check)
    add_check(app, reminders.ASK, reminders.check)
    add_job(app, "digest", digest.scan)
    add_check(app, digest.KIND, digest.check)
    add_job(app, "notices", notices.flush)
