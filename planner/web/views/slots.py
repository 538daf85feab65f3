"""Sign-up slots: members claim and release them per occurrence; organizers edit a routine's.

A routine starts with its activity type's default slots (created with the routine); this page
lets organizers add, rename, resize and remove them. Claims are checked against a slot's
capacity under the occurrence lock, like RSVPs.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from planner.groups.access import GroupAccess
from planner.joining import slots
from planner.joining.answers import AnswerError
from planner.models import Routine, Slot
from planner.web.forms import strip
from planner.web.helpers import NextForm, back, form_error, load, occurrence_path, organizer_routine
from planner.web.i18n import PlannerForm
from planner.web.lazy_text import lazy_gettext as _l

bp = Blueprint("slots", __name__)


class ReleaseForm(NextForm):
    user_id = HiddenField()


class SlotForm(PlannerForm):
    label = StringField(
        _l("Slot"),
        filters=[strip],
        validators=[
            DataRequired(_l("Name the slot, for example “Host” or “Dessert”.")),
            Length(max=80, message=_l("Keep the name under 80 characters.")),
        ],
    )
    capacity = IntegerField(
        _l("People"),
        default=1,
        validators=[
            InputRequired(_l("Say how many people can take it.")),
            NumberRange(min=1, max=100, message=_l("From 1 to 100 people.")),
        ],
    )


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/slots/<int:slot_id>/claim")
@login_required
def claim(slug: str, routine_id: int, key: str, slot_id: int) -> Response:
    _, session, routine, occurrence = load(slug, routine_id, key)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    return _flash_and_back(
        form,
        occurrence_path(slug, routine_id, key),
        lambda: slots.claim_slot(session, routine, occurrence, current_user, slot_id),
    )


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/slots/<int:slot_id>/release")
@login_required
def release(slug: str, routine_id: int, key: str, slot_id: int) -> Response:
    """Release one's own claim; organizers may release anyone's (someone fell ill)."""
    access, session, routine, occurrence = load(slug, routine_id, key)
    form = ReleaseForm()
    if not form.validate():
        abort(400, form_error(form))
    user_id = current_user.id
    if form.user_id.data:
        try:
            user_id = int(form.user_id.data)
        except ValueError:
            abort(400, gettext("That is not a person."))
        if user_id != current_user.id and not access.can_organize:
            abort(403, gettext("Only organizers can release someone else's slot."))
    return _flash_and_back(
        form,
        occurrence_path(slug, routine_id, key),
        lambda: slots.release_slot(session, routine, occurrence, slot_id, user_id),
    )


def _flash_and_back(
    form: NextForm, occurrence_page: str, change: Callable[[], str]
) -> Response:
    """Run a claim or release and show its message, or the refusal, back at the slots; a
    refusal changed nothing, so it is a message on the page rather than an error status."""
    try:
        flash(change(), "success")
    except AnswerError as error:
        flash(str(error), "error")
    return back(form, occurrence_page + "#slots")


# --------------------------------------------------------------------------- organizers


def _slot_or_404(session: Session, routine_id: int, slot_id: int) -> Slot:
    slot = slots.slot_of(session, routine_id, slot_id)
    if slot is None:
        abort(404)
    return slot


def _page(
    access: GroupAccess,
    routine: Routine,
    session: Session,
    add_form: SlotForm | None = None,
    edit_forms: dict[int, SlotForm] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    edit_forms = edit_forms or {}
    rows = [
        (slot, edit_forms.get(slot.id) or SlotForm(prefix=f"s{slot.id}", obj=slot))
        for slot in slots.routine_slots(session, routine.id)
    ]
    return (
        render_template(
            "answers/slots.html",
            group=access.group,
            routine=routine,
            rows=rows,
            add_form=add_form or SlotForm(prefix="new"),
            delete_form=NextForm(),
            max_slots=slots.MAX_SLOTS,
        ),
        status,
    )


def _slots_page(slug: str, routine_id: int) -> str:
    return f"{request.script_root}/g/{slug}/r/{routine_id}/slots"


@bp.get("/g/<slug>/r/<int:routine_id>/slots")
@login_required
def edit(slug: str, routine_id: int) -> tuple[str, int]:
    access, session, routine = organizer_routine(slug, routine_id)
    return _page(access, routine, session)


@bp.post("/g/<slug>/r/<int:routine_id>/slots")
@login_required
def add(slug: str, routine_id: int) -> Response | tuple[str, int]:
    access, session, routine = organizer_routine(slug, routine_id)
    form = SlotForm(prefix="new")
    if not form.validate():
        return _page(access, routine, session, add_form=form, status=400)
    try:
        slots.add_slot(session, routine, form.label.data, form.capacity.data)
    except AnswerError as error:
        form.label.errors = [str(error)]
        return _page(access, routine, session, add_form=form, status=400)
    flash(gettext("Added the slot “%(slot)s”.", slot=form.label.data), "success")
    return redirect(request.path, 303)


@bp.post("/g/<slug>/r/<int:routine_id>/slots/<int:slot_id>")
@login_required
def update(slug: str, routine_id: int, slot_id: int) -> Response | tuple[str, int]:
    access, session, routine = organizer_routine(slug, routine_id)
    slot = _slot_or_404(session, routine.id, slot_id)
    form = SlotForm(prefix=f"s{slot.id}")
    if not form.validate():
        return _page(access, routine, session, edit_forms={slot.id: form}, status=400)
    slots.update_slot(session, routine, slot, form.label.data, form.capacity.data)
    flash(gettext("Saved the slot “%(slot)s”.", slot=slot.label), "success")
    return redirect(_slots_page(slug, routine_id), 303)


@bp.post("/g/<slug>/r/<int:routine_id>/slots/<int:slot_id>/delete")
@login_required
def remove(slug: str, routine_id: int, slot_id: int) -> Response:
    _access, session, routine = organizer_routine(slug, routine_id)
    slot = _slot_or_404(session, routine.id, slot_id)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    label = slot.label
    slots.remove_slot(session, routine, slot)
    flash(gettext("Removed the slot “%(slot)s” and its sign-ups.", slot=label), "success")
    return redirect(_slots_page(slug, routine_id), 303)
