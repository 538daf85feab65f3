"""Feed URLs over HTTP: who gets what, conditional GET, caches, tokens, pages and logs."""

from __future__ import annotations

import io
import logging
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from werkzeug.http import http_date

from planner.feeds.cache import MemoryCache, RedisCache, feed_cache
from planner.feeds.tokens import RedactTokens, redact
from planner.models import Group, Membership, Regular, Rsvp, User, bump_group_version
from planner.testing import count_statements, skip_or_fail
from tests.feed_world import add_override, add_routine, calendar_of, events_of, next_local


@pytest.fixture
def owner(make_user):
    return make_user("Olga Owner")


@pytest.fixture
def member(make_user):
    return make_user("Mia Member")


@pytest.fixture
def outsider(make_user):
    return make_user("Otto Outsider")


@pytest.fixture
def public(make_group, owner, member):
    return make_group(owner, name="Open Supper", members=[member])


@pytest.fixture
def private(make_group, owner, member):
    return make_group(owner, name="Secret Supper", visibility="private", members=[member])


def summaries(response) -> set[str]:
    return {str(e["SUMMARY"]) for e in events_of(response)}


# -- public and private group feeds -----------------------------------------------------------


def test_public_group_feed_is_served_with_calendar_headers(client, db, public):
    add_routine(db, public, title="Open supper")
    response = client.get(f"/feeds/g/{public.slug}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Last-Modified"]
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"] == f'inline; filename="{public.slug}.ics"'
    assert summaries(response) == {"Open supper"}


def test_jcal_is_the_second_format(client, db, public):
    from icalendar import Calendar

    add_routine(db, public, title="Open supper")
    response = client.get(f"/feeds/g/{public.slug}.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/calendar+json")
    calendar = Calendar.from_jcal(response.get_json())
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["Open supper"]


def test_unknown_format_is_404(client, public):
    assert client.get(f"/feeds/g/{public.slug}.pdf").status_code == 404


def test_private_group_has_no_public_url(client, db, private):
    add_routine(db, private, title="Secret supper")
    response = client.get(f"/feeds/g/{private.slug}.ics")
    assert response.status_code == 404
    assert b"Secret supper" not in response.data


def test_private_group_feed_through_a_members_token(client, db, private, member):
    add_routine(db, private, title="Secret supper")
    response = client.get(f"/feeds/t/{member.feed_token}/g/{private.slug}.ics")
    assert summaries(response) == {"Secret supper"}
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize(
    "token",
    # A stable id for the random one: parallel workers must collect the same test names.
    ["", "x", "not a token", "../../etc", "A" * 200, "%00", pytest.param(
        secrets.token_urlsafe(24), id="unknown-token"
    )],
)
def test_wrong_or_malformed_tokens_are_404(client, db, private, token):
    add_routine(db, private, title="Secret supper")
    for path in (f"/feeds/t/{token}/g/{private.slug}.ics", f"/feeds/t/{token}/me.ics"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"Secret supper" not in response.data


def test_non_members_token_on_a_private_group_is_404(client, db, private, outsider):
    add_routine(db, private, title="Secret supper")
    response = client.get(f"/feeds/t/{outsider.feed_token}/g/{private.slug}.ics")
    assert response.status_code == 404
    assert b"Secret supper" not in response.data


def test_a_token_never_reaches_another_groups_data(client, db, make_group, owner, member):
    mine = make_group(owner, name="Mine", visibility="private", members=[member])
    theirs = make_group(owner, name="Theirs", visibility="private")
    add_routine(db, mine, title="My supper")
    add_routine(db, theirs, title="Their supper")
    assert summaries(client.get(f"/feeds/t/{member.feed_token}/g/{mine.slug}.ics")) == {
        "My supper"
    }
    response = client.get(f"/feeds/t/{member.feed_token}/g/{theirs.slug}.ics")
    assert response.status_code == 404
    assert b"Their supper" not in response.data
    # A routine id of another group under my group's slug: 404, not their routine.
    other = db.scalar(select(Group).where(Group.id == theirs.id)).routines[0]
    response = client.get(f"/feeds/t/{member.feed_token}/g/{mine.slug}/r/{other.id}.ics")
    assert response.status_code == 404


def test_deleted_group_feed_is_404(client, db, public, member):
    add_routine(db, public, title="Gone soon")
    url = f"/feeds/g/{public.slug}.ics"
    assert client.get(url).status_code == 200
    db.delete(public)
    db.commit()
    assert client.get(url).status_code == 404
    assert client.get(f"/feeds/t/{member.feed_token}/g/{public.slug}.ics").status_code == 404


def test_revoked_and_regenerated_tokens(app, db, private, member, as_user):
    add_routine(db, private, title="Secret supper")
    old = member.feed_token
    browser = as_user(member)
    feed = f"/feeds/t/{old}/g/{private.slug}.ics"
    assert browser.get(feed).status_code == 200

    response = browser.post("/feeds/token/regenerate")
    assert response.status_code in (302, 303)
    db.expire_all()
    new = db.get(User, member.id).feed_token
    assert new and new != old and len(new) >= 22
    assert browser.get(feed).status_code == 404
    assert browser.get(f"/feeds/t/{new}/g/{private.slug}.ics").status_code == 200

    assert browser.post("/feeds/token/revoke").status_code in (302, 303)
    db.expire_all()
    assert db.get(User, member.id).feed_token is None
    assert browser.get(f"/feeds/t/{new}/g/{private.slug}.ics").status_code == 404
    assert browser.get(f"/feeds/t/{new}/me.ics").status_code == 404


def test_tokens_carry_at_least_128_random_bits(app):
    from planner.feeds.tokens import TOKEN_BYTES, new_token

    assert TOKEN_BYTES * 8 >= 128
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 22 for t in tokens)


