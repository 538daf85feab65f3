"""The start page ("Next up") and the occurrence page: content, one-click answers, query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from planner.models import Claim, Comment, Group, Membership, Regular, Rsvp, Slot
from planner.scheduling.recurrence import format_key
from planner.testing import count_statements
from tests.joining import (
    answer_path,
    key_of,
    make_routine,
    next_week_start,
    occurrence_path,
)


def test_visitors_get_a_landing_page(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/signup"' in page and 'href="/groups"' in page
    assert "Next up" not in page


def test_someone_without_groups_is_pointed_to_the_directory(make_user, as_user):
    page = as_user(make_user("Lonely")).get("/").get_data(as_text=True)
    assert "Nothing in the next 14 days" in page


@pytest.fixture
def two_clubs(db, make_user, make_group):
    me, owner = make_user("Me"), make_user("Owner")
    suppers = make_group(owner, name="Suppers", members=[me])
    football = make_group(owner, name="Football", members=[me], visibility="private")
    supper = make_routine(db, suppers, title="Supper", start=next_week_start(days=2, hour=19))
    match = make_routine(db, football, title="Match", start=next_week_start(days=3, hour=10))
    hidden = make_group(owner, name="Not mine", visibility="private")
    make_routine(db, hidden, title="Secret", start=next_week_start(days=1))
    return me, suppers, football, supper, match


def test_next_up_lists_occurrences_across_groups_in_order(two_clubs, as_user):
    me, suppers, football, supper, match = two_clubs
    page = as_user(me).get("/").get_data(as_text=True)
    # Each routine's first open date needs an answer; the list below never repeats it.
    needs = page.split('id="needs-title"')[1].split('id="upcoming-title"')[0]
    assert re.findall(r"<strong>(Supper|Match|Secret)</strong>", needs) == ["Supper", "Match"]
    assert needs.count("2 dates need your answer") == 2
    upcoming = page.split('id="upcoming-title"')[1]
    titles = re.findall(r"<strong>(Supper|Match|Secret)</strong>", upcoming)
    assert titles == ["Supper", "Match"]  # the second week, in start order
    assert "Secret" not in page
    assert f'href="/g/{suppers.slug}">Suppers</a>' in page
    assert f'href="/g/{football.slug}">Football</a>' in page


def test_one_click_answer_returns_to_the_dashboard(db, two_clubs, as_user):
    me, suppers, football, supper, match = two_clubs
    client = as_user(me)
    page = client.get("/").get_data(as_text=True)
    action = answer_path(suppers, supper, key_of(supper))
    assert f'action="{action}"' in page
    anchor = f"#up-{supper.id}-{key_of(supper)}"
    response = client.post(action, data={"status": "going", "guests": "0", "next": "/" + anchor})
    assert response.status_code == 303 and response.headers["Location"].endswith("/" + anchor)
    page = client.get("/").get_data(as_text=True)
    assert "You&#39;re going." in page or "You're going." in page
    needs = page.split('id="needs-title"')[1].split('id="upcoming-title"')[0]
    assert len(re.findall(r'class="your-answer"', needs)) == 2  # next week's supper, a match
    assert needs.count("dates need your answer") == 1  # only the matches are still two
    # A regular has answered every occurrence by default.
    client.post(f"/g/{football.slug}/r/{match.id}/regular", data={"next": "/"})
    page = client.get("/").get_data(as_text=True)
    needs = page.split('id="needs-title"')[1].split('id="upcoming-title"')[0]
    assert len(re.findall(r'class="your-answer"', needs)) == 1
    assert 'data-status="going"' in page


def test_the_occurrence_page_shows_the_panel(db, two_clubs, as_user):
    me, suppers, _, supper, _ = two_clubs
    client = as_user(me)
    client.post(answer_path(suppers, supper, key_of(supper)), data={"status": "going"})
    page = client.get(occurrence_path(suppers, supper, key_of(supper))).get_data(as_text=True)
    assert 'id="answers"' in page and '<span class="name">Me</span>' in page
    assert 'data-status="going"' in page


# --------------------------------------------------------------------------- query counts


def populate(db, make_user, make_group, viewer, scale: int):
    """``scale`` groups of the viewer, each with ``scale`` members who answered, commented,
    took slots and became regulars; returns the first group and routine."""
    first = None
    owner = make_user("Owner")
    for g in range(scale):
        people = [make_user(f"P{g}-{i}") for i in range(scale)]
        group = make_group(owner, name=f"Club {g}", members=[viewer, *people])
        routine = make_routine(
            db, group, title=f"Routine {g}", capacity=scale // 2 + 1, max_guests=2,
            slots=(("Host", scale),),
        )
        slot = db.scalar(select(Slot).where(Slot.routine_id == routine.id))
        for i, person in enumerate(people):
            db.add(Rsvp(routine_id=routine.id, original_start=routine.start, user_id=person.id,
                        status=("going", "maybe", "declined")[i % 3], guests=i % 2))
            db.add(Comment(routine_id=routine.id, original_start=routine.start,
                           user_id=person.id, body=f"Comment https://example.org/{i}"))
            db.add(Claim(slot_id=slot.id, original_start=routine.start, user_id=person.id))
            if i % 2:
                db.add(Regular(routine_id=routine.id, user_id=person.id))
        db.commit()
        first = first or (group, routine)
    return first


def page_statements(app, client, path: str) -> int:
    with count_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("page", ["dashboard", "mine", "occurrence"])
def test_pages_issue_the_same_queries_at_1x_and_20x(
    app, db, make_user, make_group, as_user, page
):
    counts = []
    for scale in (1, 20):
        viewer = make_user(f"Viewer {scale}")
        group, routine = populate(db, make_user, make_group, viewer, scale)
        client = as_user(viewer)
        client.post(answer_path(group, routine, key_of(routine)), data={"status": "going"})
        path = {"dashboard": "/", "mine": "/groups/mine"}.get(page) or occurrence_path(
            group, routine, key_of(routine)
        )
        page_statements(app, client, path)  # warm caches that are per process, not per data
        counts.append(page_statements(app, client, path))
        assert db.scalar(select(Membership).where(Membership.user_id == viewer.id)) is not None
    assert counts[0] == counts[1], counts
    assert db.query(Group).count() == 1 + 20  # the data really grew


def test_a_daily_routine_needing_answers_is_one_row(db, make_user, make_group, as_user):
    me, owner = make_user("Me"), make_user("Owner")
    group = make_group(owner, name="Runners", members=[me])
    make_routine(db, group, title="Morning run", start=next_week_start(days=1, hour=7),
                 rrule="FREQ=DAILY;COUNT=5")
    page = as_user(me).get("/").get_data(as_text=True)
    needs = page.split('id="needs-title"')[1].split('id="upcoming-title"')[0]
    assert needs.count("<strong>Morning run</strong>") == 1
    assert "5 dates need your answer" in needs
    rest = page.split('id="upcoming-title"')[1]
    assert rest.count("<strong>Morning run</strong>") == 4  # the others, each once


def test_a_cancelled_date_offers_no_answer(db, make_user, make_group, as_user):
    me, owner = make_user("Me"), make_user("Owner")
    group = make_group(owner, name="Suppers", members=[me])
    supper = make_routine(db, group, title="Supper", start=next_week_start(days=2), rrule="")
    as_user(owner).post(
        f"/g/{group.slug}/r/{supper.id}/{key_of(supper)}/cancel",
        data={"reason": "Kitchen painted", "confirm": "yes"},
    )
    page = as_user(me).get("/").get_data(as_text=True)
    assert 'id="needs-title"' not in page
    item = page.split('id="upcoming-title"')[1]
    assert "Kitchen painted" in item and "cancelled" in item
    assert "going" not in item and "answered yet" not in item
    assert "answer-form" not in item


def test_past_days_are_not_on_the_dashboard(db, make_user, make_group, as_user):
    me, owner = make_user("Me"), make_user("Owner")
    group = make_group(owner, members=[me])
    old = make_routine(db, group, title="Old one-off", start=next_week_start(days=-3), rrule="")
    page = as_user(me).get("/").get_data(as_text=True)
    assert "Old one-off" not in page
    assert format_key(old.start) not in page
