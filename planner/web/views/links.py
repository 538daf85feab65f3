"""Links in mail that work without logging in: one-click answers and one-click unsubscribe.

A one-click answer link opens a page with one confirm button, because mail scanners fetch every
GET link; only the POST answers. Unsubscribing is a POST too, exempt from CSRF because the mail
provider's RFC 8058 request carries no cookie: the signed token is the authority, and it can
only switch mail off.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from planner.db import get_session
from planner.mail.delivery import clock
from planner.models import Group
from planner.notify import one_click, preferences
from planner.notify import unsubscribe as unsubscribe_links
from planner.web.extensions import csrf
from planner.web.forms import ActionForm
from planner.web.helpers import expired

bp = Blueprint("links", __name__)


def _problem(message: str) -> tuple[str, int]:
    return render_template("account/link_problem.html", problem=message), 400


@bp.route("/a/<token>", methods=["GET", "POST"])
def answer(token: str) -> Response | str | tuple[str, int]:
    session = get_session()
    now = clock(current_app)
    try:
        pending = one_click.open_link(session, token, now)
    except one_click.LinkProblem as problem:
        return _problem(str(problem))
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            if expired(form):
                abort(400, gettext("The form expired. Open the link from your mail again."))
            abort(400, gettext("Choose one of the buttons."))
        every_date = request.form.get("every") == "yes"
        try:
            message = one_click.confirm(session, pending, every_date=every_date, now=now)
        except one_click.LinkProblem as problem:
            return _problem(str(problem))
        return render_template("links/answered.html", pending=pending, message=message)
    return render_template("links/answer.html", pending=pending, form=form)


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Response | str | tuple[str, int]:
    found = unsubscribe_links.read(token)
    if found is None:
        return _problem(gettext("This unsubscribe link is not valid. Change what you get on "
                                "your account's mail page."))
    user_id, group_id, category = found
    session = get_session()
    group = session.get(Group, group_id)
    name = preferences.CATEGORY_NAMES[category]
    if request.method == "GET":
        return render_template("links/unsubscribe.html", group=group, category_name=name)
    # RFC 8058: the provider POSTs "List-Unsubscribe=One-Click"; our own button posts the same.
    preferences.mute(session, user_id=user_id, group_id=group_id, category=category)
    session.commit()
    return render_template("links/unsubscribed.html", group=group, category_name=name)