# -- conditional GET --------------------------------------------------------------------------


def test_if_none_match_answers_304_and_a_change_changes_the_etag(client, db, public):
    routine = add_routine(db, public, title="Open supper")
    url = f"/feeds/g/{public.slug}.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    # The ETag does not depend on DTSTAMP: a fresh render (cache cleared) keeps it.
    feed_cache().clear()  # type: ignore[attr-defined]
    assert client.get(url).headers["ETag"] == etag

    routine.title = "Renamed supper"
    bump_group_version(db, public.id)
    db.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert summaries(changed) == {"Renamed supper"}


def test_if_modified_since(client, db, public):
    add_routine(db, public)
    url = f"/feeds/g/{public.slug}.ics"
    last = client.get(url).headers["Last-Modified"]
    assert client.get(url, headers={"If-Modified-Since": last}).status_code == 304
    past = http_date(datetime.now(UTC) - timedelta(days=400))
    assert client.get(url, headers={"If-Modified-Since": past}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "yesterday-ish"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client, db, public):
    add_routine(db, public)
    url = f"/feeds/g/{public.slug}.ics"
    last = client.get(url).headers["Last-Modified"]
    response = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": last})
    assert response.status_code == 200


@pytest.mark.parametrize("bogus", ['"nope"', "garbage", 'W/"', "*, ,", '"' + "a" * 5000 + '"'])
def test_bogus_if_none_match_gets_the_feed(client, db, public, bogus):
    add_routine(db, public, title="Open supper")
    response = client.get(f"/feeds/g/{public.slug}.ics", headers={"If-None-Match": bogus})
    assert response.status_code == 200
    assert summaries(response) == {"Open supper"}


def test_range_header_is_ignored(client, db, public):
    add_routine(db, public, title="Open supper")
    url = f"/feeds/g/{public.slug}.ics"
    whole = client.get(url).data
    for value in ("bytes=0-10", "bytes=-5", "bytes=999999-", "nonsense"):
        response = client.get(url, headers={"Range": value})
        assert response.status_code == 200
        assert response.data == whole
        assert "Content-Range" not in response.headers


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def _feed_engine(app):
    from planner.feeds.sources import reader

    with app.test_request_context():
        return reader()


def test_a_poll_that_ends_in_304_costs_no_database_round_trip(client, db, public, member, app):
    """Once a poll's rows are known in process, a 304 reads nothing; a write moves their
    stamps, and the next poll reads them again (one indexed statement, no render)."""
    routine = add_routine(db, public, title="Open supper")
    token = member.feed_token
    paths = [
        f"/feeds/g/{public.slug}.ics",
        f"/feeds/t/{token}/g/{public.slug}.ics",
        f"/feeds/g/{public.slug}/r/{routine.id}.ics",
        f"/feeds/t/{token}/me.ics",
    ]
    etags = {path: client.get(path).headers["ETag"] for path in paths}
    for path in paths:  # the first poll of each learns which stamps to read before the rows
        assert client.get(path, headers={"If-None-Match": etags[path]}).status_code == 304
    with count_statements(app, _feed_engine(app)) as statements:
        for path in paths:
            assert client.get(path, headers={"If-None-Match": etags[path]}).status_code == 304
    assert statements == []

    routine.title = "Renamed supper"
    bump_group_version(db, public.id)
    db.commit()
    with count_statements(app, _feed_engine(app)) as statements:
        changed = client.get(paths[0], headers={"If-None-Match": etags[paths[0]]})
    assert changed.status_code == 200 and summaries(changed) == {"Renamed supper"}
    assert len([s for s in _selects(statements) if "FROM groups" in s]) == 1
    with count_statements(app, _feed_engine(app)) as statements:
        etag = changed.headers["ETag"]
        assert client.get(paths[0], headers={"If-None-Match": etag}).status_code == 304
    assert statements == []


