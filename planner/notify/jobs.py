"""The notify room's periodic jobs and send-time checks, registered while the app is built.

Each job runs once a minute on the queue's consumer (``planner worker``, or in-process with
``make run``), reads the injected clock and is idempotent: it may run late, twice, or on two
workers at once, and the outbox's dedupe keys keep every mail single.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from planner.mail.queue import add_job  # noqa: F401  (used as the jobs land)
    from planner.notify import notices

    add_job(app, "notices", notices.flush)

    # Each sender registers its job and its send-time check here:
    #   add_job(app, "reminders", reminders.scan); add_check(app, "reminder", reminders.check)
    #   add_job(app, "notices", notices.flush)
