"""What belonging adds to the reminder, read back from a real SMTP server (aiosmtpd) with the
clock driven by the test: the host and the regulars are told "Sam is coming for the first time
— say hi", the newcomer's own reminder names the host and what to bring, "Were you there?"
links to the previous date's presence form for those who were going and have not said, and
"Last time: ..." quotes one or two good things of that date. The extra reads are batched: a
scan writing about twelve people costs what one writing about four does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from planner.models import GoodThing, Membership, OutboxMessage, Presence, Rsvp
from planner.notify import reminders
from planner.testing import count_statements
from tests.reminder_world import regular, say, sent, set_clock, tick

LAST = datetime(2027, 3, 15, 19, 0)  # Monday, the routine's first date (over by the scan)
NEXT = LAST + timedelta(weeks=1)  # Monday 22 March, 19:00 Berlin
EVENING_BEFORE = datetime(2027, 3, 21, 17, 0)  # Sunday 18:00 Berlin, in UTC


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test"}


@pytest.fixture
def supper(db, make_user, make_group, make_routine):
    """Olga set the supper up (its host); Gina is a regular who came last time without saying
    so; Pia goes now and then; Sam is going for the first time."""
    olga, gina, pia, sam = (make_user(n) for n in ("Olga Owner", "Gina Regular", "Pia Plain",
                                                     "Sam New"))  # fmt: skip
    group = make_group(olga, members=[gina, pia, sam], name="Supper Club")
    routine = make_routine(group, "meals", title="Monday supper", start=LAST,
                           location="Ada's kitchen", created_by_id=olga.id)  # fmt: skip
    regular(db, routine, gina)
    for who in (olga, pia):
        say(db, routine, who, "going", LAST)
        say(db, routine, who, "going", NEXT)
    say(db, routine, sam, "going", NEXT)
    db.add(Presence(routine_id=routine.id, original_start=LAST, user_id=olga.id, came=True))
    db.add(Presence(routine_id=routine.id, original_start=LAST, user_id=pia.id, came=True))
    for author, body, hidden in ((olga, "Olga's lentil soup", None),
                                 (pia, "we finally finished the puzzle", None),
                                 (pia, "a third one, not shown", None)):
        db.add(GoodThing(routine_id=routine.id, original_start=LAST, user_id=author.id,
                         body=body, hidden_at=hidden))  # fmt: skip
    db.commit()
    return routine, olga, gina, pia, sam


def _mails(smtp):
    """``{address: plain text}``, line ends as the mail's (``\r\n``) made ``\n``."""
    return {m["To"].addresses[0].addr_spec:
            m.get_body(("plain",)).get_content().replace("\r\n", "\n")
            for m in smtp.inbox.messages}  # fmt: skip


def test_the_host_and_the_regulars_are_told_a_first_timer_is_coming(app, db, smtp, supper):
    routine, olga, gina, pia, sam = supper
    tick(app, EVENING_BEFORE)
    mails = _mails(smtp)
    assert set(mails) == {olga.email, gina.email, pia.email, sam.email}
    line = "Sam New is coming for the first time — say hi"
    assert line in mails[olga.email]  # the host
    assert line in mails[gina.email]  # a regular
    assert line not in mails[pia.email]  # neither: only the "(first time)" mark
    assert "Sam New (first time)" in mails[pia.email]
    assert "say hi" not in mails[sam.email]
    html = {m["To"].addresses[0].addr_spec: m.get_body(("html",)).get_content()
            for m in smtp.inbox.messages}  # fmt: skip
    assert line in html[olga.email]
    assert "It's your first time at Monday supper: welcome!" in html[sam.email].replace(
        "&#39;", "'")
    assert f"/r/{routine.id}/20270315T1900#who-came" in html[gina.email]
    assert "<strong>Last time:</strong> Olga&#39;s lentil soup, and we finally" in html[gina.email]


def test_the_newcomer_is_welcomed_with_the_host_and_what_to_bring(app, db, smtp, supper):
    routine, olga, gina, pia, sam = supper
    tick(app, EVENING_BEFORE)
    text = _mails(smtp)[sam.email]
    assert ("It's your first time at Monday supper: welcome! Olga Owner is hosting and will be "
            "glad to see you.") in text
    assert "What to bring: Main, Salad, Dessert, Drinks are still free; take one at http" in text
    assert "Still missing: Main, Salad, Dessert, Drinks" in text  # the meals type's own line
    assert "Were you there" not in text  # Sam was not going last time
    assert "first time" not in _mails(smtp)[olga.email].split("Also going:")[0]


def test_a_claimed_host_slot_names_that_host(app, db, smtp, supper):
    from planner.models import Claim, Slot

    routine, olga, gina, pia, sam = supper
    host = Slot(routine_id=routine.id, label="Host", capacity=1, position=9)
    db.add(host)
    db.flush()
    db.add(Claim(slot_id=host.id, original_start=NEXT, user_id=pia.id))
    db.commit()
    tick(app, EVENING_BEFORE)
    mails = _mails(smtp)
    assert "Pia Plain is hosting" in mails[sam.email]
    assert "Sam New is coming for the first time — say hi" in mails[pia.email]
    assert "say hi" not in mails[olga.email]  # no longer the host of this date


