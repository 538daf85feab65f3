"""The belonging room's periodic jobs: kind check-ins (mail, so registered from ``notify``) and
the expiry of history older than ``PLANNER_HISTORY_MONTHS``."""

from __future__ import annotations

from flask import Flask

from planner.belonging import expiry
from planner.mail.delivery import clock
from planner.mail.queue import add_job
from planner.notify import checkin_mail


def expire_history(app: Flask) -> int:
    from planner.db import get_session

    session = get_session()
    gone = expiry.expire(session, clock(app), int(app.config["HISTORY_MONTHS"]))
    session.commit()
    return gone


def init_app(app: Flask) -> None:
    add_job(app, "checkins", checkin_mail.scan)
    add_job(app, "history-expiry", expire_history)
