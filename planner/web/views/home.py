"""The start page: a short landing page for visitors, "Next up" for a logged-in member, which
lists first what still needs their answer (see :mod:`planner.routines.next_up`).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from planner.db import get_session
from planner.routines.digest import needing_answer, the_rest
from planner.routines.next_up import DAYS, next_up
from planner.web.helpers import NextForm, viewer

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    person = viewer()
    if person is None:
        return render_template("home/landing.html")
    items = next_up(get_session(), person)
    nudges = needing_answer(items)
    return render_template(
        "home/dashboard.html",
        items=items,
        rest=the_rest(items, nudges),
        needs_answer=nudges,
        form=NextForm(),
        days=DAYS,
    )
