"""The start page: a short landing page for visitors, "Next up" for a logged-in member, which
lists first what still needs their answer (see :mod:`planner.routines.next_up`).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from planner.belonging import dashboard
from planner.belonging.past import utc_now
from planner.db import get_session
from planner.models import User
from planner.routines.digest import needing_answer, the_rest
from planner.routines.next_up import DAYS, next_up
from planner.web.forms import ActionForm
from planner.web.helpers import NextForm, viewer
from planner.web.page_cache import cached_page, member_versions

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str | Response:
    person = viewer()
    if person is None:
        return render_template("home/landing.html")
    db = get_session()
    return cached_page(member_versions(db, person.id), _dashboard, person=person)


def _dashboard(person: User, **marks: object) -> str:
    session = get_session()
    items = next_up(session, person)
    nudges = needing_answer(items)
    now = utc_now()
    return render_template(
        "home/dashboard.html",
        were_you_there=dashboard.were_you_there(session, person.id, now),
        prompts=dashboard.my_prompts(session, person.id, now),
        action_form=ActionForm(),
        items=items,
        rest=the_rest(items, nudges),
        needs_answer=nudges,
        form=NextForm(),
        days=DAYS,
        **marks,
    )
