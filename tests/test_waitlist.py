"""Capacity and the derived waitlist: strict arrival order, guests, promotions and notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from planner import hookimpl
from planner.joining import answers
from planner.joining.attendance import Attendance, _Said, attendance_of, derive
from planner.models import Membership, Regular, User
from planner.routines.occurrences import occurrence_or_404
from tests.joining import answer_path, key_of, last_flash, make_routine

T0 = datetime(2026, 1, 1, 12, 0)


def said(user_id: int, status: str = "going", guests: int = 0, minute: int = 0, kind: int = 0):
    return _Said(user_id, f"P{user_id}", status, guests, T0 + timedelta(minutes=minute), kind,
                 user_id, kind == 1)


class TestDerive:
    """The one definition of who has a place, checked without a database."""

    def test_fills_strictly_in_arrival_order(self):
        rows = [said(1, minute=3), said(2, minute=1), said(3, minute=2)]
        a = derive(1, T0, 2, rows, [], None)
        assert [p.user_id for p in a.going] == [2, 3]
        assert [p.user_id for p in a.waitlisted] == [1]
        assert a.position_of(1) == 1 and a.status_of(1) == "waitlisted"

    def test_a_party_that_does_not_fit_makes_everyone_after_it_wait(self):
        rows = [said(1, minute=1), said(2, guests=2, minute=2), said(3, minute=3)]
        a = derive(1, T0, 3, rows, [], None)
        # 1 takes one place; 2 needs three and only two are left; 3 would fit but arrived later.
        assert [p.user_id for p in a.going] == [1]
        assert [p.user_id for p in a.waitlisted] == [2, 3]
        assert a.going_count == 1 and a.places_left == 2 and a.waiting_count == 4

    def test_no_capacity_means_everyone_goes(self):
        a = derive(1, T0, None, [said(i, guests=5) for i in range(1, 30)], [], None)
        assert len(a.going) == 29 and not a.waitlisted and a.places_left is None

    def test_regulars_queue_by_joining_time_and_explicit_answers_win(self):
        regulars = [said(1, minute=0, kind=1), said(2, minute=5, kind=1)]
        rows = [said(3, minute=2), said(2, status="declined", minute=9)]
        a = derive(1, T0, 1, rows, regulars, T0 + timedelta(days=1))
        assert [p.user_id for p in a.going] == [1] and a.going[0].regular
        assert [p.user_id for p in a.waitlisted] == [3]
        assert a.status_of(2) == "declined" and a.is_regular(2)

    def test_regulars_do_not_count_for_occurrences_before_they_joined(self):
        a = derive(1, T0, None, [], [said(1, minute=60, kind=1)], T0)
        assert a.status_of(1) is None and a.is_regular(1)


@pytest.fixture
def notes():
    return []


@pytest.fixture
def app_config(app_config, notes):
    class Recorder:
        @hookimpl
        def rsvp_changed(self, routine, original_start, user, status, previous):
            notes.append((user.display_name, previous, status))

    return {**app_config, "EXTRA_PLUGINS": [Recorder()]}


@pytest.fixture
def full_house(db, make_user, make_group, as_user):
    """Capacity 3: A, B, C going; D and E waiting, in that order."""
    owner = make_user("Owner")
    people = [make_user(name) for name in "ABCDE"]
    group = make_group(owner, visibility="private", members=people)
    routine = make_routine(db, group, capacity=3, max_guests=3)
    clients = {p.display_name: as_user(p) for p in people}
    for name in "ABCDE":
        clients[name].post(answer_path(group, routine, key_of(routine)), data={"status": "going"})
    return group, routine, {p.display_name: p for p in people}, clients


def names(people):
    return [p.display_name for p in people]


def test_answers_beyond_capacity_wait_and_see_their_position(db, full_house, notes):
    group, routine, people, clients = full_house
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["A", "B", "C"]
    assert names(a.waitlisted) == ["D", "E"]
    assert last_flash(clients["E"]) == "All places are taken: you're number 2 on the waitlist."
    assert notes[-1] == ("E", None, "waitlisted")


@pytest.mark.parametrize("how", ["declined", "maybe", "withdraw"])
def test_a_freed_place_promotes_the_first_waiting_and_notifies(db, full_house, notes, how):
    group, routine, people, clients = full_house
    notes.clear()
    clients["B"].post(answer_path(group, routine, key_of(routine)), data={"status": how})
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["A", "C", "D"]
    assert names(a.waitlisted) == ["E"] and a.position_of(people["E"].id) == 1
    after = {"declined": "declined", "maybe": "maybe", "withdraw": None}[how]
    assert ("B", "going", after) in notes
    assert ("D", "waitlisted", "going") in notes
    assert len(notes) == 2  # E stays waiting: still waitlisted, now first


def test_changing_mind_back_to_going_joins_the_back_of_the_queue(db, full_house):
    group, routine, people, clients = full_house
    path = answer_path(group, routine, key_of(routine))
    clients["A"].post(path, data={"status": "maybe"})
    clients["A"].post(path, data={"status": "going"})
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["B", "C", "D"] and names(a.waitlisted) == ["E", "A"]


def test_going_people_keep_their_place_when_guests_shrink_and_cannot_push_others_out(
    db, full_house
):
    group, routine, people, clients = full_house
    path = answer_path(group, routine, key_of(routine))
    clients["A"].post(path, data={"status": "going", "guests": "1"})
    assert last_flash(clients["A"]) == "All places are taken, so you can't bring more guests now."
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["A", "B", "C"] and a.going[0].guests == 0
    # A waiting person may change their party freely: they only risk their own place.
    clients["D"].post(path, data={"status": "going", "guests": "2"})
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.waitlisted) == ["D", "E"] and a.waitlisted[0].guests == 2


def test_raised_capacity_promotes_and_notifies(db, full_house, notes, app):
    group, routine, people, clients = full_house
    notes.clear()
    with app.test_request_context():
        before = answers.snapshot(db, routine)
        routine.capacity = 4
        db.commit()
        answers.announce(db, routine, before)
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["A", "B", "C", "D"]
    assert ("D", "waitlisted", "going") in notes


def test_a_regular_takes_a_place_like_any_answer(db, make_user, make_group, as_user, notes):
    owner, reg, late = make_user("Owner"), make_user("Reggie"), make_user("Late")
    group = make_group(owner, members=[reg, late])
    routine = make_routine(db, group, capacity=1)
    as_user(late).post(answer_path(group, routine, key_of(routine)), data={"status": "going"})
    as_user(reg).post(f"/g/{group.slug}/r/{routine.id}/regular")
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["Late"] and names(a.waitlisted) == ["Reggie"]
    notes.clear()
    as_user(late).post(answer_path(group, routine, key_of(routine)), data={"status": "declined"})
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["Reggie"] and a.going[0].regular
    assert ("Reggie", "waitlisted", "going") in notes
    # Leaving as a regular frees the place on every upcoming occurrence.
    notes.clear()
    as_user(reg).post(f"/g/{group.slug}/r/{routine.id}/regular/leave")
    assert attendance_of(db, routine.id, routine.start).going == ()
    assert ("Reggie", "going", None) in notes
    assert db.query(Regular).count() == 0


def test_someone_who_left_the_group_frees_their_place(db, full_house):
    group, routine, people, clients = full_house
    db.query(Membership).filter_by(user_id=people["A"].id).delete()
    db.commit()
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["B", "C", "D"]


def test_panel_shows_lists_positions_and_guests_to_members_only(db, full_house, app):
    group, routine, people, clients = full_house
    clients["E"].post(
        answer_path(group, routine, key_of(routine)), data={"status": "going", "guests": "2"}
    )
    occurrence = occurrence_or_404(routine, key_of(routine))
    with app.test_request_context():
        html = render_template(
            "answers/_panel.html",
            **answers.occurrence_context(db, routine, occurrence, people["E"]),
        )
        stranger = render_template(
            "answers/_panel.html", **answers.occurrence_context(db, routine, occurrence, None)
        )
    assert "You're number 2 on the waitlist with 2 guests." in html
    assert '<ol class="people">' in html and "+2" in html
    for name in "ABCDE":
        assert f"<span class=\"name\">{name}</span>" in html
        assert f"<span class=\"name\">{name}</span>" not in stranger
    assert "3</strong> going of 3 places" in stranger
    assert isinstance(Markup(html), Markup)


def test_attendance_for_keeps_its_contract(db, full_house):
    _, routine, _, _ = full_house
    found = answers.attendance_for(db, [(routine.id, routine.start), (routine.id, routine.start)])
    assert list(found) == [(routine.id, routine.start)]
    assert isinstance(found[(routine.id, routine.start)], Attendance)
    assert answers.attendance_for(db, []) == {}
    assert answers.attendance_for(db, [(999999, routine.start)]) == {}


def test_raising_capacity_in_the_routine_form_promotes_and_notifies(
    db, full_house, notes, as_user, make_user
):
    """The organizer's real edit form, not a direct write: the edit runs under the routine
    lock and announces promotions after commit."""
    from tests.test_routines import form_data

    group, routine, people, clients = full_house
    owner = db.scalar(select(User).where(User.display_name == "Owner"))
    notes.clear()
    start = routine.start
    response = as_user(owner).post(
        f"/g/{group.slug}/r/{routine.id}/edit",
        data=form_data(
            title=routine.title,
            timezone=routine.timezone,
            start_date=start.date().isoformat(),
            start_time=start.strftime("%H:%M"),
            weekdays=[start.strftime("%a").upper()[:2]],
            capacity="5",
            max_guests="3",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    a = attendance_of(db, routine.id, routine.start)
    assert names(a.going) == ["A", "B", "C", "D", "E"] and a.waitlisted == ()
    assert ("D", "waitlisted", "going") in notes and ("E", "waitlisted", "going") in notes
