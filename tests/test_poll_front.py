"""The poll front (planner/web/poll_front.py) and the stamps several processes share.

The front replays a feed's last response only while the stamps its rows were read under hold,
so every test here changes something a poll depends on and checks that the very next poll
sees it, through real requests; the cross-process one writes from a separate Python process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import update

from planner.feeds.versions import SharedStamps
from planner.models import Group, User
from planner.testing import count_statements
from tests.feed_world import add_routine
from tests.test_feeds import _feed_engine, summaries

SEVERAL = {"wsgi.multiprocess": True}  # as under gunicorn -w 2


@pytest.fixture
def owner(make_user):
    return make_user("Olga Owner")


@pytest.fixture
def member(make_user):
    return make_user("Mia Member")


@pytest.fixture
def public(make_group, owner, member):
    return make_group(owner, name="Open Supper", members=[member])


@pytest.fixture
def private(make_group, owner, member):
    return make_group(owner, name="Secret Supper", visibility="private", members=[member])


@pytest.fixture
def flask_calls(app):
    """How many requests reached Flask (the front answers the rest)."""
    calls: list[str] = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: calls.append("x") and None)
    return calls


def _warm(client, path, **kw):
    first = client.get(path, **kw)
    assert first.status_code == 200
    for _ in range(2):  # the first poll learns which stamps to read; the second stores them
        assert client.get(path, **kw).status_code == 200
    return first


def test_a_warm_poll_is_answered_without_flask_and_alike(client, db, public, flask_calls):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    through_flask = _warm(client, path)
    before = len(flask_calls)
    replayed = client.get(path)
    etag = replayed.headers["ETag"]
    not_modified = [client.get(path, headers={"If-None-Match": etag}) for _ in range(3)]
    assert len(flask_calls) == before + 1  # the first 304 is Flask's, the next two replays
    assert replayed.data == through_flask.data
    assert dict(replayed.headers) == dict(through_flask.headers)
    assert {r.status_code for r in not_modified} == {304}
    assert dict(not_modified[1].headers) == dict(not_modified[0].headers)
    assert not_modified[2].data == b""


def test_gzip_and_plain_are_kept_apart(client, db, public):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    gzip = {"Accept-Encoding": "gzip"}
    _warm(client, path, headers=gzip)
    _warm(client, path)
    zipped, plain = client.get(path, headers=gzip), client.get(path)
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert summaries(plain) == {"Open supper"}


def test_a_browser_with_a_session_always_reaches_flask(client, db, public, flask_calls):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    client.set_cookie("session", "anything", domain="planner.test")
    _warm(client, path)
    before = len(flask_calls)
    client.get(path)
    assert len(flask_calls) == before + 1


def test_a_change_is_seen_by_the_next_poll(client, db, public, flask_calls):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    etag = _warm(client, path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    add_routine(db, public, title="Late supper")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and summaries(changed) == {"Open supper", "Late supper"}


def test_a_group_made_private_closes_its_public_feed_at_once(client, db, public):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    etag = _warm(client, path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    db.execute(update(Group).where(Group.id == public.id).values(visibility="private"))
    db.commit()
    assert client.get(path).status_code == 404
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 404


def test_a_revoked_token_closes_its_feeds_at_once(client, db, private, member):
    add_routine(db, private, title="Secret supper")
    paths = [f"/feeds/t/{member.feed_token}/g/{private.slug}.ics",
             f"/feeds/t/{member.feed_token}/me.ics"]
    etags = [_warm(client, path).headers["ETag"] for path in paths]
    db.execute(update(User).where(User.id == member.id).values(feed_token=None))
    db.commit()
    for path, etag in zip(paths, etags, strict=True):
        assert client.get(path).status_code == 404
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 404


def test_a_member_who_leaves_loses_the_private_feed_at_once(
    as_user, client, db, private, member
):
    add_routine(db, private, title="Secret supper")
    path = f"/feeds/t/{member.feed_token}/g/{private.slug}.ics"
    _warm(client, path)
    response = as_user(member).post(f"/g/{private.slug}/leave")
    assert response.status_code in (302, 303), response.status_code
    assert client.get(path).status_code == 404


@pytest.mark.planner_backends("sqlite")
def test_sqlite_processes_share_the_stamps(app, client, db, public):
    """Under several processes without Redis a SQLite app still answers a warm 304 from
    memory: every process maps the same stamps file, so a write committed by another process
    (a real one, here) moves what this one reads, and its next poll sees the change."""
    from planner.feeds.versions import stamps_of

    routine = add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    assert isinstance(stamps_of(app), SharedStamps)
    etag = _warm(client, path, environ_overrides=SEVERAL).headers["ETag"]
    with count_statements(app, _feed_engine(app)) as statements:
        for _ in range(2):
            polled = client.get(path, headers={"If-None-Match": etag}, environ_overrides=SEVERAL)
            assert polled.status_code == 304
    assert statements == []

    script = textwrap.dedent(
        f"""
        from planner import create_app
        from planner.db import get_session
        from planner.models import Routine, bump_group_version
        app = create_app({{"DATABASE_URL": {app.config["DATABASE_URL"]!r},
                          "SECRET_KEY": "x", "TESTING": True}})
        with app.app_context():
            session = get_session()
            routine = session.get(Routine, {routine.id})
            routine.title = "Renamed elsewhere"
            bump_group_version(session, {public.id})
            session.commit()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert done.returncode == 0, done.stderr
    db.commit()
    db.expire_all()
    changed = client.get(path, headers={"If-None-Match": etag}, environ_overrides=SEVERAL)
    assert changed.status_code == 200 and summaries(changed) == {"Renamed elsewhere"}


def test_shared_stamps_move_and_differ_per_key(tmp_path):
    one = SharedStamps(str(tmp_path / "db.stamps"))
    two = SharedStamps(str(tmp_path / "db.stamps"))  # another process's mapping of the file
    before = two.read(("g:1", "s:1", "u:1"))
    one.move(["g:1"])
    after = two.read(("g:1", "s:1", "u:1"))
    assert after[0] != before[0] and after[1:] == before[1:]


def test_a_single_date_download_follows_each_visitors_language(client, db, public):
    """The one-date download is in the page's language, so it is never replayed: two visitors
    with different browsers each get their own, however often they ask."""
    routine = add_routine(db, public, title="Open supper")
    key = routine.start.strftime("%Y%m%dT%H%M")
    path = f"/feeds/g/{public.slug}/r/{routine.id}/{key}.ics"
    for _ in range(3):
        german = client.get(path, headers={"Accept-Language": "de"})
        english = client.get(path, headers={"Accept-Language": "en-GB"})
        assert german.status_code == english.status_code == 200
        assert german.data != english.data
