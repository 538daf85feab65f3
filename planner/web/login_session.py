"""Starting a logged-in session: shared by log-in, sign-up and a password reset."""

from __future__ import annotations

from flask import session
from flask_login import login_user

from planner.accounts.people import issue_session_token, password_stamp
from planner.db import get_session
from planner.models import User
from planner.web.helpers import AUTH_STAMP, PENDING_INVITE, SESSION_TOKEN


def start_session(user: User) -> None:
    """A fresh session for ``user``, keeping only a pending invite across the reset."""
    pending = session.get(PENDING_INVITE)
    session.clear()
    login_user(user)
    session[AUTH_STAMP] = password_stamp(user)
    session[SESSION_TOKEN] = issue_session_token(get_session(), user)
    if pending:
        session[PENDING_INVITE] = pending
