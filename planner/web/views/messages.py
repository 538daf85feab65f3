"""Organizers messaging the people of one date: a short text, one mail per recipient.

Rate limited per sender (``PLANNER_MESSAGE_RATE_LIMIT``): a message reaches a whole group's
inboxes, so a slip of the finger, or a stolen session, must not become a flood.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from planner.notify.messages import MessageError, send_message
from planner.web.extensions import limiter
from planner.web.forms import MessageForm, status
from planner.web.helpers import occurrence_url, organizer_occurrence, viewer

bp = Blueprint("messages", __name__)


def _message_limit() -> str:
    limit: str = current_app.config["MESSAGE_RATE_LIMIT"]
    return limit


@bp.route("/g/<slug>/r/<int:routine_id>/<key>/message", methods=["GET", "POST"])
@limiter.limit(_message_limit, methods=["POST"],
               key_func=lambda: f"message:{getattr(current_user, 'id', 'anonymous')}")
def send(slug: str, routine_id: int, key: str) -> Response | tuple[str, int]:
    access, session, routine, occurrence = organizer_occurrence(slug, routine_id, key)
    form = MessageForm()
    sender = viewer()
    assert sender is not None  # organizer_occurrence refused anonymous visitors
    if form.validate_on_submit():
        try:
            sent = send_message(
                session, sender=sender, group=access.group, routine=routine,
                occurrence=occurrence, audience=form.audience.data, text=form.text.data,
            )
        except MessageError as error:
            form.text.errors = [str(error)]
        else:
            session.commit()
            flash(ngettext("Your message is on its way to %(num)d person; a copy goes to you.",
                           "Your message is on its way to %(num)d people; a copy goes to you.",
                           sent.recipients), "success")
            return redirect(occurrence_url(access.group.slug, routine, occurrence.key))
    return render_template(
        "events/message.html", form=form, group=access.group, routine=routine,
        occurrence=occurrence, title=occurrence.title or routine.title,
    ), status(form)
