"""Organizers' messages: one mail per recipient, through a real SMTP server, read back.

Nobody sees another's address, those who opted out get none, the sender gets a copy, and the
``notification_queued`` hook sees every mail (the webhook example relies on it).
"""

from __future__ import annotations

import pytest

from planner import hookimpl
from planner.mail.delivery import deliver_due
from planner.notify import preferences
from planner.testing import occurrence_path

pytestmark = pytest.mark.usefixtures("smtp")


@pytest.fixture
def app_config(app_config, smtp, request):
    limited = request.node.get_closest_marker("rate_limited")
    return {**app_config, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test",
            **({"RATELIMIT_ENABLED": True, "MESSAGE_RATE_LIMIT": "2 per hour"} if limited
               else {})}


@pytest.fixture
def club(make_user, make_group, make_routine):
    owner = make_user("Olga Owner")
    going, maybe, quiet = make_user("Gina Going"), make_user("Mo Maybe"), make_user("Quinn Quiet")
    group = make_group(owner, members=[going, maybe, quiet])
    routine = make_routine(group, title="Thursday supper")
    return owner, going, maybe, quiet, group, routine


def test_a_message_to_everyone_going(app, db, as_user, answer, smtp, club):
    owner, going, maybe, quiet, group, routine = club
    answer(going, routine, "going")
    answer(maybe, routine, "maybe")
    page = occurrence_path(routine) + "/message"
    response = as_user(owner).post(page, data={"audience": "going", "text": "Bring a torch!"})
    assert response.status_code == 302
    deliver_due(app)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}
    assert set(by_recipient) == {going.email, owner.email}
    mail = by_recipient[going.email]
    body = mail.get_body(("plain",)).get_content()
    assert "Olga Owner wrote about Thursday supper" in body and "Bring a torch!" in body
    assert "a message from Olga Owner" in mail["Subject"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["References"].startswith(f"<occurrence-{routine.id}-")
    assert maybe.email not in mail.as_string()  # no one sees another's address
    copy = by_recipient[owner.email]
    assert copy["Subject"].startswith("Copy: ")
    assert "went to 1 person (everyone going)" in copy.get_body(("plain",)).get_content()


def test_a_message_to_all_members_skips_those_who_opted_out(app, db, as_user, smtp, club):
    owner, going, maybe, quiet, group, routine = club
    preferences.mute(db, user_id=quiet.id, group_id=group.id, category="message")
    preferences.save_group_choice(db, user_id=maybe.id, group_id=group.id, scope="none", muted=[])
    db.commit()
    as_user(owner).post(occurrence_path(routine) + "/message",
                        data={"audience": "members", "text": "New room this week."})
    deliver_due(app)
    recipients = sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.messages)
    assert recipients == sorted([going.email, owner.email])
    assert all(len(m["To"].addresses) == 1 for m in smtp.inbox.messages)


@pytest.mark.parametrize(("data", "error"), [
    ({"audience": "going", "text": "   "}, "Write the message first."),
    ({"audience": "going", "text": "x" * 2001}, "Keep the message under 2000 characters."),
    ({"audience": "everyone", "text": "Hi"}, "Not a valid choice"),
])
def test_bad_messages_are_refused_with_a_reason(app, db, as_user, smtp, club, data, error):
    owner, *_, routine = club
    response = as_user(owner).post(occurrence_path(routine) + "/message", data=data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    deliver_due(app)
    assert smtp.inbox.messages == []


@pytest.mark.rate_limited
def test_messages_are_rate_limited_per_sender(app, db, as_user, smtp, club):
    owner, *_, routine = club
    browser = as_user(owner)
    codes = [browser.post(occurrence_path(routine) + "/message",
                          data={"audience": "members", "text": f"Note {n}"}).status_code
             for n in range(3)]
    assert codes == [302, 302, 429]


class Recorder:
    def __init__(self):
        self.seen = []

    @hookimpl
    def notification_queued(self, draft, category, user_id, group_id):
        self.seen.append((draft.kind, category, user_id, group_id))
        draft.headers["X-Seen-By"] = "recorder"


def test_hook_notification_queued(app, db, as_user, smtp, club):
    owner, going, maybe, quiet, group, routine = club
    recorder = Recorder()
    app.extensions["planner"].pm.register(recorder)
    try:
        as_user(owner).post(occurrence_path(routine) + "/message",
                            data={"audience": "members", "text": "Hello all"})
    finally:
        app.extensions["planner"].pm.unregister(recorder)
    assert sorted(recorder.seen) == sorted(
        ("message", "message", u.id, group.id) for u in (going, maybe, quiet)
    )
    deliver_due(app)
    marked = [m for m in smtp.inbox.messages if m["X-Seen-By"] == "recorder"]
    assert len(marked) == 3  # the sender's copy is not a notification