@pytest.mark.parametrize(
    ("statement", "parameters", "keys"),
    [
        ("UPDATE groups SET version=(groups.version + ?), updated_at=? WHERE groups.id = ?",
         (1, None, 7), {"g:7"}),
        ("UPDATE groups SET version=(groups.version + %(version_1)s::INTEGER), "
         "updated_at=%(updated_at)s::TIMESTAMP WITHOUT TIME ZONE WHERE groups.id = "
         "%(id_1)s::INTEGER", {"version_1": 1, "updated_at": None, "id_1": 7}, {"g:7"}),
        ("UPDATE groups SET name=? WHERE groups.id = ?", ("New", 7), {"g:7", "s:7"}),
        ("UPDATE groups SET version=(groups.version + ?) WHERE groups.id IN (?, ?)",
         (1, 7, 8), {"all"}),
        ("UPDATE users SET feed_token=? WHERE users.id = ?", (None, 3), {"u:3"}),
        ("DELETE FROM memberships WHERE memberships.id = ?", (4,), {"all"}),
        ("INSERT INTO outbox (a) VALUES (?)", (1,), set()),
    ],
)  # fmt: skip
def test_writes_move_the_stamps_of_what_they_change(statement, parameters, keys):
    from planner.feeds.versions import _Notes

    notes = _Notes()
    verb = statement.split()[0].upper()
    notes.note(verb, statement.split()[2 if verb != "UPDATE" else 1], statement, parameters)
    assert set(notes.keys()) == keys


def test_an_answer_moves_only_the_groups_stamp():
    from planner.feeds.versions import _Notes

    notes = _Notes()
    notes.note("INSERT", "rsvps", "INSERT INTO rsvps (a) VALUES (?)", (1,))
    bump = "UPDATE groups SET version=(groups.version + ?), updated_at=? WHERE groups.id = ?"
    notes.note("UPDATE", "groups", bump, (1, None, 7))
    assert notes.keys() == ["g:7"]
    notes.note("UPDATE", "overrides", "UPDATE overrides SET note=? WHERE overrides.id = ?", (1, 2))
    assert set(notes.keys()) == {"g:7", "s:7"}


def test_an_answer_moves_its_groups_stamp_and_not_everyones(
    app, make_user, make_group, make_routine, answer
):
    """The answer's transaction writes no groups row (its version bump follows the commit):
    it names its group, so it does not move the ``all`` stamp that every poll row reads."""
    from planner.feeds.versions import ALL, group_stamps, stamps_of

    owner, member = make_user("Owner"), make_user("Mia")
    group = make_group(owner, members=[member])
    routine = make_routine(group, "gathering")
    every, schedule = group_stamps(group.id)
    stamps = stamps_of(app)
    before = stamps.read((ALL, every, schedule))
    answer(member, routine, "going")
    after = stamps.read((ALL, every, schedule))
    assert before is not None and after is not None
    assert after[0] == before[0] and after[2] == before[2]  # not everyone's, not the schedule
    assert after[1] != before[1]


@pytest.mark.planner_backends("postgres")
def test_without_shared_stamps_several_processes_read_the_version(client, db, public, app):
    """Under a multi-process server on PostgreSQL without Redis (the processes may be on
    several hosts) a write in one would not move the others' stamps, so each poll reads the
    group's row: one indexed statement, no render. (SQLite shares them: test_poll_front.)"""
    add_routine(db, public)
    url = f"/feeds/g/{public.slug}.ics"
    several = {"wsgi.multiprocess": True}
    etag = client.get(url, environ_overrides=several).headers["ETag"]
    for _ in range(2):
        with count_statements(app, _feed_engine(app)) as statements:
            response = client.get(
                url, headers={"If-None-Match": etag}, environ_overrides=several
            )
            assert response.status_code == 304
        selects = _selects(statements)
        assert len(selects) == 1, statements
        assert "routines" not in selects[0]


def test_revoking_a_token_is_seen_by_the_next_poll(app, client, db, private, member, as_user):
    path = f"/feeds/t/{member.feed_token}/g/{private.slug}.ics"
    for _ in range(3):
        assert client.get(path).status_code == 200
    as_user(member).post("/feeds/token/revoke")
    assert client.get(path).status_code == 404


def test_leaving_is_seen_by_the_next_poll(client, db, private, member, answer):
    answer(member, add_routine(db, private, title="Secret supper"), "going")
    group_path = f"/feeds/t/{member.feed_token}/g/{private.slug}.ics"
    personal_path = f"/feeds/t/{member.feed_token}/me.ics"
    for _ in range(3):
        assert client.get(group_path).status_code == 200
        assert client.get(personal_path).status_code == 200
    before = client.get(personal_path).headers["ETag"]
    # A bulk delete, as no view does: the tracker cannot tell whose, so every entry goes stale.
    db.execute(delete(Membership).where(Membership.user_id == member.id))
    db.commit()
    assert client.get(group_path).status_code == 404
    left = client.get(personal_path)
    assert left.headers["ETag"] != before and b"Secret supper" not in left.data


