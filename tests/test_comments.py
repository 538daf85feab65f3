"""Comments: members only, plain text with safe links, deleted by their author or an organizer."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template
from sqlalchemy import select

from planner.joining import answers
from planner.models import Comment
from planner.routines.occurrences import occurrence_or_404
from planner.web.views.comments import linkify
from tests.joining import key_of, last_flash, make_routine


@pytest.fixture
def talk(db, make_user, make_group):
    owner, org, ann, bob = (make_user(n) for n in ("Owner", "Org", "Ann", "Bob"))
    group = make_group(owner, visibility="private", organizers=[org], members=[ann, bob])
    routine = make_routine(db, group)
    return group, routine, {u.display_name: u for u in (owner, org, ann, bob)}


def comments_path(group, routine):
    return f"/g/{group.slug}/r/{routine.id}/{key_of(routine)}/comments"


def all_comments(db):
    db.expire_all()
    return db.scalars(select(Comment).order_by(Comment.id)).all()


def test_members_comment_and_see_comments(db, talk, as_user, app):
    group, routine, people = talk
    ann = as_user(people["Ann"])
    response = ann.post(comments_path(group, routine), data={"body": "  Bringing bread!  "})
    assert response.status_code == 303 and response.headers["Location"].endswith("#comments")
    assert last_flash(ann) == "Your comment is posted."
    (comment,) = all_comments(db)
    assert (comment.body, comment.user_id) == ("Bringing bread!", people["Ann"].id)
    occurrence = occurrence_or_404(routine, key_of(routine))
    with app.test_request_context():
        context = answers.occurrence_context(db, routine, occurrence, people["Bob"])
        html = render_template("answers/_panel.html", **context)
        stranger = answers.occurrence_context(db, routine, occurrence, None)
    assert "Bringing bread!" in html
    assert stranger["answers"].comments == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write something first."), ("   ", "Write something first."),
     ("x" * 2001, "Keep it under 2000 characters.")],
)
def test_empty_or_oversized_comments_are_refused(db, talk, as_user, body, message):
    group, routine, people = talk
    ann = as_user(people["Ann"])
    ann.post(comments_path(group, routine), data={"body": body})
    assert last_flash(ann) == message
    assert all_comments(db) == []


def test_non_members_cannot_comment(db, talk, as_user, make_user, client):
    group, routine, _ = talk
    assert as_user(make_user("Out")).post(
        comments_path(group, routine), data={"body": "hi"}
    ).status_code == 404
    assert client.post(comments_path(group, routine), data={"body": "hi"}).status_code == 302
    assert all_comments(db) == []


def test_author_or_organizer_deletes(db, talk, as_user):
    group, routine, people = talk
    for name in ("Ann", "Ann"):
        as_user(people[name]).post(comments_path(group, routine), data={"body": "hello"})
    first, second = all_comments(db)
    bob = as_user(people["Bob"])
    refused = bob.post(f"{comments_path(group, routine)}/{first.id}/delete")
    assert refused.status_code == 403
    assert len(all_comments(db)) == 2
    as_user(people["Ann"]).post(f"{comments_path(group, routine)}/{first.id}/delete")
    as_user(people["Org"]).post(f"{comments_path(group, routine)}/{second.id}/delete")
    assert all_comments(db) == []
    missing = bob.post(f"{comments_path(group, routine)}/999999/delete")
    assert missing.status_code == 404


class Links(HTMLParser):
    """Collects tags and attributes, as a browser's parser would see them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed(markup) -> list[tuple[str, dict]]:
    parser = Links()
    parser.feed(str(markup))
    return parser.tags


def test_links_become_safe_anchors():
    html = linkify("See https://example.org/a?b=1&c=2. Or http://x.test/(y)")
    tags = parsed(html)
    assert tags == [
        ("a", {"href": "https://example.org/a?b=1&c=2", "rel": "nofollow noopener",
               "target": "_blank"}),
        ("a", {"href": "http://x.test/(y", "rel": "nofollow noopener", "target": "_blank"}),
    ]
    assert html.endswith(")")


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        'https://x.test/"onmouseover="alert(1)',
        "https://x.test/'><img src=x onerror=alert(1)>",
        "javascript:alert(1) and data:text/html,<b>x</b>",
        "<a href='javascript:alert(1)'>click</a>",
    ],
)
def test_nothing_in_a_comment_becomes_markup_except_http_links(body):
    tags = parsed(linkify(body))
    assert all(tag == "a" for tag, _ in tags)
    for _, attrs in tags:
        assert set(attrs) == {"href", "rel", "target"}
        assert attrs["href"].startswith(("http://", "https://"))
        assert '"' not in attrs["href"] and "'" not in attrs["href"]
        assert "<" not in attrs["href"]


def test_line_breaks_are_kept():
    assert str(linkify("one\ntwo <b>")) == "one<br>\ntwo &lt;b&gt;"
