"""Comments on an occurrence: members only, plain text, links made clickable safely.

Comments stay open after an occurrence (a "thanks, see you next week" belongs there) and on a
cancelled one (people ask why); only the author or an organizer can delete one.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from planner.joining.comments import (
    MAX_LENGTH,
    comment_on,
    delete_comment,
    may_delete,
    post_comment,
)
from planner.notify.changes import comment_posted
from planner.web.forms import strip
from planner.web.helpers import NextForm, back, expired, form_error, load, occurrence_path
from planner.web.lazy_text import lazy_gettext as _l

bp = Blueprint("comments", __name__)
# Only http(s), stopping at whitespace, quotes and angle brackets; trailing punctuation is text.
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


class CommentForm(NextForm):
    body = TextAreaField(
        _l("Comment"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write something first.")),
            # WTForms fills in %(max)d.
            Length(max=MAX_LENGTH, message=_l("Keep it under %(max)d characters.")),
        ],
    )


@bp.app_template_filter("linkify")
def linkify(text: str | None) -> Markup:
    """Escape everything, then turn http(s) URLs into ``rel="nofollow noopener"`` links.

    Each piece (text and URL alike) passes through :func:`markupsafe.escape` before it lands in
    the result, so no input can open a tag or an attribute; line breaks become ``<br>``.
    """
    if not text:
        return Markup("")
    out: list[Markup] = []
    last = 0
    for match in LINK.finditer(text):
        url = match.group(0)
        cut = len(url)
        while cut and url[cut - 1] in TRAILING:
            cut -= 1
        url = url[:cut]
        if len(url) <= len("https://"):
            continue
        out.append(escape(text[last : match.start()]))
        out.append(
            Markup('<a href="{0}" rel="nofollow noopener" target="_blank">{0}</a>').format(url)
        )
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    joined = Markup("").join(out)
    return Markup("<br>\n").join(joined.split("\n"))


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/comments")
@login_required
def add(slug: str, routine_id: int, key: str) -> Response:
    _, session, routine, occurrence = load(slug, routine_id, key)
    form = CommentForm()
    page = occurrence_path(slug, routine_id, key) + "#comments"
    if not form.validate():
        if expired(form):
            abort(400, gettext("The form expired. Reload the page and try again."))
        flash(" ".join(str(e) for e in form.body.errors), "error")
        return back(form, page)
    comment_posted(session, routine.id, occurrence.original_start)
    post_comment(session, routine.id, occurrence.original_start, current_user.id, form.body.data)
    flash(gettext("Your comment is posted."), "success")
    return back(form, page)


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/comments/<int:comment_id>/delete")
@login_required
def delete(slug: str, routine_id: int, key: str, comment_id: int) -> Response:
    access, session, routine, occurrence = load(slug, routine_id, key)
    comment = comment_on(session, routine.id, occurrence.original_start, comment_id)
    if comment is None:
        abort(404)
    if not may_delete(comment, current_user.id, access.can_organize):
        abort(403, gettext("Only the author or an organizer can delete a comment."))
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    delete_comment(session, comment)
    flash(gettext("The comment is deleted."), "success")
    return back(form, occurrence_path(slug, routine_id, key) + "#comments")
