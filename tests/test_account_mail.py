"""Account and waitlist mails end to end: the real forms, the outbox, the real delivery (``.eml``
files or aiosmtpd), and the links in the mails followed back into the app."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from planner.mail import delivery
from planner.models import OutboxMessage, User, utcnow
from tests.joining import answer_path, key_of, make_routine

LINK = re.compile(r"https?://\S+/password/reset/[\w.\-]+")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "CLOCK": clock, "SITE_URL": "http://planner.test"}


def outbox(db, kind: str | None = None) -> list[OutboxMessage]:
    db.commit()  # end the read snapshot and forget stale rows: the worker wrote elsewhere
    db.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.scalars(query))


def read_eml(path: str) -> email.message.EmailMessage:
    with open(path, "rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)  # type: ignore[return-value]


def reset_link(app, db) -> str:
    assert delivery.deliver_due(app).sent >= 1
    [row] = outbox(db, "reset")[-1:]
    message = read_eml(row.path)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [link] = set(LINK.findall(text))
    assert link in html
    return link.replace("http://planner.test", "")


# --------------------------------------------------------------------------- password reset


def test_forgot_password_mails_a_link_that_resets_once(app, db, client, make_user, auth):
    user = make_user("Ada", email="ada@example.org", password="old password!")
    page = client.get("/login").get_data(as_text=True)
    assert "/password/forgot" in page and "Forgot your password?" in page
    response = client.post("/password/forgot", data={"email": "ADA@example.org"},
                           follow_redirects=True)
    assert "If an account has that address" in response.get_data(as_text=True)
    [row] = outbox(db, "reset")
    assert row.recipient == "ada@example.org" and row.user_id == user.id
    assert row.state == "queued"  # nothing is sent inside the request
    path = reset_link(app, db)
    assert client.get(path).status_code == 200
    done = client.post(path, data={"password": "a new password", "confirm": "a new password"})
    assert done.status_code in (302, 303)
    client.post("/logout")
    assert auth.login("ada@example.org", "a new password").status_code in (302, 303)
    client.post("/logout")
    again = client.post(path, data={"password": "third password", "confirm": "third password"})
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)


def test_the_answer_is_the_same_for_an_unknown_address_and_nothing_is_queued(app, db, client,
                                                                              make_user):
    make_user("Ada", email="ada@example.org")
    known = client.post("/password/forgot", data={"email": "ada@example.org"},
                        follow_redirects=True).get_data(as_text=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"},
                          follow_redirects=True).get_data(as_text=True)
    message = "If an account has that address, a mail with a reset link is on its way."
    assert message in known and message in unknown
    assert [r.recipient for r in outbox(db)] == ["ada@example.org"]


def test_a_reset_link_expires_after_an_hour(app, db, client, make_user, clock):
    make_user("Ada", email="ada@example.org")
    client.post("/password/forgot", data={"email": "ada@example.org"})
    path = reset_link(app, db)
    clock.advance(minutes=61)
    response = client.post(path, data={"password": "a new password", "confirm": "a new password"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_password_change_invalidates_an_unused_link(app, db, client, make_user, as_user):
    user = make_user("Ada", email="ada@example.org")
    client.post("/password/forgot", data={"email": "ada@example.org"})
    path = reset_link(app, db)
    as_user(user).post("/account/password", data={
        "current": "password", "password": "changed password", "confirm": "changed password",
    })
    response = client.get(path)
    assert response.status_code == 400 and "already used" in response.get_data(as_text=True)


def test_a_tampered_link_is_refused_with_a_reason(client):
    response = client.get("/password/reset/eyJ1IjoxfQ.forged.signature")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


class TestResetRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "RESET_RATE_LIMIT": "3 per minute"}

    def test_forgot_password_is_rate_limited(self, db, client, make_user):
        make_user("Ada", email="ada@example.org")
        codes = [client.post("/password/forgot", data={"email": "ada@example.org"}).status_code
                 for _ in range(4)]
        assert codes == [302, 302, 302, 429]
        assert len(outbox(db, "reset")) == 1  # and one mail: the same minute dedupes


# --------------------------------------------------------------------------- waitlist promotion


@pytest.fixture
def twelve(db, make_user, make_group, as_user):
    """10 places, 12 going answers: 10 going, 2 waiting (members 11 and 12)."""
    owner = make_user("Owner")
    people = [make_user(f"Member {i:02d}", email=f"m{i:02d}@example.org", timezone="Asia/Tokyo")
              for i in range(1, 13)]
    group = make_group(owner, visibility="private", members=people)
    routine = make_routine(db, group, capacity=10)
    clients = {p.id: as_user(p) for p in people}
    path = answer_path(group, routine, key_of(routine))
    for p in people:
        clients[p.id].post(path, data={"status": "going"})
    return group, routine, people, clients, path


def test_two_declines_mail_exactly_the_two_promoted_once_each(app, db, twelve):
    group, routine, people, clients, path = twelve
    assert outbox(db, "promoted") == []
    clients[people[0].id].post(path, data={"status": "declined"})
    clients[people[1].id].post(path, data={"status": "declined"})
    clients[people[1].id].post(path, data={"status": "declined"})  # said twice: no new mail
    rows = outbox(db, "promoted")
    assert sorted(r.recipient for r in rows) == ["m11@example.org", "m12@example.org"]
    assert all(r.subject == f"A place opened up: you're going to {routine.title}" for r in rows)
    assert all(r.headers["List-Id"].endswith(f"<{group.slug}.planner>") for r in rows)
    # In the reader's zone (Tokyo), with the occurrence's link.
    assert "(Asia/Tokyo)" in rows[0].body_text
    assert f"/g/{group.slug}/r/{routine.id}/{key_of(routine)}" in rows[0].body_text
    assert delivery.deliver_due(app).sent == 2
    assert delivery.deliver_due(app).sent == 0


def test_racing_declines_and_two_workers_still_mail_each_promoted_once(app, db, twelve):
    group, routine, people, clients, path = twelve
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def decline(person) -> None:
        barrier.wait()
        try:
            response = clients[person.id].post(path, data={"status": "declined"})
            if response.status_code != 303:
                errors.append(str(response.status_code))
        except Exception as exc:  # any crash is a failed request
            errors.append(repr(exc))

    threads = [threading.Thread(target=decline, args=(p,)) for p in people[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    rows = outbox(db, "promoted")
    assert sorted(r.recipient for r in rows) == ["m11@example.org", "m12@example.org"]

    app.config["MAIL_BATCH_SIZE"] = 1
    reports = []
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        reports.append(delivery.deliver_due(app))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sum(r.sent for r in reports) == 2
    files = sorted(r.path for r in outbox(db, "promoted"))
    assert len(set(files)) == 2 and all(f.endswith(".eml") for f in files)


def test_raised_capacity_in_the_routine_form_mails_the_promoted(app, db, twelve, as_user):
    from tests.test_routines import form_data

    group, routine, people, clients, path = twelve
    owner = db.scalar(select(User).where(User.display_name == "Owner"))
    start = routine.start
    response = as_user(owner).post(
        f"/g/{group.slug}/r/{routine.id}/edit",
        data=form_data(
            title=routine.title,
            timezone=routine.timezone,
            start_date=start.date().isoformat(),
            start_time=start.strftime("%H:%M"),
            weekdays=[start.strftime("%a").upper()[:2]],
            capacity="11",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert [r.recipient for r in outbox(db, "promoted")] == ["m11@example.org"]


def test_a_deleted_account_mails_who_takes_the_place(app, db, twelve):
    group, routine, people, clients, path = twelve
    response = clients[people[0].id].post(
        "/account/delete", data={"password": "password", "confirm": "y"}
    )
    assert response.status_code in (302, 303)
    rows = outbox(db, "promoted")
    assert [r.recipient for r in rows] == ["m11@example.org"]


@pytest.mark.parametrize("how", ["withdraw", "maybe"])
def test_a_withdrawal_or_a_maybe_mails_the_first_waiting(app, db, twelve, how):
    group, routine, people, clients, path = twelve
    clients[people[3].id].post(path, data={"status": how})
    assert [r.recipient for r in outbox(db, "promoted")] == ["m11@example.org"]