def test_the_meals_rotation_s_turn_is_the_host(app, db, smtp, supper):
    """The activity type names the host (``ActivityType.host``) when no one claimed the slot:
    the same person its own "Host:" line names, so the mail never says two hosts."""
    routine, olga, gina, pia, sam = supper
    from planner.models import Slot

    routine.details = {**routine.details, "rotate_hosts": True,
                       "hosts": [{"user_id": pia.id, "name": "Pia Plain"}]}
    db.add(Slot(routine_id=routine.id, label="Host", capacity=1, position=9))  # unclaimed
    db.commit()
    tick(app, EVENING_BEFORE)
    mails = _mails(smtp)
    assert "Pia Plain is hosting and will be glad to see you." in mails[sam.email]
    # An open Host slot is not something to bring.
    assert "What to bring: Main, Salad, Dessert, Drinks are still free" in mails[sam.email]
    assert "Host: Pia Plain" in mails[sam.email]
    assert "You're hosting." in mails[pia.email]
    assert "Sam New is coming for the first time — say hi" in mails[pia.email]
    assert "say hi" not in mails[olga.email]


def test_were_you_there_and_last_time(app, db, smtp, supper):
    routine, olga, gina, pia, sam = supper
    tick(app, EVENING_BEFORE)
    mails = _mails(smtp)
    link = (f"http://planner.test/g/{routine.group.slug}/r/{routine.id}/20270315T1900"
            "#who-came")
    # Gina, a regular, was going last time and has not said whether she came.
    assert f"Were you there on Monday 15 March, 19:00? Say so on that date's page: {link}" in (
        mails[gina.email])
    # Olga and Pia said they came: not asked again.
    assert "Were you there" not in mails[olga.email]
    assert "Were you there" not in mails[pia.email]
    last = "Last time: Olga's lentil soup, and we finally finished the puzzle\n"
    assert all(last in text for text in mails.values())
    assert "a third one" not in "".join(mails.values())


def test_a_hidden_good_thing_and_a_said_presence_are_left_out(app, db, smtp, supper):
    routine, olga, gina, pia, sam = supper
    for thing in db.query(GoodThing).filter(GoodThing.user_id == olga.id):
        thing.hidden_at = LAST + timedelta(days=1)
    db.add(Presence(routine_id=routine.id, original_start=LAST, user_id=gina.id, came=False))
    db.commit()
    tick(app, EVENING_BEFORE)
    text = _mails(smtp)[gina.email]
    assert "Last time: we finally finished the puzzle, and a third one, not shown\n" in text
    assert "lentil" not in text
    assert "Were you there" not in text


def _world(db, make_user, make_group, make_routine, size):
    """``size`` people in a group whose last date they went to; half of them new now; each
    with a good thing; and a second group."""
    owner = make_user(f"Owner {size}")
    people = [make_user(f"W{size}-{n}") for n in range(size)]
    group = make_group(owner, members=people, name=f"World {size}")
    routine = make_routine(group, "meals", title=f"World {size}", start=LAST,
                           created_by_id=owner.id)  # fmt: skip
    for n, who in enumerate(people):
        if n % 2:
            db.add(Rsvp(routine_id=routine.id, original_start=LAST, user_id=who.id,
                        status="going"))
            db.add(GoodThing(routine_id=routine.id, original_start=LAST, user_id=who.id,
                             body=f"good {n}"))
        db.add(Rsvp(routine_id=routine.id, original_start=NEXT, user_id=who.id, status="going"))
    db.add(Rsvp(routine_id=routine.id, original_start=NEXT, user_id=owner.id, status="going"))
    other = make_group(owner, members=people[: size // 2], name=f"Elsewhere {size}")
    make_routine(other, title="Elsewhere", start=LAST)
    db.commit()
    return routine


def test_the_belonging_lines_cost_a_fixed_number_of_statements(app, db, make_user, make_group,
                                                              make_routine):
    set_clock(app, EVENING_BEFORE)
    _world(db, make_user, make_group, make_routine, 4)
    with count_statements(app) as small:
        assert reminders.scan(app) == 5
    db.execute(OutboxMessage.__table__.delete())
    db.commit()
    _world(db, make_user, make_group, make_routine, 12)
    with count_statements(app) as large:
        assert reminders.scan(app) == 18
    assert len(small) == len(large), (small, large)
    # The scan's own (at most 20, tests/test_reminders.py) and belonging's five, less the
    # reads it skips when there is nothing to read.
    assert len(large) <= 22
    texts = [r.body_text for r in db.query(OutboxMessage).filter(
        OutboxMessage.kind == "reminder")]
    assert sum("Were you there on" in t for t in texts) == 6 + 2  # going last time, not said
    assert sum("is coming for the first time — say hi" in t for t in texts) == 2  # the owners


def test_a_member_who_left_is_not_announced(app, db, smtp, supper):
    routine, olga, gina, pia, sam = supper
    db.query(Membership).filter(Membership.user_id == sam.id).delete()
    db.commit()
    tick(app, EVENING_BEFORE)
    mails = _mails(smtp)
    assert sam.email not in mails
    assert "say hi" not in mails[olga.email]
    assert len(sent(db, "reminder")) == 3
