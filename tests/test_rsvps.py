"""Answering an occurrence: going, maybe, can't go, guests, regulars, and bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from planner import hookimpl
from planner.joining.attendance import attendance_of
from planner.models import Override, Regular, Rsvp
from planner.scheduling.recurrence import format_key
from tests.joining import answer_path, key_of, last_flash, make_routine, next_week_start


class Recorder:
    """A plugin that records ``rsvp_changed`` calls, registered like any other plugin."""

    def __init__(self):
        self.calls: list[tuple[int, str | None, str | None]] = []

    @hookimpl
    def rsvp_changed(self, routine, original_start, user, status, previous):
        self.calls.append((user.id, previous, status))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app_config(app_config, recorder):
    return {**app_config, "EXTRA_PLUGINS": [recorder]}


@pytest.fixture
def club(db, make_user, make_group):
    owner, ann, bob = make_user("Olga Owner"), make_user("Ann"), make_user("Bob")
    group = make_group(owner, visibility="private", members=[ann, bob])
    routine = make_routine(db, group, capacity=10, max_guests=2)
    return group, routine, owner, ann, bob


def rsvps(db, routine):
    db.expire_all()
    return {r.user_id: r for r in db.scalars(select(Rsvp).where(Rsvp.routine_id == routine.id))}


def test_going_maybe_declined_and_withdraw(db, club, as_user, recorder):
    group, routine, _, ann, _ = club
    key = key_of(routine)
    client = as_user(ann)
    response = client.post(answer_path(group, routine, key), data={"status": "going"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/g/{group.slug}/r/{routine.id}/{key}#answers")
    assert last_flash(client) == "You're going."
    assert rsvps(db, routine)[ann.id].status == "going"
    assert recorder.calls == [(ann.id, None, "going")]

    client.post(answer_path(group, routine, key), data={"status": "maybe", "guests": "1"})
    row = rsvps(db, routine)[ann.id]
    assert (row.status, row.guests) == ("maybe", 1)
    assert last_flash(client) == "You answered maybe with 1 guest."

    client.post(answer_path(group, routine, key), data={"status": "declined", "guests": "2"})
    row = rsvps(db, routine)[ann.id]
    assert (row.status, row.guests) == ("declined", 0)  # someone not going brings nobody

    client.post(answer_path(group, routine, key), data={"status": "withdraw"})
    assert ann.id not in rsvps(db, routine)
    assert recorder.calls[-1] == (ann.id, "declined", None)
    assert last_flash(client) == "Your answer was withdrawn."


def test_guests_count_and_change_until_start(db, club, as_user):
    group, routine, _, ann, _ = club
    key = key_of(routine)
    client = as_user(ann)
    client.post(answer_path(group, routine, key), data={"status": "going", "guests": "2"})
    attendance = attendance_of(db, routine.id, routine.start)
    assert attendance.going_count == 3
    assert last_flash(client) == "You're going with 2 guests."
    client.post(answer_path(group, routine, key), data={"status": "going", "guests": "0"})
    assert attendance_of(db, routine.id, routine.start).going_count == 1


@pytest.mark.parametrize(
    ("guests", "code", "message"),
    [
        ("-1", 400, "Guests must be a number from 0 up."),
        ("3", 303, "You can bring at most 2 guests."),
        ("many", 400, "Not a valid integer value."),
    ],
)
def test_bad_guest_counts_change_nothing(db, club, as_user, guests, code, message):
    group, routine, _, ann, _ = club
    client = as_user(ann)
    client.post(answer_path(group, routine, key_of(routine)), data={"status": "maybe"})
    response = client.post(
        answer_path(group, routine, key_of(routine)), data={"status": "going", "guests": guests}
    )
    assert response.status_code == code
    if code == 400:
        assert message in response.get_data(as_text=True)
    else:
        assert last_flash(client) == message
    row = rsvps(db, routine)[ann.id]
    assert (row.status, row.guests) == ("maybe", 0)


def test_routine_without_guests_says_so(db, club, as_user, make_group):
    group, _, owner, ann, _ = club
    routine = make_routine(db, group, title="No guests", max_guests=0)
    client = as_user(ann)
    client.post(answer_path(group, routine, key_of(routine)), data={"status": "going", "guests": 1})
    assert last_flash(client) == "This routine doesn't take guests."
    assert rsvps(db, routine) == {}


def test_unknown_status_is_400(db, club, as_user):
    group, routine, _, ann, _ = club
    response = as_user(ann).post(
        answer_path(group, routine, key_of(routine)), data={"status": "waitlisted"}
    )
    assert response.status_code == 400
    assert "Choose going, maybe or can" in response.get_data(as_text=True)
    assert rsvps(db, routine) == {}


def test_past_occurrence_is_read_only(db, club, as_user):
    group, _, _, ann, _ = club
    start = next_week_start(days=-14)
    routine = make_routine(db, group, title="Old", start=start)
    client = as_user(ann)
    client.post(answer_path(group, routine, format_key(start)), data={"status": "going"})
    assert "already started" in last_flash(client)
    assert rsvps(db, routine) == {}


def test_cancelled_occurrence_is_read_only(db, club, as_user):
    group, routine, _, ann, _ = club
    second = routine.start + timedelta(weeks=1)
    db.add(Override(routine_id=routine.id, original_start=second, status="cancelled"))
    db.commit()
    client = as_user(ann)
    client.post(answer_path(group, routine, format_key(second)), data={"status": "going"})
    assert "cancelled" in last_flash(client)
    assert rsvps(db, routine) == {}


@pytest.mark.parametrize("key", ["20200101T0000", "notakey", "20991301T1900"])
def test_nonexistent_occurrence_is_404(db, club, as_user, key):
    group, routine, _, ann, _ = club
    response = as_user(ann).post(answer_path(group, routine, key), data={"status": "going"})
    assert response.status_code == 404
    assert rsvps(db, routine) == {}


def test_non_members_cannot_answer(db, club, make_user, make_group, as_user, client):
    group, routine, owner, _, _ = club
    outsider = make_user("Out Sider")
    path = answer_path(group, routine, key_of(routine))
    assert as_user(outsider).post(path, data={"status": "going"}).status_code == 404
    public = make_group(owner, name="Open Club", visibility="public")
    open_routine = make_routine(db, public, title="Open")
    public_path = answer_path(public, open_routine, key_of(open_routine))
    response = as_user(outsider).post(public_path, data={"status": "going"})
    assert response.status_code == 403
    anonymous = client.post(path, data={"status": "going"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    assert rsvps(db, routine) == {} and rsvps(db, open_routine) == {}


def test_double_submit_is_idempotent(db, club, as_user, recorder):
    group, routine, _, ann, _ = club
    client = as_user(ann)
    path = answer_path(group, routine, key_of(routine))
    version = group.version
    client.post(path, data={"status": "going", "guests": "1"})
    first = rsvps(db, routine)[ann.id].answered_at
    assert group.version == version + 1  # feeds show attendance, so their ETag must change
    client.post(path, data={"status": "going", "guests": "1"})
    assert db.scalar(select(func.count(Rsvp.id))) == 1
    assert rsvps(db, routine)[ann.id].answered_at == first
    assert group.version == version + 1
    assert recorder.calls == [(ann.id, None, "going")]  # the repeat changed nothing


def test_the_version_moves_once_the_answer_is_committed(app, db, club, as_user):
    """Every answer of a group bumps the one groups row: inside the answer's transaction it
    made each answer queue for that row while holding its occurrence lock. The bump now
    follows the answer's commit (in a transaction of its own), before the response."""
    group, routine, _, ann, _ = club
    seen: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany):
        seen.append(" ".join(text.split()[:3]).upper())

    def commit(conn):
        seen.append("COMMIT")

    engine = app.extensions["planner_db"].engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        version = group.version
        response = as_user(ann).post(
            answer_path(group, routine, key_of(routine)), data={"status": "going"}
        )
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert response.status_code == 303
    insert = seen.index("INSERT INTO RSVPS")
    bump = seen.index("UPDATE GROUPS SET")
    assert insert < seen.index("COMMIT", insert) < bump < seen.index("COMMIT", bump)
    db.expire_all()
    assert group.version == version + 1


