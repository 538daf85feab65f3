"""Sign-up slots: members claim and release them per occurrence; organizers edit a routine's.

A routine starts with its activity type's default slots (created with the routine); this page
lets organizers add, rename, resize and remove them. Claims are checked against a slot's
capacity under the occurrence lock, like RSVPs.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from planner.db import get_session
from planner.joining import answers
from planner.models import Slot, bump_group_version
from planner.web.views.routines import organizer_routine
from planner.web.views.rsvps import NextForm, back, form_error, load, occurrence_path

bp = Blueprint("slots", __name__)

MAX_SLOTS = 30


class ReleaseForm(NextForm):
    user_id = HiddenField()


class SlotForm(FlaskForm):
    label = StringField(
        "Slot",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired("Name the slot, for example “Host” or “Dessert”."),
            Length(max=80, message="Keep the name under 80 characters."),
        ],
    )
    capacity = IntegerField(
        "People",
        default=1,
        validators=[
            InputRequired("Say how many people can take it."),
            NumberRange(min=1, max=100, message="From 1 to 100 people."),
        ],
    )


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/slots/<int:slot_id>/claim")
@login_required
def claim(slug: str, routine_id: int, key: str, slot_id: int):
    _, session, routine, occurrence = load(slug, routine_id, key)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    return _flash_and_back(
        form,
        occurrence_path(slug, routine_id, key),
        lambda: answers.claim_slot(session, routine, occurrence, current_user, slot_id),
    )


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/slots/<int:slot_id>/release")
@login_required
def release(slug: str, routine_id: int, key: str, slot_id: int):
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
            abort(400, "That is not a person.")
        if user_id != current_user.id and not access.can_organize:
            abort(403, "Only organizers can release someone else's slot.")
    return _flash_and_back(
        form,
        occurrence_path(slug, routine_id, key),
        lambda: answers.release_slot(session, routine, occurrence, slot_id, user_id),
    )


def _flash_and_back(form: NextForm, occurrence_page: str, change: Callable[[], str]):
    """Run a claim or release and show its message, or the refusal, back at the slots; a
    refusal changed nothing, so it is a message on the page rather than an error status."""
    try:
        flash(change(), "success")
    except answers.AnswerError as error:
        flash(str(error), "error")
    return back(form, occurrence_page + "#slots")


# --------------------------------------------------------------------------- organizers


def _slot_or_404(session, routine_id: int, slot_id: int) -> Slot:
    slot = session.scalar(select(Slot).where(Slot.id == slot_id, Slot.routine_id == routine_id))
    if slot is None:
        abort(404)
    return slot


def _page(access, routine, add_form=None, edit_forms=None, status=200):
    session = get_session()
    slots = list(
        session.scalars(
            select(Slot).where(Slot.routine_id == routine.id).order_by(Slot.position, Slot.id)
        )
    )
    edit_forms = edit_forms or {}
    rows = [
        (slot, edit_forms.get(slot.id) or SlotForm(prefix=f"s{slot.id}", obj=slot))
        for slot in slots
    ]
    return (
        render_template(
            "answers/slots.html",
            group=access.group,
            routine=routine,
            rows=rows,
            add_form=add_form or SlotForm(prefix="new"),
            delete_form=NextForm(),
            max_slots=MAX_SLOTS,
        ),
        status,
    )


@bp.get("/g/<slug>/r/<int:routine_id>/slots")
@login_required
def edit(slug: str, routine_id: int):
    access, _, routine = organizer_routine(slug, routine_id)
    return _page(access, routine)


@bp.post("/g/<slug>/r/<int:routine_id>/slots")
@login_required
def add(slug: str, routine_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    form = SlotForm(prefix="new")
    if not form.validate():
        return _page(access, routine, add_form=form, status=400)
    count, last = session.execute(
        select(func.count(Slot.id), func.max(Slot.position)).where(Slot.routine_id == routine.id)
    ).one()
    if count >= MAX_SLOTS:
        form.label.errors = [f"A routine can have at most {MAX_SLOTS} slots."]
        return _page(access, routine, add_form=form, status=400)
    session.add(
        Slot(
            routine_id=routine.id,
            label=form.label.data,
            capacity=form.capacity.data,
            position=(last or 0) + 1,
        )
    )
    bump_group_version(session, access.group.id)
    session.commit()
    flash(f"Added the slot “{form.label.data}”.", "success")
    return redirect(request.path, 303)


@bp.post("/g/<slug>/r/<int:routine_id>/slots/<int:slot_id>")
@login_required
def update(slug: str, routine_id: int, slot_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    slot = _slot_or_404(session, routine.id, slot_id)
    form = SlotForm(prefix=f"s{slot.id}")
    if not form.validate():
        return _page(access, routine, edit_forms={slot.id: form}, status=400)
    slot.label, slot.capacity = form.label.data, form.capacity.data
    bump_group_version(session, access.group.id)
    session.commit()
    flash(f"Saved the slot “{slot.label}”.", "success")
    return redirect(f"{request.script_root}/g/{slug}/r/{routine_id}/slots", 303)


@bp.post("/g/<slug>/r/<int:routine_id>/slots/<int:slot_id>/delete")
@login_required
def remove(slug: str, routine_id: int, slot_id: int):
    access, session, routine = organizer_routine(slug, routine_id)
    slot = _slot_or_404(session, routine.id, slot_id)
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    label = slot.label
    session.delete(slot)
    bump_group_version(session, access.group.id)
    session.commit()
    flash(f"Removed the slot “{label}” and its sign-ups.", "success")
    return redirect(f"{request.script_root}/g/{slug}/r/{routine_id}/slots", 303)
