"""Answering an occurrence (going, maybe, can't go, with guests) and joining as a regular.

Every answer goes through :func:`planner.joining.answers.answer`, which checks capacity under the
occurrence lock; this module turns its outcome into a flash message and a redirect back, and a
refusal into a message with nothing changed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from planner.joining import answers
from planner.web.helpers import (
    NextForm,
    back,
    expired,
    form_error,
    load,
    occurrence_path,
    viewer,
)
from planner.web.i18n import PlannerForm
from planner.web.lazy_text import lazy_gettext as _l

bp = Blueprint("rsvps", __name__)

WITHDRAW = "withdraw"


class AnswerForm(PlannerForm):
    status = StringField(
        _l("Answer"),
        validators=[
            InputRequired(_l("Choose going, maybe or can't go.")),
            AnyOf((*answers.ANSWERS, WITHDRAW), message=_l("Choose going, maybe or can't go.")),
        ],
    )
    guests = IntegerField(
        _l("Guests"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=1000, message=_l("Guests must be a number from 0 up.")),
        ],
    )
    next = HiddenField()


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/answer")
@login_required
def answer(slug: str, routine_id: int, key: str) -> Response:
    _, session, routine, occurrence = load(slug, routine_id, key)
    page = occurrence_path(slug, routine_id, key) + "#answers"
    form = AnswerForm()
    if not form.validate():
        if expired(form):
            abort(400, gettext("The form expired. Reload the page and try again."))
        abort(400, form_error(form))
    status = None if form.status.data == WITHDRAW else form.status.data
    person = viewer()
    assert person is not None  # login_required
    try:
        outcome = answers.answer(
            session, routine, occurrence, person, status, form.guests.data or 0,
            member=True,  # load() checked member_access
        )
    except answers.AnswerError as error:
        flash(str(error), "error")
        return back(form, page)
    flash(outcome.message, "success")
    return back(form, page)


@bp.post("/g/<slug>/r/<int:routine_id>/regular")
@login_required
def join_regular(slug: str, routine_id: int) -> Response:
    return _regular(slug, routine_id, join=True)


@bp.post("/g/<slug>/r/<int:routine_id>/regular/leave")
@login_required
def leave_regular(slug: str, routine_id: int) -> Response:
    return _regular(slug, routine_id, join=False)


def _regular(slug: str, routine_id: int, join: bool) -> Response:
    _, session, routine, _ = load(slug, routine_id)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    outcome = answers.set_regular(session, routine, current_user, join)
    flash(outcome.message, "success")
    return back(form, f"{request.script_root}/g/{slug}/r/{routine_id}")