def test_regulars_go_by_default_until_they_say_otherwise(db, club, as_user, recorder):
    group, routine, _, ann, _ = club
    client = as_user(ann)
    response = client.post(
        f"/g/{group.slug}/r/{routine.id}/regular", data={"next": "/somewhere"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/somewhere")
    assert "You're a regular now" in last_flash(client)
    first, second = routine.start, routine.start + timedelta(weeks=1)
    for start in (first, second):
        attendance = attendance_of(db, routine.id, start)
        assert attendance.status_of(ann.id) == "going"
        assert attendance.going[0].regular
    assert (ann.id, None, "going") in recorder.calls

    client.post(answer_path(group, routine, format_key(second)), data={"status": "declined"})
    assert attendance_of(db, routine.id, second).status_of(ann.id) == "declined"
    assert attendance_of(db, routine.id, first).status_of(ann.id) == "going"

    client.post(f"/g/{group.slug}/r/{routine.id}/regular/leave")
    assert db.scalar(select(func.count(Regular.id))) == 0
    assert attendance_of(db, routine.id, first).status_of(ann.id) is None
    assert attendance_of(db, routine.id, second).status_of(ann.id) == "declined"


def test_regular_past_occurrences_are_not_rewritten(db, club, as_user):
    group, _, _, ann, _ = club
    start = next_week_start(days=-14)
    routine = make_routine(db, group, title="Old", start=start)
    as_user(ann).post(f"/g/{group.slug}/r/{routine.id}/regular")
    assert attendance_of(db, routine.id, start).status_of(ann.id) is None
    assert attendance_of(db, routine.id, start + timedelta(weeks=3)).status_of(ann.id) == "going"


def test_unsafe_next_falls_back_to_the_occurrence(db, club, as_user):
    group, routine, _, ann, _ = club
    response = as_user(ann).post(
        answer_path(group, routine, key_of(routine)),
        data={"status": "going", "next": "//evil.example/"},
    )
    assert "evil" not in response.headers["Location"]


class TestWithCsrf:
    """The default test config turns CSRF off; here it is on, as in production."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_answer_needs_a_valid_token(self, app, db, club):
        group, routine, _, ann, _ = club
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        login = client.post(
            "/login", data={"email": ann.email, "password": "password", "csrf_token": token}
        )
        assert login.status_code in (302, 303)
        # Logging in starts a new session, so the form token comes from a page after it.
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)
        ).group(1)
        path = answer_path(group, routine, key_of(routine))
        refused = client.post(path, data={"status": "going"})
        assert refused.status_code == 400
        assert rsvps(db, routine) == {}
        accepted = client.post(path, data={"status": "going", "csrf_token": token})
        assert accepted.status_code == 303
        assert rsvps(db, routine)[ann.id].status == "going"
