"""``planner demo``: people and groups to click through; ``--if-empty`` leaves real data alone."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from planner.belonging import checkins
from planner.cli import cli
from planner.dev.demo import (
    BREAK_LABEL,
    GAME_WEEKS,
    HISTORY_WEEKS,
    PASSWORD,
    QUIZ_TITLE,
    REMINDER_HOUR,
    load_demo,
)
from planner.models import (
    GoodThing,
    Group,
    Membership,
    OutboxMessage,
    PlannedBreak,
    Presence,
    Routine,
    Rsvp,
    User,
)
from planner.notify import answer_links
from planner.scheduling.zones import format_key, localize, to_local_naive
from planner.testing import Auth, count_statements
from tests.reminder_world import set_clock, tick

#: What loading the demo may cost (it is a fixed number whatever the weeks of history).
STATEMENTS = 100


def count(db, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_demo_loads_people_groups_and_routines(runner, db, client):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "ada@example.org" in result.output and PASSWORD in result.output
    assert count(db, User) == 4
    groups = {g.name: g for g in db.scalars(select(Group))}
    assert set(groups) == {"Thursday Supper Club", "Sunday Football"}
    assert groups["Thursday Supper Club"].visibility == "public"
    assert groups["Sunday Football"].visibility == "private"
    assert count(db, Routine) >= 2
    owners = db.scalars(select(Membership.group_id).where(Membership.role == "owner")).all()
    assert sorted(owners) == sorted(g.id for g in groups.values())
    # The documented login works.
    response = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_demo_if_empty_skips_a_used_database(runner, db, make_user):
    make_user()
    result = runner.invoke(cli, ["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "no demo data loaded" in result.output
    assert "http://127.0.0.1:5000" in result.output
    assert count(db, User) == 1
    assert count(db, Group) == 0


def test_demo_if_empty_loads_once(runner, db):
    assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
    assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
    assert count(db, User) == 4


# -- the demo on an injected clock: tomorrow's reminder, and a few months of belonging ---------

# Monday 10 May 2027, 11:00 in Berlin (CEST): the quiz is tomorrow, Tuesday, at 19:30.
NOW = datetime(2027, 5, 10, 9, 0)
BERLIN = "Europe/Berlin"


def utc(local: datetime, zone: str = BERLIN) -> datetime:
    return localize(local, zone).astimezone(UTC).replace(tzinfo=None)


def mails(app) -> list[tuple[Path, EmailMessage]]:
    """Every ``.eml`` file the worker wrote to the instance's mail folder, oldest first."""
    found = []
    for path in sorted((Path(app.instance_path) / "mail").glob("*.eml")):
        with path.open("rb") as handle:
            found.append((path, BytesParser(policy=policy.default).parse(handle)))
    return found


def reminder_files(app, to: str, title: str) -> list[tuple[Path, EmailMessage]]:
    return [(p, m) for p, m in mails(app)
            if p.name.endswith("-reminder.eml") and m["To"].addresses[0].addr_spec == to
            and title in m["Subject"]]


def one_click(message: EmailMessage, answer: str) -> str:
    """The path of the reminder's one-click link for ``answer`` (read from its signed token,
    not its wording)."""
    text = message.get_body(("plain",)).get_content()
    paths = re.findall(r"https?://[^/\s]+(/a/[\w.\-]+)", text)
    found = [p for p in paths if (read := answer_links.read(p[3:])) and read[3] == answer]
    assert len(set(found)) == 1, text
    return found[0]


@pytest.fixture
def demo(app, db):
    set_clock(app, NOW)
    return load_demo(db)  # on the app's clock


def test_demo_follows_the_injected_clock(demo):
    assert demo.now == NOW
    quiz = demo.routine(QUIZ_TITLE)
    assert demo.next_dates[quiz.id] == datetime(2027, 5, 11, 19, 30)  # tomorrow evening
    assert quiz.rrule == "FREQ=WEEKLY;BYDAY=TU"
    meals = demo.routine("Thursday supper")
    assert demo.next_dates[meals.id] == datetime(2027, 5, 13, 19, 0)
    assert meals.start == datetime(2027, 5, 13, 19, 0) - timedelta(weeks=HISTORY_WEEKS)


