"""Invite by e-mail through the organizers' real invite page: one mail per new address with a
fresh link and the note; members skipped and reported; bad input sends nothing and says why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from planner.enums import Visibility
from planner.mail import delivery
from planner.models import Invite, Membership, OutboxMessage


@pytest.fixture
def club(db, make_user, make_group):
    owner = make_user("Olga", email="olga@example.org")
    member = make_user("Mia", email="mia@example.org")
    group = make_group(owner, members=[member], visibility=Visibility.PRIVATE)
    return owner, member, group


def outbox(db) -> list[OutboxMessage]:
    db.commit()
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def post(as_user, owner, group, addresses: str, note: str = ""):
    return as_user(owner).post(
        f"/g/{group.slug}/invites/mail", data={"addresses": addresses, "note": note}
    )


def test_each_new_address_gets_its_own_mail_and_members_are_skipped(
    app, db, club, as_user, client
):
    owner, member, group = club
    organizer = as_user(owner)
    response = organizer.post(f"/g/{group.slug}/invites/mail", data={
        "addresses": "ann@example.org, bo@example.org\nMIA@example.org; ann@example.org",
        "note": "Bring a dish if you like!",
    })
    assert response.status_code == 302
    page = organizer.get(f"/g/{group.slug}/invites").get_data(as_text=True)
    assert "Invite mails are on their way to 2 addresses." in page
    assert "Already members, so not invited: mia@example.org." in page
    rows = outbox(db)
    assert [r.recipient for r in rows] == ["ann@example.org", "bo@example.org"]
    assert all(r.subject == f"Olga invites you to {group.name}" for r in rows)
    assert all("Bring a dish if you like!" in r.body_text for r in rows)
    assert all(r.headers["List-Id"] == f"{group.name} <{group.slug}.planner>" for r in rows)
    invite = db.scalar(select(Invite).where(Invite.group_id == group.id))
    assert invite is not None and invite.max_uses == 2
    assert f"/invite/{invite.token}" in rows[0].body_text
    # The mailed link really lets the person in.
    assert delivery.deliver_due(app).sent == 2
    db.commit()  # end this session's read snapshot: the worker wrote since
    from planner.models import User

    newcomer = User(email="ann@example.org", display_name="Ann", password_hash="x",
                    timezone="UTC")
    db.add(newcomer)
    db.commit()
    from planner.groups.invites import join_by_token

    joined, _message = join_by_token(db, invite.token, newcomer)
    assert joined is not None and joined.id == group.id
    assert db.scalar(select(Membership.id).where(Membership.user_id == newcomer.id))


@pytest.mark.parametrize(
    ("addresses", "note", "message"),
    [
        ("not-an-address, ok@example.org", "", "These are not e-mail addresses: not-an-address"),
        ("a@example.org\r\nBcc: x@example.org", "", "not e-mail addresses"),
        ("a@example.org", "Hi\r\nBcc: victim@example.org", "may not contain line breaks"),
        ("a@example.org", "line one\nline two", "may not contain line breaks"),
        (" ".join(f"p{n}@example.org" for n in range(51)), "", "invite at most 50 at a time"),
    ],
    ids=["malformed", "injected-address", "injected-note-crlf", "note-lf", "51-addresses"],
)
def test_bad_input_sends_nothing_and_says_why(db, club, as_user, addresses, note, message):
    owner, member, group = club
    response = post(as_user, owner, group, addresses, note)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert outbox(db) == []
    assert db.scalar(select(Invite.id).where(Invite.group_id == group.id)) is None


def test_fifty_addresses_are_fine(db, club, as_user):
    owner, member, group = club
    response = post(as_user, owner, group, "\n".join(f"p{n}@example.org" for n in range(50)))
    assert response.status_code == 302
    assert len(outbox(db)) == 50


def test_only_organizers_may_invite_by_mail(db, club, as_user):
    owner, member, group = club
    response = post(as_user, member, group, "ann@example.org")
    assert response.status_code == 403
    assert outbox(db) == []


class TestInviteMailRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "INVITE_MAIL_RATE_LIMIT": "5 per day"}

    def test_the_limit_counts_mails_per_group(self, db, club, as_user):
        owner, member, group = club
        first = post(as_user, owner, group, "a@example.org b@example.org c@example.org")
        second = post(as_user, owner, group, "d@example.org e@example.org f@example.org")
        assert (first.status_code, second.status_code) == (302, 429)
        assert len(outbox(db)) == 3
