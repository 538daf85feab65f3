"""Answering an occurrence (going, maybe, can't go, with guests) and joining as a regular.

Every answer goes through :func:`planner.joining.answers.answer`, which checks capacity under the
occurrence lock; this module turns its outcome into a flash message and a redirect back, and a
refusal into a message with nothing changed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from planner.db import get_session
from planner.groups.access import member_access
from planner.joining import answers
from planner.routines.occurrences import load_routine, occurrence_or_404

bp = Blueprint("rsvps", __name__)

WITHDRAW = "withdraw"


class AnswerForm(FlaskForm):
    status = StringField(
        "Answer",
        validators=[
            InputRequired("Choose going, maybe or can't go."),
            AnyOf((*answers.ANSWERS, WITHDRAW), message="Choose going, maybe or can't go."),
        ],
    )
    guests = IntegerField(
        "Guests",
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=1000, message="Guests must be a number from 0 up."),
        ],
    )
    next = HiddenField()


class NextForm(FlaskForm):
    """A button-only form: CSRF token and where to go back to."""

    next = HiddenField()


def occurrence_path(slug: str, routine_id: int, key: str) -> str:
    """The occurrence page (URL shape fixed by the design: ``/g/<slug>/r/<id>/<key>``)."""
    return f"{request.script_root}/g/{slug}/r/{routine_id}/{key}"


def safe_next(value: str | None, fallback: str) -> str:
    """A local path to return to; anything that could leave the site falls back."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


def back(form: FlaskForm, fallback: str):
    return redirect(safe_next(form.next.data if "next" in form else None, fallback), 303)


def expired(form: FlaskForm) -> bool:
    """True when the CSRF token was the problem (only present when CSRF is on)."""
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def form_error(form: FlaskForm) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors) or "Invalid form."


def load(slug: str, routine_id: int, key: str | None = None):
    """The member's group, the routine and (with ``key``) the occurrence, or 404/403."""
    access = member_access(slug)
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    occurrence = occurrence_or_404(routine, key) if key is not None else None
    return access, session, routine, occurrence


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/answer")
@login_required
def answer(slug: str, routine_id: int, key: str):
    _, session, routine, occurrence = load(slug, routine_id, key)
    page = occurrence_path(slug, routine_id, key) + "#answers"
    form = AnswerForm()
    if not form.validate():
        if expired(form):
            abort(400, "The form expired. Reload the page and try again.")
        abort(400, form_error(form))
    status = None if form.status.data == WITHDRAW else form.status.data
    try:
        outcome = answers.answer(
            session, routine, occurrence, current_user, status, form.guests.data or 0
        )
    except answers.AnswerError as error:
        flash(str(error), "error")
        return back(form, page)
    answers.notify_changes(session, routine, outcome.changes)
    flash(outcome.message, "success")
    return back(form, page)


@bp.post("/g/<slug>/r/<int:routine_id>/regular")
@login_required
def join_regular(slug: str, routine_id: int):
    return _regular(slug, routine_id, join=True)


@bp.post("/g/<slug>/r/<int:routine_id>/regular/leave")
@login_required
def leave_regular(slug: str, routine_id: int):
    return _regular(slug, routine_id, join=False)


def _regular(slug: str, routine_id: int, join: bool):
    _, session, routine, _ = load(slug, routine_id)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    outcome = answers.set_regular(session, routine, current_user, join)
    answers.notify_changes(session, routine, outcome.changes)
    flash(outcome.message, "success")
    return back(form, f"{request.script_root}/g/{slug}/r/{routine_id}")