# -- caches -----------------------------------------------------------------------------------


def test_rendered_bytes_are_cached_per_version(client, db, public):
    add_routine(db, public)
    url = f"/feeds/g/{public.slug}.ics"
    client.get(url)
    cache = feed_cache()
    assert isinstance(cache, MemoryCache)
    [key] = [k for k in cache._items if k.startswith("b:")]
    cache.set(key, b"BEGIN:VCALENDAR\r\nX-FROM-CACHE:yes\r\nEND:VCALENDAR\r\n")
    assert b"X-FROM-CACHE" in client.get(url).data
    bump_group_version(db, public.id)  # a bump alone (an answer's) changes nothing shown
    db.commit()
    assert b"X-FROM-CACHE" in client.get(url).data
    add_routine(db, public, title="Another")
    assert b"X-FROM-CACHE" not in client.get(url).data


def test_memory_cache_is_bounded_by_bytes():
    cache = MemoryCache(max_bytes=10)
    cache.set("a", b"12345")
    cache.set("b", b"12345")
    assert cache.get("a") == b"12345"  # a is now the most recent
    cache.set("c", b"123")
    assert cache.get("b") is None
    assert cache.get("a") == b"12345" and cache.get("c") == b"123"
    cache.set("huge", b"x" * 11)
    assert cache.get("huge") is None


REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except Exception as exc:
        skip_or_fail(f"Redis at {REDIS_TEST_URL} is unreachable: {exc}")
    yield client
    for key in client.scan_iter("planner:feed:*"):
        client.delete(key)
    client.close()


class TestWithRedis:
    @pytest.fixture
    def app_config(self, app_config, redis_client):
        return {**app_config, "REDIS_URL": REDIS_TEST_URL}

    def test_feed_bytes_are_shared_through_redis(self, app, client, db, public, redis_client):
        add_routine(db, public, title="Open supper")
        url = f"/feeds/g/{public.slug}.ics"
        body = client.get(url).data
        assert isinstance(feed_cache(), RedisCache)
        keys = [k for k in redis_client.scan_iter("planner:feed:b:*")]
        assert keys and any(redis_client.get(k) == body for k in keys)
        # Another worker (a second app on the same database and Redis) serves those bytes.
        for key in keys:
            redis_client.set(key, b"BEGIN:VCALENDAR\r\nX-SHARED:yes\r\nEND:VCALENDAR\r\n")
        from planner import create_app

        other = create_app({**app.config, "SERVER_NAME": app.config["SERVER_NAME"]})
        assert b"X-SHARED" in other.test_client().get(url).data
        other.extensions["planner_db"].engine.dispose()

    def test_a_write_in_another_worker_moves_the_stamps(
        self, app, client, db, public, redis_client
    ):
        """The stamps live in Redis, so a write through another app (another worker, on the
        same database and Redis) is seen by this one's next poll, which otherwise reads
        nothing: the rows are in process, the stamps one MGET away."""
        from planner import create_app
        from planner.models import Routine

        routine = add_routine(db, public, title="Open supper")
        url = f"/feeds/g/{public.slug}.ics"
        etag = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        with count_statements(app, _feed_engine(app)) as statements:
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert statements == []
        assert any(redis_client.scan_iter("planner:feed:stamp:*"))

        other = create_app(dict(app.config))
        with other.app_context():
            from planner.db import get_session

            session = get_session()
            found = session.get(Routine, routine.id)
            assert found is not None
            found.title = "Renamed elsewhere"
            bump_group_version(session, public.id)
            session.commit()
        other.extensions["planner_db"].engine.dispose()
        db.commit()  # requests here share the test's session: end its read, forget its rows
        db.expire_all()
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and summaries(changed) == {"Renamed elsewhere"}

    def test_redis_down_still_serves(self, app, client, db, public):
        from planner.feeds.versions import RedisStamps

        add_routine(db, public, title="Open supper")
        app.extensions["planner_feed_cache"] = RedisCache("redis://127.0.0.1:1/0")
        app.extensions["planner_feed_stamps"] = stamps = RedisStamps("redis://127.0.0.1:1/0")
        url = f"/feeds/g/{public.slug}.ics"
        for _ in range(3):
            assert summaries(client.get(url)) == {"Open supper"}
        add_routine(db, public, title="Late supper")  # its stamps cannot move: owed
        assert stamps.owed
        with count_statements(app, _feed_engine(app)) as statements:
            assert summaries(client.get(url)) == {"Open supper", "Late supper"}
        assert any("FROM groups" in s for s in statements)


# -- personal, routine and single-occurrence feeds --------------------------------------------


