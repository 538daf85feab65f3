"""The answer nudge ("Are you coming?", ``Routine.ask_hours_before``) and the weekly digest,
each driven through the real minute jobs and read back from a real SMTP server (aiosmtpd), with
the clock set by the test (never a sleep).

The nudge: once, at its moment, only to members who said nothing; dropped at send time when they
answered in between; its one-click link answers through the confirm page. The digest: on the
chosen weekday from 08:00 on the reader's own clock, once per week, later the same day when the
worker was down, never the next day; what needs an answer with one-click links, what changed
since the last one, muted groups left out, an empty one skipped.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from planner.mail.delivery import deliver_due
from planner.models import GroupMailSettings, Membership, Override, Rsvp
from planner.notify import digest, reminders
from tests.reminder_world import regular, rows, say, sent, set_clock, settings, tick

# Thursday 25 March 2027, 19:00 Berlin (CET, UTC+1): 18:00 UTC.
START = datetime(2027, 3, 25, 19, 0)
START_UTC = datetime(2027, 3, 25, 18, 0)


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test"}


@pytest.fixture
def club(make_user, make_group, make_routine):
    owner = make_user("Olga Owner")
    quiet, said, fan, muted = (make_user(n) for n in ("Quinn Quiet", "Sara Said", "Fred Fan",
                                                       "Mia Muted"))  # fmt: skip
    group = make_group(owner, members=[quiet, said, fan, muted], name="Supper Club")
    routine = make_routine(group, "meals", title="Thursday supper", start=START,
                           location="Ada's kitchen", ask_hours_before=48)  # fmt: skip
    return group, routine, owner, quiet, said, fan, muted


def _text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _by_to(smtp):
    return {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}


# --------------------------------------------------------------------------- the nudge


def test_the_nudge_goes_once_at_its_moment_to_those_who_said_nothing(app, db, smtp, club):
    group, routine, owner, quiet, said, fan, muted = club
    say(db, routine, said, "maybe")
    regular(db, routine, fan)
    db.add(GroupMailSettings(user_id=muted.id, group_id=group.id, muted=["ask"]))
    db.commit()
    moment = START_UTC - timedelta(hours=48)
    tick(app, moment - timedelta(minutes=1))
    assert rows(db, "ask") == []
    tick(app, moment)
    tick(app, moment + timedelta(minutes=1))
    tick(app, moment + timedelta(hours=20))  # still before the date: never repeated
    asked = sorted(r.recipient for r in sent(db, "ask"))
    # The owner said nothing either; Sara answered, Fred is a regular, Mia muted the nudge.
    assert asked == sorted([owner.email, quiet.email])
    message = _by_to(smtp)[quiet.email]
    assert message["Subject"] == "Are you coming? Thursday 19:00: Thursday supper"
    text = _text(message)
    assert "are you coming to Thursday supper? The organizers of Supper Club" in text
    assert "When:  Thursday 25 March, 19:00 (Europe/Berlin)" in text
    assert "We ask once for this date." in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(smtp.inbox.messages) == 2


def test_the_nudge_s_one_click_link_answers_through_the_confirm_page(app, db, smtp, club,
                                                                    client):
    _, routine, _, quiet, *_ = club
    tick(app, START_UTC - timedelta(hours=48))
    text = _text(_by_to(smtp)[quiet.email])
    going = re.search(r"Going:\s+http://planner\.test(/a/\S+)", text).group(1)
    assert client.get(going).status_code == 200  # a scanner's GET answers nothing
    assert db.query(Rsvp).filter_by(user_id=quiet.id).count() == 0
    assert client.post(going, data={"every": "no"}).status_code == 200
    db.expire_all()
    assert db.query(Rsvp).filter_by(user_id=quiet.id).one().status == "going"


def test_an_answer_after_the_nudge_was_queued_drops_it_at_send_time(app, db, smtp, club):
    _, routine, owner, quiet, *_ = club
    set_clock(app, START_UTC - timedelta(hours=48))
    assert reminders.scan(app) == 5  # everyone said nothing; queued, not sent yet
    say(db, routine, quiet, "declined")
    deliver_due(app)
    received = {m["To"].addresses[0].addr_spec for m in smtp.inbox.messages}
    assert len(received) == 4 and quiet.email not in received
    assert quiet.email not in {r.recipient for r in sent(db, "ask")}
    tick(app, START_UTC - timedelta(hours=47))  # and no second nudge later
    assert len(sent(db, "ask")) == 4


def test_no_nudge_when_it_is_off_or_the_moment_passed_while_the_worker_was_down(
    app, db, smtp, club, make_routine
):
    group, routine, *_ = club
    make_routine(group, title="No nudge", start=START + timedelta(hours=1))
    # The worker wakes up after the date started: nothing, not a stale "Are you coming?".
    tick(app, START_UTC + timedelta(minutes=5))
    assert rows(db, "ask") == []
    assert smtp.inbox.messages == []


# --------------------------------------------------------------------------- the digest

# Monday 22 March 2027: 08:00 in Berlin is 07:00 UTC.
MONDAY_8 = datetime(2027, 3, 22, 7, 0)


def test_the_digest_goes_on_the_chosen_day_from_eight_once_a_week(app, db, smtp, club):
    group, routine, owner, quiet, said, fan, muted = club
    settings(db, quiet, digest_weekday=0)
    say(db, routine, quiet, "going")
    tick(app, MONDAY_8 - timedelta(minutes=1))
    assert rows(db, "digest") == []
    tick(app, MONDAY_8)
    tick(app, MONDAY_8 + timedelta(hours=10))
    assert [r.recipient for r in sent(db, "digest")] == [quiet.email]
    message = smtp.inbox.messages[-1]
    assert message["Subject"] == "Your week: 1 date"
    text = _text(message)
    assert ("- Thursday 25 March, 19:00: Thursday supper (Supper Club), Ada's kitchen "
            "[you: going]") in text
    assert "Still needs your answer" not in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Next Monday: the next week's digest, with the next Thursday.
    tick(app, MONDAY_8 + timedelta(weeks=1))
    assert len(sent(db, "digest")) == 2
    assert "Thursday 1 April, 19:00: Thursday supper" in _text(smtp.inbox.messages[-1])
    assert "Still needs your answer:" in _text(smtp.inbox.messages[-1])


def test_what_needs_an_answer_has_one_click_links_and_regulars_need_none(app, db, smtp, club,
                                                                        client):
    group, routine, owner, quiet, said, fan, muted = club
    settings(db, quiet, digest_weekday=0)
    settings(db, fan, digest_weekday=0)
    regular(db, routine, fan)
    tick(app, MONDAY_8)
    mails = _by_to(smtp)
    assert mails[quiet.email]["Subject"] == "Your week: 1 date, 1 to answer"
    text = _text(mails[quiet.email])
    maybe = re.search(r"Maybe:\s+http://planner\.test(/a/\S+)", text).group(1)
    client.post(maybe, data={"every": "no"})
    db.expire_all()
    assert db.query(Rsvp).filter_by(user_id=quiet.id).one().status == "maybe"
    fan_text = _text(mails[fan.email])
    assert "Thursday supper (Supper Club), Ada's kitchen [you: going]" in fan_text
    assert "Still needs your answer" not in fan_text


def test_a_worker_down_at_eight_sends_later_that_day_never_the_next(app, db, smtp, club,
                                                                   make_user):
    group, routine, owner, quiet, *_ = club
    nia = make_user("Nia York", timezone="America/New_York")
    db.add(Membership(group_id=group.id, user_id=nia.id, role="member"))
    db.commit()
    settings(db, quiet, digest_weekday=0)
    settings(db, nia, digest_weekday=0)
    # Berlin's Monday ended at 22:00 UTC, with the worker down all day: no digest on Tuesday.
    # New York (EDT, UTC-4) is at Monday 19:00: hers goes, late but the same day.
    tick(app, datetime(2027, 3, 22, 23, 0))
    assert [r.recipient for r in sent(db, "digest")] == [nia.email]
    assert "Thursday 25 March, 14:00" in _text(smtp.inbox.messages[0])  # her own clock


def test_changes_since_the_last_digest_and_an_empty_one_skipped(app, db, smtp, club,
                                                               make_user, make_group):
    group, routine, owner, quiet, *_ = club
    settings(db, quiet, digest_weekday=0)
    lonely = make_user("Lonely Reader")
    make_group(lonely, name="Empty Group")
    settings(db, lonely, digest_weekday=0)
    tick(app, MONDAY_8)
    assert [r.recipient for r in sent(db, "digest")] == [quiet.email]  # nothing for Lonely
    db.add(Override(routine_id=routine.id, original_start=START + timedelta(weeks=1),
                    status="cancelled", note="the kitchen is being painted",
                    updated_at=MONDAY_8 + timedelta(days=2)))  # fmt: skip
    db.commit()
    tick(app, MONDAY_8 + timedelta(weeks=1))
    text = _text(smtp.inbox.messages[-1])
    assert ("- Thursday supper on Thursday 01 April: cancelled (the kitchen is being painted)"
            in text)
    assert "Thursday 1 April, 19:00" not in text  # the cancelled date is not listed as coming
    assert len(sent(db, "digest")) == 2


def test_a_muted_group_is_left_out_and_switching_off_drops_a_queued_digest(
    app, db, smtp, club, make_group, make_routine
):
    group, routine, owner, quiet, *_ = club
    other = make_group(owner, members=[quiet], name="Walkers")
    make_routine(other, title="Evening walk", start=START - timedelta(hours=1))
    db.add(GroupMailSettings(user_id=quiet.id, group_id=group.id, muted=["digest"]))
    db.commit()
    settings(db, quiet, digest_weekday=0)
    tick(app, MONDAY_8)
    text = _text(smtp.inbox.messages[-1])
    assert "Evening walk (Walkers)" in text
    assert "Thursday supper" not in text
    set_clock(app, MONDAY_8 + timedelta(weeks=1))
    assert digest.scan(app) == 1
    settings(db, quiet, digest_weekday=None)
    deliver_due(app)
    assert len(sent(db, "digest")) == 1
    assert len(smtp.inbox.messages) == 1
