"""Destructive actions take two steps (issue 13): the first POST, without ``confirm=yes``,
shows what would happen and changes nothing; only the confirmed POST acts. No JavaScript is
involved, so this is the whole behaviour."""

from __future__ import annotations

import pytest

from planner.models import Group, Membership, Override, Routine
from tests.joining import key_of, make_routine, next_week_start

YES = {"confirm": "yes"}


@pytest.fixture
def club(db, make_user, make_group):
    owner, member = make_user("Olga Owner"), make_user("Max Member")
    group = make_group(owner, name="Supper Club", members=[member])
    routine = make_routine(db, group, title="Supper", start=next_week_start(days=3))
    return owner, member, group, routine


def _confirm_form(page: str, action: str) -> str:
    assert f'action="{action}"' in page
    assert 'name="confirm" value="yes"' in page
    return page


def test_ending_the_series_asks_first(club, as_user, db):
    owner, _member, group, routine = club
    client = as_user(owner)
    path = f"/g/{group.slug}/r/{routine.id}/end"
    rule = routine.rrule
    last = routine.start.date().isoformat()
    first = client.post(path, data={"last_date": last})
    assert first.status_code == 200
    page = _confirm_form(first.get_data(as_text=True), path)
    assert f'name="last_date" value="{last}"' in page and "Yes, end the series" in page
    db.expire_all()
    assert db.get(Routine, routine.id).rrule == rule  # nothing changed
    assert client.post(path, data={"last_date": last, **YES}).status_code == 302
    db.expire_all()
    assert "UNTIL=" in db.get(Routine, routine.id).rrule


def test_the_end_form_defaults_to_the_next_date_never_before_the_start(
    db, make_user, make_group, as_user
):
    owner = make_user()
    group = make_group(owner)
    later = make_routine(db, group, title="Later", start=next_week_start(days=40))
    page = as_user(owner).get(f"/g/{group.slug}/r/{later.id}").get_data(as_text=True)
    assert f'value="{later.start.date().isoformat()}"' in page.split('id="end-title"')[1]


def test_make_this_the_last_date_asks_first(club, as_user, db):
    owner, _member, group, routine = club
    client = as_user(owner)
    key = key_of(routine, weeks=2)
    occurrence = client.get(f"/g/{group.slug}/r/{routine.id}/{key}").get_data(as_text=True)
    assert "Make this the last date" in occurrence
    path = f"/g/{group.slug}/r/{routine.id}/end"
    last = routine.start.date().isoformat()
    data = {"last_date": last, "next_key": key}
    first = client.post(path, data=data)
    assert first.status_code == 200
    page = _confirm_form(first.get_data(as_text=True), path)
    assert f'name="next_key" value="{key}"' in page
    assert f'href="/g/{group.slug}/r/{routine.id}/{key}"' in page  # "keep it" goes back there
    db.expire_all()
    assert "UNTIL" not in db.get(Routine, routine.id).rrule
    assert client.post(path, data={**data, **YES}).status_code == 302
    db.expire_all()
    assert "UNTIL" in db.get(Routine, routine.id).rrule


def test_cancelling_a_date_asks_first(club, as_user, db):
    owner, _member, group, routine = club
    client = as_user(owner)
    path = f"/g/{group.slug}/r/{routine.id}/{key_of(routine)}/cancel"
    first = client.post(path, data={"reason": "Snow"})
    assert first.status_code == 200
    page = _confirm_form(first.get_data(as_text=True), path)
    assert 'name="reason" value="Snow"' in page and "Yes, cancel this date" in page
    assert db.query(Override).count() == 0
    assert client.post(path, data={"reason": "Snow", **YES}).status_code == 302
    assert db.query(Override).one().status == "cancelled"


def test_removing_a_member_asks_first(club, as_user, db):
    owner, member, group, _routine = club
    client = as_user(owner)
    path = f"/g/{group.slug}/members/{member.id}/remove"
    first = client.post(path)
    assert first.status_code == 200
    page = _confirm_form(first.get_data(as_text=True), path)
    assert "Remove Max Member from Supper Club?" in page
    members = db.query(Membership).filter_by(group_id=group.id)
    assert members.count() == 2
    assert client.post(path, data=YES).status_code == 303
    assert members.count() == 1


def test_deleting_a_group_asks_first(club, as_user, db):
    owner, _member, group, _routine = club
    client = as_user(owner)
    path = f"/g/{group.slug}/delete"
    first = client.post(path)  # the confirmation is typing the group's address
    assert first.status_code in (400, 422)
    assert "Type the web address to confirm." in first.get_data(as_text=True)
    wrong = client.post(path, data={"confirm_slug": "not-it"})
    assert f"Type {group.slug} exactly" in wrong.get_data(as_text=True)
    assert db.get(Group, group.id) is not None
    assert client.post(path, data={"confirm_slug": group.slug}).status_code == 302
    db.expire_all()
    assert db.get(Group, group.id) is None