def test_personal_feed_lists_going_maybe_and_regular(client, db, make_group, owner, member):
    one = make_group(owner, name="One", members=[member])
    two = make_group(owner, name="Two", visibility="private", members=[member])
    elsewhere = make_group(owner, name="Elsewhere")  # member is not in it
    going = add_routine(db, one, title="Going one", start=next_local(days=3))
    maybe = add_routine(db, two, title="Maybe two", start=next_local(days=4))
    regular = add_routine(db, two, title="Regular two", start=next_local(days=5))
    declined = add_routine(db, one, title="Declined one", start=next_local(days=6))
    add_routine(db, one, title="Unanswered")
    foreign = add_routine(db, elsewhere, title="Not my group", start=next_local(days=2))
    db.add_all(
        [
            Rsvp(routine_id=going.id, original_start=going.start, user_id=member.id,
                 status="going"),
            Rsvp(routine_id=maybe.id, original_start=maybe.start, user_id=member.id,
                 status="maybe"),
            Rsvp(routine_id=declined.id, original_start=declined.start, user_id=member.id,
                 status="declined"),
            Rsvp(routine_id=foreign.id, original_start=foreign.start, user_id=member.id,
                 status="going"),
            Regular(routine_id=regular.id, user_id=member.id,
                    joined_at=datetime(2000, 1, 1)),
            # A regular who declines one occurrence does not get that one.
            Rsvp(routine_id=regular.id, original_start=regular.start + timedelta(weeks=1),
                 user_id=member.id, status="declined"),
        ]
    )
    db.commit()
    for group in (one, two, elsewhere):
        bump_group_version(db, group.id)
    db.commit()
    response = client.get(f"/feeds/t/{member.feed_token}/me.ics")
    events = events_of(response)
    titles = [str(e["SUMMARY"]) for e in events]
    assert "Going one" in titles and "Maybe two" in titles and "Regular two" in titles
    assert "Declined one" not in titles and "Unanswered" not in titles
    assert "Not my group" not in titles
    regular_starts = {
        e.decoded("DTSTART").replace(tzinfo=None)
        for e in events
        if str(e["SUMMARY"]) == "Regular two"
    }
    assert regular.start in regular_starts
    assert regular.start + timedelta(weeks=1) not in regular_starts
    assert regular.start + timedelta(weeks=2) in regular_starts
    # Each occurrence is its own event with its own UID; "maybe" is tentative.
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert all("RRULE" not in e for e in events)
    status = {str(e["SUMMARY"]): str(e["STATUS"]) for e in events}
    assert status["Maybe two"] == "TENTATIVE" and status["Going one"] == "CONFIRMED"


def test_personal_feed_changes_when_an_answer_changes(client, db, public, member):
    routine = add_routine(db, public, title="Open supper")
    url = f"/feeds/t/{member.feed_token}/me.ics"
    before = client.get(url)
    assert summaries(before) == set()
    db.add(Rsvp(routine_id=routine.id, original_start=routine.start, user_id=member.id,
                status="going"))
    bump_group_version(db, public.id)
    db.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert summaries(after) == {"Open supper"}


def test_leaving_a_group_removes_it_from_the_personal_feed(client, db, public, member):
    routine = add_routine(db, public, title="Open supper")
    db.add(Regular(routine_id=routine.id, user_id=member.id, joined_at=datetime(2000, 1, 1)))
    db.commit()
    url = f"/feeds/t/{member.feed_token}/me.ics"
    assert "Open supper" in summaries(client.get(url))
    db.execute(
        Membership.__table__.delete().where(
            Membership.group_id == public.id, Membership.user_id == member.id
        )
    )
    db.commit()
    assert summaries(client.get(url)) == set()


def test_routine_feed(client, db, public, private, member):
    wanted = add_routine(db, public, title="Wanted")
    add_routine(db, public, title="Other")
    assert summaries(client.get(f"/feeds/g/{public.slug}/r/{wanted.id}.ics")) == {"Wanted"}
    hidden = add_routine(db, private, title="Hidden")
    assert client.get(f"/feeds/g/{private.slug}/r/{hidden.id}.ics").status_code == 404
    response = client.get(f"/feeds/t/{member.feed_token}/g/{private.slug}/r/{hidden.id}.ics")
    assert summaries(response) == {"Hidden"}
    assert client.get(f"/feeds/g/{public.slug}/r/{hidden.id}.ics").status_code == 404
    assert client.get(f"/feeds/g/{public.slug}/r/999999.ics").status_code == 404


