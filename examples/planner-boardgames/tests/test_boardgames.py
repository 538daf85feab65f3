"""The whole plugin through the real app: form, slot, panel, feed."""

from planner.api import Status
from planner.testing import occurrence_path


def test_a_games_night(make_user, make_group, make_routine, answer, planner_as_user, fetch_feed):
    owner, ana, ben = make_user("Olga"), make_user("Ana"), make_user("Ben")
    group = make_group(owner, members=[ana, ben])
    details = {"games": "Azul, Catan", "weight": "heavy", "seats": 2}
    routine = make_routine(group, "boardgames", details)
    for person in (owner, ana, ben):
        answer(person, routine, Status.GOING)

    page = planner_as_user(ana).get(occurrence_path(routine)).get_data(as_text=True)
    assert "3 going: 2 tables of 2." in page and "Brings a game" in page

    [event] = fetch_feed(group).walk("VEVENT")
    assert "Games: Azul, Catan." in str(event["DESCRIPTION"])
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Board games", "Heavy games"]


def test_the_routine_form_shows_and_checks_the_fields(make_user, make_group, planner_as_user):
    owner = make_user("Olga")
    new, client = f"/g/{make_group(owner).slug}/routines/new", planner_as_user(owner)
    chosen = client.post(new, data={"activity": "boardgames", "shown_activity": "gathering"})
    assert 'name="details-seats"' in chosen.text and 'value="4"' in chosen.text
    data = {"activity": "boardgames", "shown_activity": "boardgames", "details-seats": "1"}
    bad = client.post(new, data=data)
    assert bad.status_code == 422 and "Number must be between 2 and 12." in bad.text
