"""Comments on an occurrence: members only, plain text, links made clickable safely.

Comments stay open after an occurrence (a "thanks, see you next week" belongs there) and on a
cancelled one (people ask why); only the author or an organizer can delete one.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from planner.models import Comment
from planner.web.views.rsvps import NextForm, back, expired, form_error, load, occurrence_path

bp = Blueprint("comments", __name__)

MAX_LENGTH = 2000
# Only http(s), stopping at whitespace, quotes and angle brackets; trailing punctuation is text.
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


class CommentForm(NextForm):
    body = TextAreaField(
        "Comment",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired("Write something first."),
            Length(max=MAX_LENGTH, message=f"Keep it under {MAX_LENGTH} characters."),
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
def add(slug: str, routine_id: int, key: str):
    _, session, routine, occurrence = load(slug, routine_id, key)
    form = CommentForm()
    page = occurrence_path(slug, routine_id, key) + "#comments"
    if not form.validate():
        if expired(form):
            abort(400, "The form expired. Reload the page and try again.")
        flash(" ".join(form.body.errors), "error")
        return back(form, page)
    session.add(
        Comment(
            routine_id=routine.id,
            original_start=occurrence.original_start,
            user_id=current_user.id,
            body=form.body.data,
        )
    )
    session.commit()
    flash("Your comment is posted.", "success")
    return back(form, page)


@bp.post("/g/<slug>/r/<int:routine_id>/<key>/comments/<int:comment_id>/delete")
@login_required
def delete(slug: str, routine_id: int, key: str, comment_id: int):
    access, session, routine, occurrence = load(slug, routine_id, key)
    comment = session.scalar(
        select(Comment).where(
            Comment.id == comment_id,
            Comment.routine_id == routine.id,
            Comment.original_start == occurrence.original_start,
        )
    )
    if comment is None:
        abort(404)
    if comment.user_id != current_user.id and not access.can_organize:
        abort(403, "Only the author or an organizer can delete a comment.")
    form = NextForm()
    if not form.validate():
        abort(400, form_error(form))
    session.delete(comment)
    session.commit()
    flash("The comment is deleted.", "success")
    return back(form, occurrence_path(slug, routine_id, key) + "#comments")
