"""The account pages: profile, password, and what deleting an account removes and keeps."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from planner.accounts.passwords import check_password
from planner.models import (
    Claim,
    Comment,
    Group,
    Membership,
    Regular,
    Routine,
    Rsvp,
    Slot,
    User,
)

START = datetime(2026, 12, 3, 19, 0)


def page(response) -> str:
    return response.get_data(as_text=True)


def count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_profile_edit(as_user, make_user, db):
    user = make_user(name="Ada")
    client = as_user(user)
    assert "Ada" in page(client.get("/account"))
    response = client.post("/account", data={"display_name": "Ada L.", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    db.refresh(user)
    assert (user.display_name, user.timezone) == ("Ada L.", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "", "timezone": "UTC"}, "what to call you"),
        ({"display_name": "x" * 81, "timezone": "UTC"}, "at most 80 characters"),
        ({"display_name": "Ada", "timezone": "Europe/Atlantis"}, "Choose a timezone"),
    ],
)
def test_profile_rejects_bad_input(as_user, make_user, db, data, message):
    user = make_user(name="Ada")
    response = as_user(user).post("/account", data=data)
    assert response.status_code == 400
    assert message in page(response)
    db.refresh(user)
    assert (user.display_name, user.timezone) == ("Ada", "Europe/Berlin")


def test_change_password(as_user, make_user, db, client):
    user = make_user()
    session = as_user(user)
    response = session.post(
        "/account/password",
        data={"current": "password", "password": "new password 1", "confirm": "new password 1"},
    )
    assert response.status_code == 302
    db.refresh(user)
    assert check_password(user.password_hash, "new password 1")
    old = client.post("/login", data={"email": user.email, "password": "password"})
    assert old.status_code == 400
    login = client.post("/login", data={"email": user.email, "password": "new password 1"})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current": "wrong", "password": "new password 1", "confirm": "new password 1"},
            "That is not your current password.",
        ),
        ({"current": "password", "password": "short", "confirm": "short"}, "8 to 256"),
        (
            {"current": "password", "password": "new password 1", "confirm": "other one 12"},
            "The two passwords differ.",
        ),
    ],
)
def test_change_password_rejects(as_user, make_user, db, data, message):
    user = make_user()
    before = user.password_hash
    response = as_user(user).post("/account/password", data=data)
    assert response.status_code == 400
    assert message in page(response)
    db.refresh(user)
    assert user.password_hash == before


def test_delete_page_explains_what_happens(as_user, make_user):
    html = page(as_user(make_user()).get("/account/delete"))
    for words in ("RSVPs", "regular spots", "deleted member", "only owner"):
        assert words in html


def _activity(db, group: Group, user: User) -> Routine:
    routine = Routine(
        group_id=group.id,
        title="Supper",
        timezone="Europe/Berlin",
        start=START,
        rrule="FREQ=WEEKLY;BYDAY=TH",
        details={},
    )
    db.add(routine)
    db.flush()
    slot = Slot(routine_id=routine.id, label="Host")
    db.add(slot)
    db.flush()
    db.add_all(
        [
            Rsvp(routine_id=routine.id, original_start=START, user_id=user.id, status="going"),
            Regular(routine_id=routine.id, user_id=user.id),
            Claim(slot_id=slot.id, original_start=START, user_id=user.id),
            Comment(routine_id=routine.id, original_start=START, user_id=user.id, body="Hi!"),
        ]
    )
    db.commit()
    return routine


def test_delete_account_removes_answers_and_keeps_comments(as_user, make_user, make_group, db):
    owner, leaving = make_user(), make_user()
    group = make_group(owner, members=[leaving])
    _activity(db, group, leaving)
    version = group.version
    client = as_user(leaving)
    response = client.post("/account/delete", data={"password": "password", "confirm": "y"})
    assert response.status_code == 302
    assert count(db, User, User.id == leaving.id) == 0
    assert count(db, Membership, Membership.user_id == leaving.id) == 0
    assert count(db, Rsvp) == 0
    assert count(db, Regular) == 0
    assert count(db, Claim) == 0
    comment = db.scalar(select(Comment))
    assert comment.body == "Hi!" and comment.user_id is None
    db.refresh(group)
    assert group.version > version
    assert client.get("/account").status_code == 302  # logged out


def test_delete_account_blocked_while_only_owner(as_user, make_user, make_group, db):
    owner, member = make_user(), make_user()
    make_group(owner, name="Supper Club", members=[member])
    make_group(owner, name="Chess Night", visibility="private")
    client = as_user(owner)
    assert "Supper Club" in page(client.get("/account/delete"))
    response = client.post("/account/delete", data={"password": "password", "confirm": "y"})
    assert response.status_code == 409
    html = page(response)
    assert "Hand over or delete the groups you own alone first" in html
    assert "Chess Night" in html and "Supper Club" in html
    assert count(db, User, User.id == owner.id) == 1
    assert count(db, Membership) == 3


def test_delete_account_allowed_with_a_co_owner(as_user, make_user, make_group, db):
    owner, co_owner = make_user(), make_user()
    group = make_group(owner)
    db.add(Membership(group_id=group.id, user_id=co_owner.id, role="owner"))
    db.commit()
    response = as_user(owner).post(
        "/account/delete", data={"password": "password", "confirm": "y"}
    )
    assert response.status_code == 302
    assert count(db, Group) == 1
    assert count(db, Membership) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "wrong", "confirm": "y"}, "That is not your password."),
        ({"password": "password"}, "Tick the box to confirm."),
        ({"confirm": "y"}, "Enter your password to confirm."),
    ],
)
def test_delete_account_rejects(as_user, make_user, db, data, message):
    user = make_user()
    response = as_user(user).post("/account/delete", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert count(db, User) == 1
