"""Notices when things change, and batched comment mail, end to end: the organizer's real form
posts, the flush job on the injected clock (never a sleep), real delivery to aiosmtpd, and the
received messages read back. Both databases.

The world: a weekly Thursday supper at 19:00 in the Kitchen (Europe/Berlin). Olga organizes;
Ann is going, Ben (in New York) says maybe, Cem declined, Dee is a regular, Eve never answered.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from planner.db import get_session
from planner.enums import Role
from planner.joining.attendance import attendance_of
from planner.mail import delivery
from planner.mail.queue import run_jobs
from planner.models import (
    Group,
    MailSettings,
    Membership,
    OutboxMessage,
    PendingNotice,
    Regular,
    Routine,
    User,
)
from planner.notify import notices, threads
from planner.notify.preferences import save_group_choice
from planner.scheduling.recurrence import format_key
from tests.test_mail import Clock

ZONE = "Europe/Berlin"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app_config(app_config, clock, smtp):
    return {
        **app_config,
        "CLOCK": clock,
        "SMTP_URL": smtp.url,
        "SMTP_CA_FILE": str(smtp.cert),
        "MAIL_FROM": "Planner <planner@example.org>",
        "SITE_URL": "https://planner.example.org",
    }


def next_thursday(weeks_ahead: int = 1) -> datetime:
    """19:00 on the first Thursday at least ``weeks_ahead`` weeks from today (Berlin)."""
    today = datetime.now(ZoneInfo(ZONE)).date() + timedelta(weeks=weeks_ahead)
    day = today + timedelta(days=(3 - today.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 19, 0)


@dataclass
class World:
    group: Group
    routine: Routine
    people: dict[str, User]
    clients: dict[str, object]

    def key(self, weeks: int = 0) -> str:
        return format_key(self.routine.start + timedelta(weeks=weeks))

    def path(self, weeks: int = 0) -> str:
        return f"/g/{self.group.slug}/r/{self.routine.id}/{self.key(weeks)}"

    def email(self, name: str) -> str:
        return self.people[name].email


@pytest.fixture
def world(db, make_user, make_group, make_routine, as_user, answer):
    names = {"Olga": ZONE, "Ann": ZONE, "Ben": "America/New_York", "Cem": ZONE, "Dee": ZONE,
             "Eve": ZONE}
    people = {n: make_user(n, timezone=z) for n, z in names.items()}
    group = make_group(people["Olga"], name="Supper Club",
                       members=[people[n] for n in ("Ann", "Ben", "Cem", "Dee", "Eve")])
    routine = make_routine(group, title="Thursday supper", start=next_thursday(),
                           location="Kitchen", timezone=ZONE)
    db.add(Regular(routine_id=routine.id, user_id=people["Dee"].id,
                   joined_at=datetime(2020, 1, 1)))
    db.commit()
    answer(people["Ann"], routine, "going")
    answer(people["Ben"], routine, "maybe")
    answer(people["Cem"], routine, "declined")
    clients = {n: as_user(p) for n, p in people.items()}
    return World(group, routine, people, clients)


def deliver(app, smtp) -> list[EmailMessage]:
    """Run the flush job as the worker would, deliver what it queued, and return the new mail."""
    seen = len(smtp.inbox.messages)
    with app.app_context():
        notices.flush(app)
    delivery.deliver_due(app)
    # Tests and views share the fixture's session: end its read snapshot, as the end of a
    # real request would, so the next request does not write on a stale one.
    get_session().commit()
    return smtp.inbox.messages[seen:]


def by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    found = {m["To"].addresses[0].addr_spec: m for m in messages}
    assert len(found) == len(messages), "someone got the same notice twice"
    return found


def text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def change_form(start: datetime, *, location: str = "Kitchen", title: str = "Thursday supper",
                minutes: int = 120) -> dict[str, str]:
    return {"start_date": start.strftime("%Y-%m-%d"), "start_time": start.strftime("%H:%M"),
            "duration": str(minutes), "title": title, "location": location, "note": ""}


def routine_form(start: datetime, **changes: str) -> dict[str, str]:
    form = {
        "activity": "gathering", "shown_activity": "gathering", "title": "Thursday supper",
        "description": "", "location": "Kitchen", "timezone": ZONE,
        "start_date": start.strftime("%Y-%m-%d"), "start_time": start.strftime("%H:%M"),
        "duration": "120", "capacity": "", "max_guests": "0", "repeat": "weekly",
        "interval": "1", "weekdays": "TH", "month_day": "3", "month_nth": "1",
        "month_weekday": "TH", "ends": "never", "until": "", "count": "", "rrule": "",
        "save": "Save",
    }
    form.update(changes)
    return form


def post(world: World, who: str, path: str, data: dict[str, str]) -> None:
    response = world.clients[who].post(path, data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:800]


def pending(db) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(PendingNotice))


def long_day(value: datetime) -> str:
    return f"{value:%A} {value.day} {value:%B}"


# --------------------------------------------------------------------------- a changed date


def test_a_changed_date_shows_old_and_new_side_by_side_in_each_readers_zone(
    app, db, world, smtp, clock
):
    old = world.routine.start
    new = old + timedelta(days=1, hours=1)  # Friday 20:00
    post(world, "Olga", world.path() + "/change", change_form(new, location="Community hall"))
    assert deliver(app, smtp) == []  # quiet for a few minutes first
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    # Going, maybe and the regular hear; the one who declined, the one who never answered and
    # the organizer who made the change do not.
    assert set(mail) == {world.email("Ann"), world.email("Ben"), world.email("Dee")}

    ann = mail[world.email("Ann")]
    assert ann["Subject"] == "Moved to Friday 20:00, new place Community hall: Thursday supper"
    body = text(ann)
    assert "Now Friday 20:00, was Thursday 19:00." in body
    assert f"Now: {long_day(new)}, 20:00–22:00, Community hall" in body
    assert f"Was: {long_day(old)}, 19:00–21:00, Kitchen" in body
    assert "https://planner.example.org/a/" in body  # one-click answers for the new time
    assert "<s>" in html(ann) and "Community hall" in html(ann)
    assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in body and "Choose what you get" in body

    ben = text(mail[world.email("Ben")])  # New York: six hours behind Berlin
    assert "Now Friday 14:00, was Thursday 13:00." in ben
    assert pending(db) == 0

    # Ann can't make the new time: the mail's one-click link answers the moved date.
    link = re.search(r"Can't go: +(\S+)", body).group(1).removeprefix(
        "https://planner.example.org")
    scanner = app.test_client()  # no log-in; a GET (a mail scanner's) changes nothing
    assert scanner.get(link).status_code == 200
    assert scanner.post(link, data={}).status_code == 200
    db.commit()
    with app.app_context():
        assert attendance_of(db, world.routine.id, old).status_of(world.people["Ann"].id) \
            == "declined"


def test_five_quick_edits_send_one_notice_with_the_final_state(app, db, world, smtp, clock):
    old = world.routine.start
    for minutes in (30, 60, 90, 120, 150):
        post(world, "Olga", world.path() + "/change",
             change_form(old + timedelta(minutes=minutes), location=f"Room {minutes}"))
        clock.advance(minutes=2)  # each edit within the quiet time of the one before
        assert deliver(app, smtp) == []
    assert pending(db) == 1
    clock.advance(minutes=4)
    mail = by_recipient(deliver(app, smtp))
    assert set(mail) == {world.email("Ann"), world.email("Ben"), world.email("Dee")}
    body = text(mail[world.email("Ann")])
    assert "Now Thursday 21:30, was Thursday 19:00." in body
    assert "Room 150" in body and "Room 30" not in body and "Room 120" not in body
    assert deliver(app, smtp) == []  # told once


def test_a_date_changed_back_within_the_quiet_time_sends_nothing(app, db, world, smtp, clock):
    old = world.routine.start
    post(world, "Olga", world.path() + "/change", change_form(old + timedelta(hours=2)))
    clock.advance(minutes=1)
    post(world, "Olga", world.path() + "/change", change_form(old))
    clock.advance(minutes=10)
    assert deliver(app, smtp) == []
    assert pending(db) == 0  # handled, not left waiting
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_someone_who_declines_before_the_notice_goes_does_not_get_it(
    app, db, world, smtp, clock, answer
):
    post(world, "Olga", world.path() + "/change",
         change_form(world.routine.start, location="Garden"))
    answer(world.people["Ann"], world.routine, "declined")
    clock.advance(minutes=6)
    mail = by_recipient(deliver(app, smtp))
    assert set(mail) == {world.email("Ben"), world.email("Dee")}
    assert mail[world.email("Dee")]["Subject"] == "New place Garden: Thursday supper"
    assert "Now at Garden, was at Kitchen." in text(mail[world.email("Dee")])


# --------------------------------------------------------------------------- cancelled


def test_a_cancelled_date_is_told_with_the_reason(app, db, world, smtp, clock):
    post(world, "Olga", world.path() + "/cancel",
         {"reason": "The kitchen is flooded", "confirm": "yes"})
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    assert set(mail) == {world.email("Ann"), world.email("Ben"), world.email("Dee")}
    ann = mail[world.email("Ann")]
    start = world.routine.start
    assert ann["Subject"] == f"Cancelled: Thursday supper on {long_day(start)}"
    assert "The reason: The kitchen is flooded" in text(ann)
    assert "is cancelled" in text(ann)
    assert "https://planner.example.org/a/" not in text(ann)  # nothing to answer


def test_a_cancellation_undone_within_the_quiet_time_sends_nothing(app, db, world, smtp, clock):
    post(world, "Olga", world.path() + "/cancel", {"reason": "Oops", "confirm": "yes"})
    clock.advance(minutes=2)
    post(world, "Olga", world.path() + "/restore", {})
    clock.advance(minutes=10)
    assert deliver(app, smtp) == []
    assert pending(db) == 0


def test_a_change_then_a_cancellation_sends_only_the_cancellation(app, db, world, smtp, clock):
    post(world, "Olga", world.path() + "/change",
         change_form(world.routine.start, location="Garden"))
    clock.advance(minutes=1)
    post(world, "Olga", world.path() + "/cancel", {"reason": "Rain", "confirm": "yes"})
    clock.advance(minutes=6)
    mail = deliver(app, smtp)
    assert len(mail) == 3 and {m["Subject"].split(":")[0] for m in mail} == {"Cancelled"}


# --------------------------------------------------------------------------- the series


def test_a_series_changed_from_a_date_on_is_one_notice_per_person(
    app, db, world, smtp, clock, answer
):
    later = world.routine.start + timedelta(weeks=2)
    answer(world.people["Ann"], world.routine, "going", when=later + timedelta(weeks=1))
    answer(world.people["Eve"], world.routine, "going", when=later + timedelta(weeks=2))
    new_start = later + timedelta(hours=1)
    post(world, "Olga", world.path(2) + "/split",
         routine_form(new_start, location="Community hall"))
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    # The regular and those going to later dates hear once each; Ben (maybe only for the first
    # date, before the change) does not.
    assert set(mail) == {world.email("Ann"), world.email("Dee"), world.email("Eve")}
    dee = mail[world.email("Dee")]
    assert dee["Subject"] == (
        f"Changes from {later:%a} {later.day} {later:%b} on: Thursday supper"
    )
    body = text(dee)
    assert f"changes from {long_day(later)}, 20:00 on" in body
    assert re.search(r"From then: .*20:00.*Community hall", body), body
    assert re.search(r"Until then: .*19:00.*Kitchen", body), body
    assert "https://planner.example.org/a/" in body


def test_an_ended_series_tells_those_who_lose_dates(app, db, world, smtp, clock, answer):
    last = world.routine.start + timedelta(weeks=1)
    answer(world.people["Eve"], world.routine, "going", when=last + timedelta(weeks=3))
    post(world, "Olga", f"/g/{world.group.slug}/r/{world.routine.id}/end",
         {"last_date": last.strftime("%Y-%m-%d"), "confirm": "yes"})
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    # Ann and Ben answered only the first date, which stays: only the regular and Eve lose one.
    assert set(mail) == {world.email("Dee"), world.email("Eve")}
    eve = mail[world.email("Eve")]
    assert eve["Subject"] == f"Ends {last:%a} {last.day} {last:%b}: Thursday supper"
    assert f"the last date is {long_day(last)} {last:%Y}" in text(eve)


# --------------------------------------------------------------------------- capacity


def test_lowered_capacity_tells_only_those_now_waiting_their_place(
    app, db, world, smtp, clock, answer
):
    routine = world.routine
    for name in ("Eve", "Cem"):  # Cem changes his mind: going, after Ann; Eve too
        answer(world.people[name], routine, "going")
    post(world, "Olga", f"/g/{world.group.slug}/r/{routine.id}/edit",
         routine_form(routine.start, capacity="2"))
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    # Going in arrival order: Dee (a regular since 2020), Ann, Eve, Cem. Two places: Dee and
    # Ann keep theirs; Eve and Cem wait, in that order. Ben (maybe) hears nothing.
    assert set(mail) == {world.email("Eve"), world.email("Cem")}
    assert mail[world.email("Eve")]["Subject"] == "Now on the waitlist: Thursday supper"
    assert "you're number 1 on the waitlist" in text(mail[world.email("Eve")])
    assert "you're number 2 on the waitlist" in text(mail[world.email("Cem")])
    assert "now has 2 places" in text(mail[world.email("Cem")])


def test_capacity_raised_back_within_the_quiet_time_tells_no_one(
    app, db, world, smtp, clock, answer
):
    answer(world.people["Eve"], world.routine, "going")
    path = f"/g/{world.group.slug}/r/{world.routine.id}/edit"
    post(world, "Olga", path, routine_form(world.routine.start, capacity="1"))
    clock.advance(minutes=1)
    post(world, "Olga", path, routine_form(world.routine.start, capacity=""))
    clock.advance(minutes=6)
    subjects = [m["Subject"] for m in deliver(app, smtp)]
    assert not [s for s in subjects if s.startswith("Now on the waitlist")]


# --------------------------------------------------------------------------- comments


def wants_comments(db, *users: User) -> None:
    for user in users:
        db.add(MailSettings(user_id=user.id, comments=True))
    db.commit()


def comment(world: World, who: str, body: str) -> None:
    post(world, who, world.path() + "/comments", {"body": body})


def test_comments_within_the_hour_come_in_one_mail_to_those_going_who_asked(
    app, db, world, smtp, clock, answer
):
    wants_comments(db, world.people["Ann"], world.people["Dee"], world.people["Ben"])
    comment(world, "Dee", "I'll bring bread")
    clock.advance(minutes=20)
    comment(world, "Olga", "Great, thanks!")
    clock.advance(minutes=39)
    assert deliver(app, smtp) == []  # the hour is not over
    clock.advance(minutes=2)
    mail = by_recipient(deliver(app, smtp))
    # Ann and Dee are going and asked; Ben asked but only said maybe; Eve never asked.
    assert set(mail) == {world.email("Ann"), world.email("Dee")}
    ann = mail[world.email("Ann")]
    assert ann["Subject"] == "2 new comments: Thursday supper"
    assert "I'll bring bread" in text(ann) and "Great, thanks!" in text(ann)
    dee = mail[world.email("Dee")]  # her own comment is no news to her
    assert dee["Subject"] == "1 new comment: Thursday supper"
    assert "Great, thanks!" in text(dee) and "I'll bring bread" not in text(dee)

    comment(world, "Ann", "See you there")  # a new hour starts with the next comment
    clock.advance(minutes=59)
    assert deliver(app, smtp) == []
    clock.advance(minutes=2)
    mail = by_recipient(deliver(app, smtp))
    assert set(mail) == {world.email("Dee")}
    assert "See you there" in text(mail[world.email("Dee")])


def test_comment_mail_is_off_by_default(app, db, world, smtp, clock):
    comment(world, "Olga", "Anyone bringing dessert?")
    clock.advance(minutes=61)
    assert deliver(app, smtp) == []


# --------------------------------------------------------------------------- preferences


def test_unsubscribed_and_muted_people_get_no_notice(app, db, world, smtp, clock):
    post(world, "Olga", world.path() + "/change", change_form(world.routine.start,
                                                              location="Garden"))
    clock.advance(minutes=5)
    first = by_recipient(deliver(app, smtp))
    # Ann uses the mail's one-click unsubscribe (RFC 8058: a POST, no log-in) ...
    url = re.fullmatch(r"<(.+)>", first[world.email("Ann")]["List-Unsubscribe"]).group(1)
    stranger = app.test_client()
    done = stranger.post(url.removeprefix("https://planner.example.org"),
                         data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    # ... and Dee chooses nothing at all from this group.
    save_group_choice(db, user_id=world.people["Dee"].id, group_id=world.group.id,
                      scope="none", muted=[])
    db.commit()
    post(world, "Olga", world.path() + "/change", change_form(world.routine.start,
                                                              location="Hall"))
    clock.advance(minutes=5)
    second = by_recipient(deliver(app, smtp))
    assert set(second) == {world.email("Ben")}


def test_someone_who_left_the_group_gets_nothing(app, db, world, smtp, clock):
    db.execute(Membership.__table__.delete().where(
        Membership.user_id == world.people["Ann"].id, Membership.group_id == world.group.id))
    db.commit()
    post(world, "Olga", world.path() + "/cancel", {"reason": "", "confirm": "yes"})
    clock.advance(minutes=5)
    assert world.email("Ann") not in by_recipient(deliver(app, smtp))


# --------------------------------------------------------------------------- threads, jobs


def test_all_notices_of_one_date_share_references_and_later_changes_are_told_again(
    app, db, world, smtp, clock
):
    wants_comments(db, world.people["Ann"])
    post(world, "Olga", world.path() + "/change", change_form(world.routine.start,
                                                              location="Garden"))
    clock.advance(minutes=5)
    first = by_recipient(deliver(app, smtp))[world.email("Ann")]
    comment(world, "Olga", "Bring a jacket")
    post(world, "Olga", world.path() + "/change", change_form(world.routine.start,
                                                              location="Hall"))
    clock.advance(minutes=5)
    second = by_recipient(deliver(app, smtp))[world.email("Ann")]
    assert "Now at Hall, was at Garden." in text(second)  # a separate change: told again
    post(world, "Olga", world.path() + "/cancel", {"reason": "Storm", "confirm": "yes"})
    clock.advance(minutes=56)
    received = deliver(app, smtp)
    mine = [m for m in received if m["To"].addresses[0].addr_spec == world.email("Ann")]
    assert sorted(m["Subject"].split(":")[0] for m in mine) == ["1 new comment", "Cancelled"]
    with app.app_context():
        root = threads.root_id(world.routine.id, world.routine.start)
    for message in [first, second, *mine]:
        assert message["References"] == root and message["In-Reply-To"] == root
    assert len({m["Message-ID"] for m in [first, second, *mine]}) == 4


def test_the_flush_is_a_registered_job_and_a_second_run_sends_nothing_more(
    app, db, world, smtp, clock
):
    post(world, "Olga", world.path() + "/cancel", {"reason": "Ill", "confirm": "yes"})
    clock.advance(minutes=5)
    assert run_jobs(app)["notices"] == 3
    assert run_jobs(app)["notices"] == 0
    delivery.deliver_due(app)
    assert len(smtp.inbox.messages) == 3


def test_an_organizer_who_is_going_is_not_told_of_their_own_change(
    app, db, world, smtp, clock, answer
):
    answer(world.people["Olga"], world.routine, "going")
    db.execute(Membership.__table__.update().where(
        Membership.user_id == world.people["Ann"].id, Membership.group_id == world.group.id
    ).values(role=Role.ORGANIZER))
    db.commit()
    post(world, "Ann", world.path() + "/cancel", {"reason": "Ill", "confirm": "yes"})
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    assert world.email("Olga") in mail and world.email("Ann") not in mail


def test_editing_the_whole_routine_tells_regulars_and_those_going_once(
    app, db, world, smtp, clock, answer
):
    answer(world.people["Eve"], world.routine, "going", when=world.routine.start
           + timedelta(weeks=3))
    path = f"/g/{world.group.slug}/r/{world.routine.id}/edit"
    post(world, "Olga", path, routine_form(world.routine.start, location="Garden"))
    clock.advance(minutes=1)
    post(world, "Olga", path, routine_form(world.routine.start + timedelta(hours=1),
                                           location="Community hall"))
    clock.advance(minutes=5)
    mail = by_recipient(deliver(app, smtp))
    assert set(mail) == {world.email(n) for n in ("Ann", "Ben", "Dee", "Eve")}
    body = text(mail[world.email("Dee")])
    assert re.search(r"From then: .*20:00.*Community hall", body), body
    assert re.search(r"Until then: .*19:00.*Kitchen", body), body  # the first state, not Garden
    assert "Garden" not in body


def test_two_workers_flushing_at_once_send_each_notice_once(app, db, world, smtp, clock):
    for weeks in range(4):
        post(world, "Olga", world.path(weeks) + "/cancel", {"reason": "Away", "confirm": "yes"})
    clock.advance(minutes=5)
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(notices.flush(app))
        except BaseException as exc:  # reported below, not swallowed by the thread
            errors.append(exc)

    threads_ = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads_:
        t.start()
    for t in threads_:
        t.join(60)
    assert errors == []
    # The first date: Ann, Ben and Dee; the later three: Dee, the regular, alone.
    assert sum(results) == 3 + 3
    delivery.deliver_due(app)
    assert len(smtp.inbox.messages) == 6
    assert pending(db) == 0