def test_single_occurrence_ics(client, db, public, private, member, outsider, as_user):
    routine = add_routine(db, public, title="Open supper")
    key = routine.start.strftime("%Y%m%dT%H%M")
    response = client.get(f"/feeds/g/{public.slug}/r/{routine.id}/{key}.ics")
    assert response.headers["Content-Disposition"].startswith("attachment")
    [single] = events_of(response)
    assert single.decoded("DTSTART").replace(tzinfo=None) == routine.start
    assert "RRULE" not in single and "RECURRENCE-ID" not in single
    assert re.fullmatch(rf"routine-{routine.id}-[0-9a-f]+-{key}@planner", str(single["UID"]))
    for bad in ("20000101T1900", "nonsense", "20261301T1900", "2026"):
        assert client.get(f"/feeds/g/{public.slug}/r/{routine.id}/{bad}.ics").status_code == 404

    secret = add_routine(db, private, title="Secret supper")
    path = f"/feeds/g/{private.slug}/r/{secret.id}/{secret.start:%Y%m%dT%H%M}.ics"
    assert client.get(path).status_code == 404
    assert as_user(outsider).get(path).status_code == 404
    assert summaries(as_user(member).get(path)) == {"Secret supper"}


def test_cancelled_single_occurrence_says_so(client, db, public):
    routine = add_routine(db, public, title="Open supper")
    add_override(db, routine, routine.start, "cancelled")
    key = routine.start.strftime("%Y%m%dT%H%M")
    [single] = events_of(client.get(f"/feeds/g/{public.slug}/r/{routine.id}/{key}.ics"))
    assert str(single["STATUS"]) == "CANCELLED"


def test_group_feed_uses_a_fixed_number_of_statements(client, db, public, app):
    def statements_for(routines: int) -> int:
        for i in range(routines):
            routine = add_routine(db, public, title=f"Routine {i}")
            for w in (1, 2):
                add_override(db, routine, routine.start + timedelta(weeks=w), "changed",
                             title="Moved", start=routine.start + timedelta(weeks=w, hours=1))
        with count_statements(app) as seen:
            assert client.get(f"/feeds/g/{public.slug}.ics").status_code == 200
        return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    few = statements_for(1)
    many = statements_for(12)
    assert few == many


def test_old_groups_stay_small(client, db, public):
    """Five years of weekly overrides: only the window's are listed, far below 1 MB."""
    start = next_local(days=-5 * 365)
    routine = add_routine(db, public, title="Old supper " + "x" * 100, start=start,
                          description="A long description. " * 50)
    for week in range(0, 5 * 52, 1):
        original = start + timedelta(weeks=week)
        if week % 2:
            db.add_all([])
            add_override(db, routine, original, "cancelled")
        else:
            add_override(db, routine, original, "changed", title="Moved " * 10,
                         start=original + timedelta(hours=1), note="Note " * 40)
    response = client.get(f"/feeds/g/{public.slug}.ics")
    assert len(response.data) < 100_000
    cal = calendar_of(response)
    cutoff = datetime.now(UTC) - timedelta(days=61)
    for e in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in e:
            assert e.decoded("DTSTART") > cutoff


# -- pages ------------------------------------------------------------------------------------


def test_subscribe_page_for_a_member(db, private, public, member, as_user):
    response = as_user(member).get("/feeds")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    host = "planner.test"
    assert f"webcal://{host}/feeds/t/{member.feed_token}/me.ics" in page
    assert f"http://{host}/feeds/t/{member.feed_token}/me.ics" in page
    assert f"webcal://{host}/feeds/t/{member.feed_token}/g/{private.slug}.ics" in page
    assert f"webcal://{host}/feeds/g/{public.slug}.ics" in page
    assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F" in page
    assert "readonly" in page and "data-copy" in page and " hidden>" in page
    for client_name in ("Google", "Apple", "Outlook", "Thunderbird"):
        assert client_name in page


def test_group_subscribe_page(client, db, public, private, outsider, as_user):
    page = client.get(f"/feeds/g/{public.slug}/subscribe").get_data(as_text=True)
    assert f"webcal://planner.test/feeds/g/{public.slug}.ics" in page
    assert client.get(f"/feeds/g/{private.slug}/subscribe").status_code == 404
    assert as_user(outsider).get(f"/feeds/g/{private.slug}/subscribe").status_code == 404


def test_group_page_links_its_feed(client, db, public, private, member, as_user):
    page = client.get(f"/g/{public.slug}").get_data(as_text=True)
    assert f'href="webcal://planner.test/feeds/g/{public.slug}.ics"' in page
    assert f'href="http://planner.test/feeds/g/{public.slug}.ics"' in page
    member_page = as_user(member).get(f"/g/{private.slug}").get_data(as_text=True)
    assert f"/feeds/t/{member.feed_token}/g/{private.slug}.ics" in member_page


def test_demo_public_group_links_its_feed(app, client, db):
    demo = pytest.importorskip("planner.dev.demo", reason="the demo data module is not there yet")
    demo.load_demo(db)
    db.commit()
    group = db.scalar(select(Group).where(Group.visibility == "public").order_by(Group.id))
    assert group is not None, "the demo has a public group"
    page = client.get(f"/g/{group.slug}").get_data(as_text=True)
    assert f"webcal://planner.test/feeds/g/{group.slug}.ics" in page
    assert client.get(f"/feeds/g/{group.slug}.ics").status_code == 200


