"""The minute scan's reminders, read back from a real SMTP server, with the clock driven by the
test: the evening before in the member's own zone on both sides of a DST change, the morning
of and hours before, each once; nothing for those who should not hear; a change after queueing
dropped at send time; the statement count flat in the number of members."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from planner.models import GroupMailSettings, Membership, OutboxMessage, Override, Rsvp
from planner.notify import reminders
from planner.testing import count_statements
from tests.reminder_world import regular, rows, say, sent, set_clock, settings, tick

# Monday 22 March 2027, 19:00 Berlin: the next Monday, 29 March, is the first after the clocks
# go forward (Sunday 28 March, 02:00 -> 03:00).
SPRING = datetime(2027, 3, 22, 19, 0)
# Monday 25 October 2027; the clocks go back on Sunday 31 October.
AUTUMN = datetime(2027, 10, 25, 19, 0)


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test"}


@pytest.fixture
def club(make_user, make_group, make_routine):
    owner = make_user("Olga Owner")
    gina = make_user("Gina Going")
    group = make_group(owner, members=[gina], name="Supper Club")
    routine = make_routine(group, "meals", title="Thursday supper", start=SPRING,
                           location="Invalidenstraße 50, Berlin")
    return owner, gina, group, routine


def _body(message):
    return message.get_body(("plain",)).get_content()


def test_evening_before_at_the_members_hour_across_the_spring_dst_change(app, db, smtp, club):
    _, gina, _, routine = club
    say(db, routine, gina, "going", SPRING)
    say(db, routine, gina, "going", SPRING + timedelta(weeks=1))
    # Sunday 21 March, 18:00 CET is 17:00 UTC.
    tick(app, datetime(2027, 3, 21, 16, 59))
    assert rows(db, "reminder") == []
    tick(app, datetime(2027, 3, 21, 17, 0))
    tick(app, datetime(2027, 3, 21, 17, 1))  # the scan again: still one
    assert len(sent(db, "reminder")) == 1
    # Sunday 28 March, 18:00 CEST is 16:00 UTC (an hour earlier in UTC than the week before).
    tick(app, datetime(2027, 3, 28, 15, 59))
    assert len(sent(db, "reminder")) == 1
    tick(app, datetime(2027, 3, 28, 16, 0))
    tick(app, datetime(2027, 3, 28, 16, 30))
    assert len(sent(db, "reminder")) == 2
    assert len(smtp.inbox.messages) == 2
    first, second = smtp.inbox.messages
    assert first["Subject"] == "Tomorrow 19:00: Thursday supper"
    assert second["Subject"] == "Tomorrow 19:00: Thursday supper"
    text = _body(second)
    assert "Monday 29 March, 19:00 (Europe/Berlin)" in text
    assert "openstreetmap.org/search?query=Invalidenstra" in text
    assert "http://planner.test/a/" in text  # one-click answers
    assert "Salad is still free: take it" in text  # the meal's open slots
    assert "Still missing:" in text  # the meal's own lines
    assert second["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert second["In-Reply-To"].startswith(f"<occurrence-{routine.id}-20270329T1900@")


def test_the_autumn_change_and_a_member_in_another_zone(app, db, smtp, make_user, club):
    _, gina, group, routine = club
    ny = make_user("Nia York", timezone="America/New_York")
    db.add(Membership(group_id=group.id, user_id=ny.id, role="member"))
    db.commit()
    for who in (gina, ny):
        say(db, routine, who, "going", datetime(2027, 11, 1, 19, 0))
    # Berlin: Sunday 31 October 18:00 CET (after the change) is 17:00 UTC.
    # New York (still EDT until 7 November): Sunday 31 October 18:00 EDT is 22:00 UTC.
    tick(app, datetime(2027, 10, 31, 16, 59))
    assert sent(db, "reminder") == []
    tick(app, datetime(2027, 10, 31, 17, 0))
    assert [r.recipient for r in sent(db, "reminder")] == [gina.email]
    tick(app, datetime(2027, 10, 31, 21, 59))
    assert len(sent(db, "reminder")) == 1
    tick(app, datetime(2027, 10, 31, 22, 0))
    assert [r.recipient for r in sent(db, "reminder")] == [gina.email, ny.email]
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}
    # The New Yorker reads the date on their own clock: 19:00 Berlin is 14:00 there.
    assert "Monday 1 November, 14:00 (America/New_York)" in _body(by_to[ny.email])
    assert by_to[ny.email]["Subject"] == "Tomorrow 14:00: Thursday supper"


@pytest.mark.parametrize(
    ("choice", "due_utc"),
    [
        ({"reminder": "morning", "reminder_hour": 8}, datetime(2027, 3, 22, 7, 0)),  # 08:00 CET
        ({"reminder": "hours", "hours_before": 3}, datetime(2027, 3, 22, 15, 0)),
        ({"reminder": "evening", "reminder_hour": 21}, datetime(2027, 3, 21, 20, 0)),
    ],
)
def test_morning_of_and_hours_before_each_once(app, db, smtp, club, choice, due_utc):
    _, gina, _, routine = club
    say(db, routine, gina, "going")
    settings(db, gina, **choice)
    tick(app, due_utc - timedelta(minutes=1))
    assert sent(db, "reminder") == []
    tick(app, due_utc)
    tick(app, due_utc + timedelta(minutes=1))
    assert len(sent(db, "reminder")) == 1
    assert len(smtp.inbox.messages) == 1


def test_regulars_are_reminded_and_asked_to_say_when_they_cannot(app, db, smtp, club):
    owner, gina, _, routine = club
    regular(db, routine, gina)
    say(db, routine, owner, "going")
    tick(app, datetime(2027, 3, 21, 17, 0))
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages}
    text = _body(by_to[gina.email])
    assert text.split("\n", 3)[2].startswith("Still coming? Tap if you can't make it: http")
    # Olga answered "going" for the first time: marked as such in Gina's mail.
    assert "Also going: Olga Owner (first time)" in text


def test_nothing_for_declined_left_muted_waitlisted_cancelled_or_started(
    app, db, smtp, make_user, make_group, make_routine, club
):
    owner, gina, group, routine = club
    declined, left, muted, waiting, quiet = (make_user(n) for n in
                                             ("Dee", "Lee", "Mutt", "Wai", "Quiet"))
    for who in (declined, left, muted, waiting, quiet):
        db.add(Membership(group_id=group.id, user_id=who.id, role="member"))
    db.commit()
    small = make_routine(group, title="Small table", start=SPRING, capacity=1)
    say(db, small, gina, "going")
    say(db, small, waiting, "going")  # after Gina: waiting for the one place
    say(db, routine, declined, "declined")
    for who in (left, muted):
        say(db, routine, who, "going")
    db.execute(Membership.__table__.delete().where(Membership.user_id == left.id))
    db.add(GroupMailSettings(user_id=muted.id, group_id=group.id, muted=["reminder"]))
    db.add(Override(routine_id=routine.id, original_start=SPRING + timedelta(weeks=1),
                    status="cancelled"))
    say(db, routine, gina, "going", SPRING + timedelta(weeks=1))
    db.commit()
    tick(app, datetime(2027, 3, 21, 17, 0))
    assert sorted(r.recipient for r in sent(db, "reminder")) == [gina.email]  # the small table
    tick(app, datetime(2027, 3, 28, 16, 0))  # the cancelled Monday
    assert len(sent(db, "reminder")) == 1


def test_a_worker_down_for_three_hours_catches_up_without_stale_reminders(
    app, db, smtp, make_routine, club
):
    _, gina, group, routine = club
    early = make_routine(group, title="Early walk", start=datetime(2027, 3, 22, 19, 30),
                         rrule="")
    hours = make_routine(group, title="Late table", start=datetime(2027, 3, 22, 21, 0),
                         rrule="")
    for r in (routine, early, hours):
        say(db, r, gina, "going")
    # The evening-before moment (17:00 UTC Sunday) passed while the worker was down; it comes
    # back at 20:00 UTC: both dates are still ahead, so both reminders go, once.
    tick(app, datetime(2027, 3, 21, 20, 0))
    assert len(sent(db, "reminder")) == 3
    # Down again from Monday 17:00 to 20:30 UTC: the 19:00 CET supper (18:00 UTC) started
    # while it was down; with a 3-hours-before choice nothing stale goes for it.
    settings(db, gina, reminder="hours", hours_before=3)
    tick(app, datetime(2027, 3, 29, 20, 30))
    assert len(sent(db, "reminder")) == 3


def test_a_change_after_queueing_is_dropped_at_send_time(app, db, smtp, club):
    _, gina, _, routine = club
    say(db, routine, gina, "going")
    set_clock(app, datetime(2027, 3, 21, 17, 0))
    assert reminders.scan(app) == 1  # queued, not yet sent
    db.execute(Rsvp.__table__.update().where(Rsvp.user_id == gina.id).values(status="declined"))
    db.commit()
    from planner.mail.delivery import deliver_due

    report = deliver_due(app)
    assert report.dropped == 1 and smtp.inbox.messages == []
    # Going again: the key was freed, so the next scan reminds, once, of what is now true.
    db.execute(Rsvp.__table__.update().where(Rsvp.user_id == gina.id).values(status="going"))
    db.commit()
    tick(app, datetime(2027, 3, 21, 17, 1))
    tick(app, datetime(2027, 3, 21, 17, 2))
    assert len(smtp.inbox.messages) == 1


def test_a_moved_date_drops_the_stale_mail_and_reminds_with_the_new_time(app, db, smtp, club):
    _, gina, _, routine = club
    say(db, routine, gina, "going")
    set_clock(app, datetime(2027, 3, 21, 17, 0))
    assert reminders.scan(app) == 1
    db.add(Override(routine_id=routine.id, original_start=SPRING, status="changed",
                    start=SPRING + timedelta(minutes=30), sequence=1))
    db.commit()
    tick(app, datetime(2027, 3, 21, 17, 0))
    tick(app, datetime(2027, 3, 21, 17, 1))
    dropped = [r for r in rows(db, "reminder") if r.state == "dropped"]
    assert len(dropped) == 1 and "changed" in dropped[0].last_error
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Tomorrow 19:30: Thursday supper"]


def test_scope_all_reminds_members_who_have_not_declined(app, db, smtp, club, make_user):
    owner, gina, group, routine = club
    db.add(GroupMailSettings(user_id=gina.id, group_id=group.id, scope="all"))
    db.commit()
    tick(app, datetime(2027, 3, 21, 17, 0))
    assert [r.recipient for r in sent(db, "reminder")] == [gina.email]  # Olga: scope "going"
    say(db, routine, gina, "declined", SPRING + timedelta(weeks=1))
    tick(app, datetime(2027, 3, 28, 16, 0))
    assert len(sent(db, "reminder")) == 1


def _crowd(db, make_user, make_group, make_routine, size):
    owner = make_user("Owner")
    people = [make_user(f"P{size}-{n}") for n in range(size)]
    group = make_group(owner, members=people, name=f"Crowd {size}")
    routine = make_routine(group, title=f"Crowd {size}", start=SPRING)
    for who in people:
        db.add(Rsvp(routine_id=routine.id, original_start=SPRING, user_id=who.id,
                    status="going"))
    other = make_group(owner, members=people[: size // 2], name=f"Other {size}")
    make_routine(other, title="Other", start=SPRING)
    db.commit()


def test_the_scan_runs_a_fixed_number_of_statements(app, db, make_user, make_group,
                                                    make_routine):
    set_clock(app, datetime(2027, 3, 21, 17, 0))
    _crowd(db, make_user, make_group, make_routine, 4)
    with count_statements(app) as small:
        assert reminders.scan(app) == 4
    db.execute(OutboxMessage.__table__.delete())
    db.commit()
    _crowd(db, make_user, make_group, make_routine, 12)
    with count_statements(app) as large:
        assert reminders.scan(app) == 16
    assert len(small) == len(large), (small, large)
    assert len(large) <= 20
    with count_statements(app) as again:  # everything queued already: no insert, no render
        assert reminders.scan(app) == 0
    assert len(again) < len(large)


@pytest.mark.planner_backends("postgres")
def test_two_workers_scanning_at_once_queue_each_reminder_once(app, db, make_user, club):
    _, gina, group, routine = club
    people = [make_user(f"Many {n}") for n in range(30)]
    for who in people:
        db.add(Membership(group_id=group.id, user_id=who.id, role="member"))
        db.add(Rsvp(routine_id=routine.id, original_start=SPRING, user_id=who.id,
                    status="going"))
    db.commit()
    set_clock(app, datetime(2027, 3, 21, 17, 0))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                start.wait()
                reminders.scan(app)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "reminder"))
    keys = list(keys)
    assert len(keys) == len(set(keys)) == 30
