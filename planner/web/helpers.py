"""What several blueprints need from a request: who is looking, which routine and occurrence a
URL names, where to go back to, how a failed button form reads.

Kept out of the view modules so that no view imports another: each blueprint depends only on
this module, the forms and the domain packages.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import HiddenField

from planner.db import get_session
from planner.groups.access import GroupAccess, member_routine, organizer_access
from planner.models import Routine, User
from planner.routines.occurrences import load_routine, occurrence_or_404
from planner.scheduling import recurrence
from planner.web.i18n import PlannerForm
from planner.web.redirects import safe_redirect

#: The session key of an invite opened while logged out, joined right after login.
PENDING_INVITE = "pending_invite"
#: The session key of the password fingerprint (:func:`planner.accounts.people.password_stamp`).
AUTH_STAMP = "auth_stamp"
#: The session key of the account's session token (``User.session_token``).
SESSION_TOKEN = "session_token"


class NextForm(PlannerForm):
    """A button-only form: CSRF token and where to go back to."""

    next = HiddenField()


def viewer() -> User | None:
    """The logged-in person or None; the real object, not the request-bound proxy, because
    plugins may keep it."""
    if not current_user.is_authenticated:
        return None
    user: User = current_user._get_current_object()
    return user


def back(form: FlaskForm, fallback: str) -> Response:
    """Back where the button was pressed (its ``next`` field), else ``fallback``."""
    return safe_redirect(form.next.data if "next" in form else None, fallback)


def expired(form: FlaskForm) -> bool:
    """True when the CSRF token was the problem (only present when CSRF is on)."""
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def form_error(form: FlaskForm) -> str:
    # Validator messages may be lazy strings: str() makes them text in the request's language.
    return " ".join(str(e) for errors in form.errors.values() for e in errors) or gettext(
        "Invalid form."
    )


def occurrence_path(slug: str, routine_id: int, key: str) -> str:
    """The occurrence page (URL shape fixed by the design: ``/g/<slug>/r/<id>/<key>``)."""
    return f"{request.script_root}/g/{slug}/r/{routine_id}/{key}"


def occurrence_url(slug: str, routine: Routine, key: str) -> str:
    return url_for("events.show", slug=slug, routine_id=routine.id, key=key)


def load(
    slug: str, routine_id: int, key: str | None = None
) -> tuple[GroupAccess, Session, Routine, Any]:
    """The member's group, the routine and (with ``key``) the occurrence, or 404/403."""
    access, routine = member_routine(slug, routine_id)
    occurrence = occurrence_or_404(routine, key) if key is not None else None
    return access, get_session(), routine, occurrence


def organizer_routine(slug: str, routine_id: int) -> tuple[GroupAccess, Session, Routine]:
    """The access, session and routine for an organizer's page: 404 when the group is hidden
    from the person or the routine is not the group's, 403 for a plain member."""
    access = organizer_access(slug)
    session = get_session()
    return access, session, load_routine(session, access.group, routine_id)


def organizer_occurrence(
    slug: str, routine_id: int, key: str
) -> tuple[GroupAccess, Session, Routine, recurrence.Occurrence]:
    access, session, routine = organizer_routine(slug, routine_id)
    return access, session, routine, occurrence_or_404(routine, key)