def test_account_page_token_panel(db, member, as_user):
    browser = as_user(member)
    page = browser.get("/account").get_data(as_text=True)
    assert f"/feeds/t/{member.feed_token}/me.ics" in page
    assert "/feeds/token/regenerate" in page and "/feeds/token/revoke" in page
    browser.post("/feeds/token/revoke")
    page = browser.get("/account").get_data(as_text=True)
    assert "Create a calendar link" in page
    assert "/feeds/t/" not in page


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_token_actions_need_the_csrf_token(self, db, member, app):
        browser = app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        import re

        csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert csrf, "login form has a CSRF token"
        browser.post("/login", data={"email": member.email, "password": "password",
                                     "csrf_token": csrf.group(1)})
        old = member.feed_token
        assert browser.post("/feeds/token/revoke").status_code == 400
        db.expire_all()
        assert db.get(User, member.id).feed_token == old
        account = browser.get("/account").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', account).group(1)
        assert browser.post("/feeds/token/revoke", data={"csrf_token": token}).status_code == 302
        db.expire_all()
        assert db.get(User, member.id).feed_token is None


# -- logs -------------------------------------------------------------------------------------


def test_redact_replaces_the_token_segment():
    line = '127.0.0.1 - - "GET /feeds/t/Abc_def-123456789012345/me.ics HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - "GET /feeds/t/[redacted]/me.ics HTTP/1.1" 200 -'


def test_tokens_never_reach_the_request_log(app, db, private, member):
    """A real werkzeug server: its access log line carries the path, minus the token."""
    from werkzeug.serving import make_server

    add_routine(db, private, title="Secret supper")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("werkzeug")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        paths = (
            f"/feeds/t/{member.feed_token}/g/{private.slug}.ics",
            f"/feeds/t/{member.feed_token}/me.ics",
            "/feeds/t/wrong-token-xxxxxxxxxxxxxxx/me.ics",
        )
        for path in paths:
            conn.request("GET", path, headers={"Host": "planner.test"})
            conn.getresponse().read()
        conn.close()
    finally:
        server.shutdown()
        thread.join(5)
        logger.removeHandler(handler)
        logger.setLevel(level)
    log = stream.getvalue()
    assert "/feeds/t/[redacted]/me.ics" in log
    assert member.feed_token not in log
    assert any(isinstance(f, RedactTokens) for f in logger.filters)


def test_revoking_bumps_nothing_else(db, private, member, as_user):
    """Revoking is the member's own business: the group's feed version stays."""
    version = db.scalar(select(Group.version).where(Group.id == private.id))
    as_user(member).post("/feeds/token/revoke")
    db.expire_all()
    assert db.scalar(select(Group.version).where(Group.id == private.id)) == version
    db.execute(update(User).where(User.id == member.id).values(feed_token=None))


def test_occurrence_page_partial_links_the_single_ics(app, client, db, public):
    from flask import render_template

    from planner.routines.occurrences import series_of
    from planner.scheduling import recurrence

    routine = add_routine(db, public, title="Open supper")
    occurrence = recurrence.occurrence_at(series_of(routine), routine.start)
    with app.test_request_context():
        html = render_template(
            "feeds/_occurrence_links.html", group=public, routine=routine, occurrence=occurrence
        )
    href = f"/feeds/g/{public.slug}/r/{routine.id}/{occurrence.key}.ics"
    assert f'href="{href}"' in html
    assert summaries(client.get(href)) == {"Open supper"}


# -- per-feed ETags and compression ----------------------------------------------------------