def test_tomorrow_evenings_reminder_lands_in_the_mail_folder_and_its_link_answers(
    app, db, client, demo
):
    ben = demo.users["ben"]
    quiz = demo.routine(QUIZ_TITLE)
    start = demo.next_dates[quiz.id]
    # Ben's reminders come the evening before at 20:00 of his own clock (Berlin, CEST).
    due = utc(datetime(2027, 5, 10, REMINDER_HOUR, 0))
    assert due == datetime(2027, 5, 10, 18, 0)
    tick(app, due - timedelta(minutes=1))  # the real jobs (the minute scan), then delivery
    assert reminder_files(app, ben.email, QUIZ_TITLE) == []
    tick(app, due)
    tick(app, due + timedelta(minutes=1))  # the next minute's scan sends nothing twice
    (path, message), = reminder_files(app, ben.email, QUIZ_TITLE)
    assert QUIZ_TITLE in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "11 May" in text and "19:30" in text and "Dev Patel" in text  # who else is going
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    db.rollback()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder",
                                                OutboxMessage.user_id == ben.id))
    assert row is not None and row.state == "sent" and row.path == str(path)

    # The one-click link needs no log-in: GET shows the date and a button, only POST answers.
    link = one_click(message, "declined")
    page = client.get(link)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert QUIZ_TITLE in html and "I can't go" in html and "answering for Ben Okafor" in html
    assert answer_of(db, quiz, start, ben) == "going"  # a link scanner's GET changed nothing
    done = client.post(link, data={"every": "no"})
    assert done.status_code == 200
    assert "Answer saved" in done.get_data(as_text=True)
    assert answer_of(db, quiz, start, ben) == "declined"


def answer_of(db, routine, start, user) -> str | None:
    db.rollback()
    return db.scalar(select(Rsvp.status).where(
        Rsvp.routine_id == routine.id, Rsvp.original_start == start, Rsvp.user_id == user.id))


def test_member_page_shows_shared_history(app, db, client, demo):
    ada, ben = demo.users["ada"], demo.users["ben"]
    Auth(client).login(ben, PASSWORD)
    members = client.get("/g/thursday-supper-club/members").get_data(as_text=True)
    assert f'href="/g/thursday-supper-club/people/{ada.id}">Ada Lovelace</a>' in members
    page = client.get(f"/g/thursday-supper-club/people/{ada.id}").get_data(as_text=True)
    # 14 suppers happened (16 weeks, two off in the break); Ada missed 2 and Ben 1.
    assert "You've shared <strong>11 Thursday supper</strong> with Ada Lovelace since" in page
    football = client.get(f"/g/sunday-football/people/{ada.id}").get_data(as_text=True)
    assert "You've shared <strong>10 Sunday kick-about</strong> with Ada Lovelace" in football
    own = client.get(f"/g/thursday-supper-club/people/{ben.id}").get_data(as_text=True)
    assert "You've been to <strong>" in own and "Your longest run:" in own


def test_routine_page_shows_its_rhythm_unbroken_across_the_planned_break(app, db, client, demo):
    meals = demo.routine("Thursday supper")
    Auth(client).login(demo.users["ben"], PASSWORD)
    page = client.get(f"/g/thursday-supper-club/r/{meals.id}").get_data(as_text=True)
    # Every past Thursday but the two of the break: the run reaches back past the break to the
    # first supper, 16 weeks before the next.
    first = demo.next_dates[meals.id] - timedelta(weeks=HISTORY_WEEKS)
    assert (f"<strong>{HISTORY_WEEKS - 2} Thursdays in a row</strong>, since "
            f"{first.day} {first:%B %Y}") in page
    assert "(across 1 planned break)" in page
    assert f"{BREAK_LABEL}:" in page
    (planned,) = db.scalars(select(PlannedBreak).where(PlannedBreak.routine_id == meals.id))
    cancelled = [o for o in meals.overrides if o.note == BREAK_LABEL]
    assert len(cancelled) == 2 and all(o.status == "cancelled" for o in cancelled)
    assert all(planned.first_day <= o.original_start.date() <= planned.last_day
               for o in cancelled)
    game = demo.routine("Sunday kick-about")
    page = client.get(f"/g/sunday-football/r/{game.id}").get_data(as_text=True)
    assert f"<strong>{GAME_WEEKS} Sundays in a row</strong>" in page


