"""Address verification and changing the address, through the real forms and the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from planner.mail.outbox import Draft, queue
from planner.models import OutboxMessage, User, utcnow

LINK = re.compile(r"http://planner\.test(/account/(?:verify|email)/[\w.\-]+)")
SIGNUP = {
    "email": "nora@example.org", "display_name": "Nora", "password": "a long enough password",
    "confirm": "a long enough password", "timezone": "Europe/Berlin",
}


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock, "SITE_URL": "http://planner.test"}


def outbox(db, kind: str) -> list[OutboxMessage]:
    db.commit()
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id)))


def link_in(row: OutboxMessage) -> str:
    [path] = set(LINK.findall(row.body_text))
    return path


def test_sign_up_queues_a_verification_and_only_account_mail_reaches_the_unverified(
    app, db, client, clock
):
    assert client.post("/signup", data=SIGNUP).status_code in (302, 303)
    user = db.scalar(select(User).where(User.email == "nora@example.org"))
    assert user is not None and user.email_verified_at is None
    [row] = outbox(db, "verify")
    assert row.recipient == "nora@example.org" and row.user_id == user.id
    page = client.get("/account").get_data(as_text=True)
    assert "Your address is not confirmed yet" in page

    with app.test_request_context():
        queue(db, Draft(kind="promoted", recipient=user.email, user_id=user.id,
                        subject="A place", body_text="x", dedupe_key="gate:1"))
        db.commit()
    assert outbox(db, "promoted") == []  # not for an unconfirmed address

    clock.now += timedelta(minutes=2)
    assert client.post("/account/verify/resend").status_code == 302
    assert len(outbox(db, "verify")) == 2

    response = client.get(link_in(row))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is not None
    assert "not confirmed" not in client.get("/account").get_data(as_text=True)
    with app.test_request_context():
        queue(db, Draft(kind="promoted", recipient=user.email, user_id=user.id,
                        subject="A place", body_text="x", dedupe_key="gate:2"))
        db.commit()
    assert len(outbox(db, "promoted")) == 1


def test_changing_the_address_confirms_at_the_new_one_and_notices_the_old(
    app, db, make_user, as_user, client
):
    user = make_user("Ada", email="ada@example.org")
    make_user("Taken", email="taken@example.org")
    ada = as_user(user)
    wrong = ada.post("/account/email", data={"email": "new@example.org", "password": "nope"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.get_data(True)
    taken = ada.post("/account/email", data={"email": "taken@example.org",
                                              "password": "password"})
    assert taken.status_code == 400 and "Another account already uses" in taken.get_data(True)
    bad = ada.post("/account/email", data={"email": "new@example.org\r\nBcc: x@example.org",
                                            "password": "password"})
    assert bad.status_code == 400
    assert outbox(db, "email-change") == [] and outbox(db, "email-notice") == []

    ok = ada.post("/account/email", data={"email": "New@Example.org", "password": "password"})
    assert ok.status_code == 302
    [confirmation] = outbox(db, "email-change")
    [notice] = outbox(db, "email-notice")
    assert confirmation.recipient == "new@example.org"
    assert notice.recipient == "ada@example.org" and "new@example.org" in notice.body_text
    db.expire_all()
    assert db.get(User, user.id).email == "ada@example.org"  # not before the link is opened

    path = link_in(confirmation)
    assert client.get(path).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).email == "new@example.org"
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_a_forged_verification_link_is_refused_with_a_reason(client):
    response = client.get("/account/verify/not.a.token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
