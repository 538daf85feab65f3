"""Invite links: creating, revoking, joining (also through sign-up and log-in), and limits."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from planner.models import Invite, Membership, utcnow


def page(response) -> str:
    return response.get_data(as_text=True)


def invite_for(db, group, **fields) -> Invite:
    invite = Invite(token=secrets.token_urlsafe(16), group_id=group.id, **fields)
    db.add(invite)
    db.commit()
    return invite


def members(db, group) -> int:
    db.rollback()  # a fresh read: requests may have committed from other threads
    return db.scalar(select(func.count(Membership.id)).where(Membership.group_id == group.id))


@pytest.fixture
def club(make_user, make_group):
    owner = make_user("Olga")
    return make_group(owner, name="Sunday Football", visibility="private", slug="sunday-football")


def test_organizer_creates_and_revokes(as_user, make_user, make_group, db):
    owner, organizer = make_user(), make_user()
    group = make_group(owner, organizers=[organizer], visibility="private")
    client = as_user(organizer)
    response = client.post(
        f"/g/{group.slug}/invites", data={"expires_in_days": "7", "max_uses": "2"}
    )
    assert response.status_code == 302
    invite = db.scalar(select(Invite))
    assert invite.max_uses == 2 and invite.uses == 0 and invite.created_by_id == organizer.id
    assert timedelta(days=6, hours=23) < invite.expires_at - utcnow() <= timedelta(days=7)
    assert len(invite.token) >= 22  # 128 bits, URL-safe
    html = page(client.get(f"/g/{group.slug}/invites"))
    assert f"http://planner.test/invite/{invite.token}" in html
    assert "0 of 2 used" in html
    response = client.post(f"/g/{group.slug}/invites/{invite.id}/revoke")
    assert response.status_code == 302
    db.refresh(invite)
    assert invite.revoked_at is not None
    assert "revoked" in page(client.get(f"/g/{group.slug}/invites"))


def test_never_expiring_unlimited_invite(as_user, make_user, make_group, db):
    owner = make_user()
    group = make_group(owner)
    response = as_user(owner).post(
        f"/g/{group.slug}/invites", data={"expires_in_days": "", "max_uses": ""}
    )
    assert response.status_code == 302
    invite = db.scalar(select(Invite))
    assert invite.expires_at is None and invite.max_uses is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"expires_in_days": "0", "max_uses": ""}, "Choose 1 to 365 days"),
        ({"expires_in_days": "366", "max_uses": ""}, "Choose 1 to 365 days"),
        ({"expires_in_days": "soon", "max_uses": ""}, "Not a valid integer value"),
        ({"expires_in_days": "", "max_uses": "-1"}, "Choose 1 to 10000"),
        ({"expires_in_days": "", "max_uses": "9" * 30}, "Choose 1 to 10000"),
    ],
)
def test_create_rejects_bad_input(as_user, make_user, make_group, db, data, message):
    owner = make_user()
    group = make_group(owner)
    response = as_user(owner).post(f"/g/{group.slug}/invites", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert db.scalar(select(func.count(Invite.id))) == 0


def test_revoking_another_groups_invite_is_404(as_user, make_user, make_group, db):
    owner = make_user()
    mine, other = make_group(owner), make_group(make_user())
    invite = invite_for(db, other)
    response = as_user(owner).post(f"/g/{mine.slug}/invites/{invite.id}/revoke")
    assert response.status_code == 404
    db.refresh(invite)
    assert invite.revoked_at is None


def test_logged_in_person_joins(as_user, make_user, club, db):
    invite = invite_for(db, club)
    client = as_user(make_user())
    html = page(client.get(f"/invite/{invite.token}"))
    assert "Sunday Football" in html and "Join Sunday Football" in html
    response = client.post(f"/invite/{invite.token}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/g/sunday-football")
    assert members(db, club) == 2
    db.refresh(invite)
    assert invite.uses == 1
    # A second click is friendly and does not use up the invite.
    response = client.post(f"/invite/{invite.token}", follow_redirects=True)
    assert "already a member" in page(response)
    db.refresh(invite)
    assert invite.uses == 1
    assert "already a member" in page(client.get(f"/invite/{invite.token}"))


def test_logged_out_person_signs_up_and_joins(client, club, db):
    invite = invite_for(db, club)
    html = page(client.get(f"/invite/{invite.token}"))
    assert "Sign up and join" in html and "Log in and join" in html
    response = client.post(
        "/signup",
        data={
            "email": "new@example.org",
            "display_name": "New",
            "password": "long enough pw",
            "confirm": "long enough pw",
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/g/sunday-football")
    assert members(db, club) == 2
    html = page(client.get("/g/sunday-football"))
    assert "Welcome to Sunday Football!" in html


def test_logged_out_person_logs_in_and_joins(client, make_user, club, db):
    invite = invite_for(db, club)
    ben = make_user()
    response = client.post(f"/invite/{invite.token}")  # the Join button while logged out
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post("/login", data={"email": ben.email, "password": "password"})
    assert response.headers["Location"].endswith("/g/sunday-football")
    assert members(db, club) == 2


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"expires_at": utcnow() - timedelta(minutes=1)}, "has expired"),
        ({"max_uses": 1, "uses": 1}, "used as many times as allowed"),
        ({"revoked_at": utcnow()}, "was revoked"),
    ],
)
def test_unusable_invite_says_why(client, as_user, make_user, club, db, fields, reason):
    invite = invite_for(db, club, **fields)
    response = client.get(f"/invite/{invite.token}")
    assert response.status_code == 410
    assert reason in page(response)
    with client.session_transaction() as session:
        assert "pending_invite" not in session
    person = as_user(make_user())
    response = person.post(f"/invite/{invite.token}")
    assert response.status_code == 410
    assert reason in page(response)
    assert members(db, club) == 1


def test_unusable_invite_after_signup_is_explained(client, club, db):
    invite = invite_for(db, club, max_uses=1)
    client.get(f"/invite/{invite.token}")
    invite.uses = 1  # someone else took the last place meanwhile
    db.commit()
    response = client.post(
        "/signup",
        data={
            "email": "late@example.org",
            "display_name": "Late",
            "password": "long enough pw",
            "confirm": "long enough pw",
            "timezone": "UTC",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "used as many times as allowed" in page(response)
    assert members(db, club) == 1


def test_unknown_invite_is_404(client):
    response = client.get("/invite/not-a-real-token")
    assert response.status_code == 404
    assert "does not exist" in page(response)
    assert client.post("/invite/not-a-real-token").status_code == 404


def test_concurrent_joins_never_exceed_max_uses(app, make_user, club, db):
    invite = invite_for(db, club, max_uses=3)
    people = [make_user() for _ in range(8)]
    clients = []
    for person in people:
        client = app.test_client()
        client.post("/login", data={"email": person.email, "password": "password"})
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def join(client) -> None:
        barrier.wait()
        statuses.append(client.post(f"/invite/{invite.token}").status_code)

    threads = [threading.Thread(target=join, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] * 3 + [410] * 5
    assert members(db, club) == 1 + 3
    db.refresh(invite)
    assert invite.uses == 3