def test_demo_history_feeds_last_time_and_one_kind_check_in(app, db, client, demo):
    meals = demo.routine("Thursday supper")
    ben, dev = demo.users["ben"], demo.users["dev"]
    Auth(client).login(ben, PASSWORD)
    key = format_key(demo.next_dates[meals.id])
    page = client.get(f"/g/thursday-supper-club/r/{meals.id}/{key}").get_data(as_text=True)
    assert "Last time" in page and "lentil soup" in page
    # Dev usually comes and missed the last three suppers: his buddy Ben is the one asked.
    due = checkins.due_checkins(db, NOW.replace(tzinfo=UTC))
    assert [(d.absent_id, d.recipient_id) for d in due] == [(dev.id, ben.id)]


def test_demo_loads_fast_in_a_bounded_number_of_statements(app, db):
    set_clock(app, NOW)
    started = time.perf_counter()
    with count_statements(app) as statements:
        load_demo(db)
    assert time.perf_counter() - started < 5
    # Bulk inserts: months of answers and who came cost a few statements, not one a row.
    assert len(statements) < STATEMENTS, len(statements)
    db.rollback()
    came = list(db.execute(select(Presence.came)).scalars())
    answers = db.scalar(select(func.count()).select_from(Rsvp))
    assert len(came) > 50 and not all(came) and answers > len(came)


@pytest.mark.parametrize("now", [
    datetime(2027, 5, 13, 8, 0),  # Thursday morning: tonight's supper is still to come
    datetime(2027, 5, 13, 20, 0),  # Thursday night: tonight's supper is over
    datetime(2027, 5, 16, 8, 30),  # Sunday, the game under way
    datetime(2027, 3, 27, 21, 30),  # Saturday night, past Ben's hour; the clocks go forward
    datetime(2027, 5, 12, 23, 30),  # already Thursday in Berlin, still Wednesday in UTC
    datetime(2026, 12, 31, 23, 30),  # already the new year in Berlin
], ids=["thu-morning", "thu-night", "sun-game", "dst-eve", "utc-behind", "new-year"])
def test_the_demo_holds_on_any_day(app, db, client, now):
    """Whatever the day it is loaded: history only of dates that are over, the same counts, the
    quiz tomorrow evening, and Ben's reminder at his hour (at once when that has passed)."""
    set_clock(app, now)
    demo = load_demo(db)
    aware = now.replace(tzinfo=UTC)
    ends = {r.id: timedelta(minutes=r.duration_minutes) for r in demo.routines}
    zones = {r.id: r.timezone for r in demo.routines}
    db.rollback()
    history = [*db.execute(select(Presence.routine_id, Presence.original_start)),
               *db.execute(select(GoodThing.routine_id, GoodThing.original_start))]
    assert history
    for routine_id, start in history:
        assert localize(start + ends[routine_id], zones[routine_id]) <= aware, start

    ada, ben, dev = demo.users["ada"], demo.users["ben"], demo.users["dev"]
    meals = demo.routine("Thursday supper")
    Auth(client).login(ben, PASSWORD)
    page = client.get(f"/g/thursday-supper-club/people/{ada.id}").get_data(as_text=True)
    assert "You've shared <strong>11 Thursday supper</strong> with Ada Lovelace" in page
    page = client.get(f"/g/thursday-supper-club/r/{meals.id}").get_data(as_text=True)
    assert f"<strong>{HISTORY_WEEKS - 2} Thursdays in a row</strong>" in page
    assert "(across 1 planned break)" in page
    due = checkins.due_checkins(db, aware)
    assert [(d.absent_id, d.recipient_id) for d in due] == [(dev.id, ben.id)]

    quiz = demo.routine(QUIZ_TITLE)
    local = to_local_naive(aware, BERLIN)
    tomorrow = local.date() + timedelta(days=1)
    assert demo.next_dates[quiz.id] == datetime.combine(tomorrow, datetime.min.time()).replace(
        hour=19, minute=30)
    hour = utc(datetime.combine(local.date(), datetime.min.time()).replace(hour=REMINDER_HOUR))
    tick(app, now)
    mine = reminder_files(app, ben.email, QUIZ_TITLE)
    assert len(mine) == (1 if now >= hour else 0)
    if now < hour:
        tick(app, hour - timedelta(minutes=1))
        assert reminder_files(app, ben.email, QUIZ_TITLE) == []
        tick(app, hour)
        assert len(reminder_files(app, ben.email, QUIZ_TITLE)) == 1