def _etag(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.headers["ETag"]


def test_an_answer_changes_only_the_feeds_it_shows_in(
    app, client, make_user, make_group, make_routine, answer
):
    owner, member = make_user("Owner"), make_user("Mia")
    group = make_group(owner, members=[member])
    routine = make_routine(group, "gathering")
    group_path = f"/feeds/g/{group.slug}.ics"
    personal_path = f"/feeds/t/{member.feed_token}/me.ics"
    group_before, personal_before = _etag(client, group_path), _etag(client, personal_path)

    for path, etag in ((group_path, group_before), (personal_path, personal_before)):
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304

    answer(member, routine, "going")

    # The group feed is versioned by its schedule, which an answer does not move: its poll
    # reads the group's row again (the answer moved the group's stamp) and renders nothing.
    with count_statements(app, _feed_engine(app)) as statements:
        polled = client.get(group_path, headers={"If-None-Match": group_before})
    assert polled.status_code == 304 and polled.headers["ETag"] == group_before
    assert not [s for s in statements if "routines" in s], statements
    assert _etag(client, group_path) == group_before
    personal_after = _etag(client, personal_path)
    assert personal_after != personal_before
    assert b"SUMMARY" in client.get(personal_path).data  # the occurrence is in it now
    assert client.get(personal_path, headers={"If-None-Match": personal_before}).status_code == 200


def test_an_answer_changes_a_group_feed_that_shows_attendance(
    client, make_user, make_group, make_routine, answer, db
):
    """The sports plugin's ``ical_event`` reads attendance (TENTATIVE below the minimum): the
    render notices, and that feed is then versioned by every write, answers included."""
    owner, member = make_user("Owner"), make_user("Mia")
    group = make_group(owner, members=[member])
    routine = make_routine(group, "sports", {"sport": "Football", "min_players": 2})
    first = routine.start
    add_override(db, routine, first, "changed", title="Moved game", start=first)
    path = f"/feeds/g/{group.slug}.ics"
    before = client.get(path)
    moved = [e for e in events_of(before) if "RECURRENCE-ID" in e]
    assert [str(e["STATUS"]) for e in moved] == ["TENTATIVE"]
    assert client.get(path, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304

    answer(member, routine, "going", when=first)  # one of two: still TENTATIVE, same bytes
    assert client.get(path, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    answer(owner, routine, "going", when=first)

    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    moved = [e for e in events_of(after) if "RECURRENCE-ID" in e]
    assert [str(e["STATUS"]) for e in moved] == ["CONFIRMED"]


def test_head_gets_the_headers_of_get(client, db, public):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        got, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert head.status_code == 200 and head.data == b""
        for name in ("ETag", "Content-Length", "Content-Type", "Vary", "Last-Modified"):
            assert head.headers.get(name) == got.headers.get(name), name
        assert head.headers.get("Content-Encoding") == got.headers.get("Content-Encoding")
        assert got.headers["Accept-Ranges"] == "none"
        etag = got.headers["ETag"]
        assert client.head(path, headers={**headers, "If-None-Match": etag}).status_code == 304


def test_an_edit_changes_the_group_feeds_etag(client, db, make_user, make_group, make_routine):
    group = make_group(make_user())
    routine = make_routine(group, "gathering", title="Supper")
    path = f"/feeds/g/{group.slug}.ics"
    before = _etag(client, path)
    routine.title = "Late supper"
    bump_group_version(db, group.id)
    db.commit()
    assert _etag(client, path) != before
    assert b"Late supper" in client.get(path).data


def test_feeds_are_gzipped_once_for_clients_that_ask(app, client, db, public):
    import gzip

    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    plain = client.get(path)
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.vary
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.vary
    # Each representation has its own ETag, and a 304 only for the one this request selects.
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    gzip_etag, plain_etag = packed.headers["ETag"], plain.headers["ETag"]
    ask = {"Accept-Encoding": "gzip"}
    assert client.get(path, headers={**ask, "If-None-Match": gzip_etag}).status_code == 304
    assert client.get(path, headers={**ask, "If-None-Match": plain_etag}).status_code == 200
    assert client.get(path, headers={"If-None-Match": gzip_etag}).status_code == 200
    assert client.get(path, headers={"If-None-Match": plain_etag}).status_code == 304
    not_modified = client.get(path, headers={**ask, "If-None-Match": gzip_etag})
    assert not_modified.headers["ETag"] == gzip_etag and "Accept-Encoding" in not_modified.vary
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    cache = feed_cache()
    assert isinstance(cache, MemoryCache)
    [key] = [k for k in cache._items if k.startswith("z:")]
    cache.set(key, gzip.compress(b"BEGIN:VCALENDAR\r\nX-FROM-CACHE:yes\r\nEND:VCALENDAR\r\n"))
    app.extensions["planner_poll_front"].replies.clear()  # past the replayed replies
    again = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert b"X-FROM-CACHE" in gzip.decompress(again.data)  # compressed once, then reused
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data


@pytest.mark.parametrize(
    "header",
    ["", "gzip", "GZIP", "gzip, deflate, br", "br, gzip", "*", "identity", "deflate, br",
     "gzip;q=0", "gzip;q=0, identity", "gzip;q=0.5", "*;q=0", "br;q=1, *;q=0.1", "x-gzip"],
)  # fmt: skip
def test_gzip_is_chosen_as_werkzeug_would(app, header):
    from planner.web.views.feeds import _accepts_gzip

    with app.test_request_context(headers={"Accept-Encoding": header}):
        from flask import request

        assert _accepts_gzip(header) == (request.accept_encodings["gzip"] > 0)


def test_a_garbled_cache_entry_is_rendered_over(client, db, public):
    add_routine(db, public, title="Open supper")
    path = f"/feeds/g/{public.slug}.ics"
    client.get(path)
    cache = feed_cache()
    assert isinstance(cache, MemoryCache)
    for key in [k for k in cache._items if k.startswith("v:")]:
        cache.set(key, b"not a version entry")
    assert summaries(client.get(path)) == {"Open supper"}
