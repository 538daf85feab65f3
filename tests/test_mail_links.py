"""One-click answers and one-click unsubscribe: the links a reminder carries, used for real.

The answer link must survive mail scanners (a GET changes nothing), answer exactly one date for
exactly one person, and refuse when the person left, the date was cancelled or has started.
Unsubscribing must work without a log-in or CSRF token, as RFC 8058 providers POST it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from planner.models import GroupMailSettings, Membership, Override, Regular, Rsvp
from planner.notify import answer_links, preferences, unsubscribe
from planner.testing import next_evening


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SITE_URL": "http://planner.test"}


@pytest.fixture
def supper(make_user, make_group, make_routine):
    owner, sam = make_user("Olga Owner"), make_user("Sam Member")
    group = make_group(owner, members=[sam])
    routine = make_routine(group, title="Thursday supper", capacity=1)
    return owner, sam, group, routine


def _path(url: str) -> str:
    return re.sub(r"^http://planner\.test", "", url)


def _link(app, user, routine, answer="going", when=None):
    with app.test_request_context():
        links = answer_links.links(user_id=user.id, routine_id=routine.id,
                                   original_start=when or routine.start)
    return _path(links[answer])


def _status(db, routine, user, when=None):
    db.expire_all()
    return db.scalar(select(Rsvp.status).where(
        Rsvp.routine_id == routine.id, Rsvp.original_start == (when or routine.start),
        Rsvp.user_id == user.id))


def test_opening_the_link_changes_nothing_and_confirming_answers(app, client, db, supper):
    _, sam, _, routine = supper
    path = _link(app, sam, routine)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Thursday supper" in html and "Yes, I&#39;m going" in html
    assert "Going to every date from now on" in html
    assert _status(db, routine, sam) is None  # a scanner's GET answered nothing
    done = client.post(path, data={"every": "no"})
    assert done.status_code == 200
    assert "going" in done.get_data(as_text=True).lower()
    assert _status(db, routine, sam) == "going"
    assert db.scalar(select(Regular).where(Regular.user_id == sam.id)) is None


def test_every_date_from_now_on_makes_a_regular(app, client, db, supper):
    _, sam, _, routine = supper
    client.post(_link(app, sam, routine), data={"every": "yes"})
    db.expire_all()
    assert db.scalar(select(Regular.user_id).where(Regular.routine_id == routine.id)) == sam.id
    assert _status(db, routine, sam) == "going"


def test_a_full_date_puts_the_link_user_on_the_waitlist(app, client, db, supper, make_user):
    owner, sam, group, routine = supper
    client.post(_link(app, owner, routine), data={"every": "no"})  # takes the one place
    done = client.post(_link(app, sam, routine), data={"every": "no"})
    assert "waitlist" in done.get_data(as_text=True).lower()


def test_cant_go_and_maybe_links(app, client, db, supper):
    _, sam, _, routine = supper
    client.post(_link(app, sam, routine, "maybe"), data={})
    assert _status(db, routine, sam) == "maybe"
    client.post(_link(app, sam, routine, "declined"), data={})
    assert _status(db, routine, sam) == "declined"


@pytest.mark.parametrize("problem", ["forged", "left", "cancelled", "started", "other-date"])
def test_links_that_cannot_answer_say_why(app, client, db, supper, problem):
    _, sam, group, routine = supper
    path = _link(app, sam, routine)
    expected = {
        "forged": "not valid",
        "left": "no longer a member",
        "cancelled": "cancelled",
        "started": "already started",
        "other-date": "no longer part of the routine",
    }[problem]
    if problem == "forged":
        path = path[:-4] + "abcd"
    elif problem == "left":
        db.execute(Membership.__table__.delete().where(Membership.user_id == sam.id))
        db.commit()
    elif problem == "cancelled":
        db.add(Override(routine_id=routine.id, original_start=routine.start, status="cancelled"))
        db.commit()
    elif problem == "started":
        start = routine.start  # a week ahead, local Berlin time; the clock moves past it
        app.config["CLOCK"] = lambda: start + timedelta(days=1)
    else:
        path = _link(app, sam, routine, when=routine.start + timedelta(hours=1))
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert expected in response.get_data(as_text=True)
    assert _status(db, routine, sam) is None


def test_the_link_needs_the_csrf_token_on_its_page(app, client, db, supper):
    _, sam, _, routine = supper
    app.config["WTF_CSRF_ENABLED"] = True
    path = _link(app, sam, routine)
    assert client.post(path, data={"every": "no"}).status_code == 400
    assert _status(db, routine, sam) is None
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(path, data={"every": "no", "csrf_token": token}).status_code == 200
    assert _status(db, routine, sam) == "going"


def _unsubscribe_path(app, user, group, category="reminder"):
    with app.test_request_context():
        headers = unsubscribe.headers(user_id=user.id, group_id=group.id, category=category)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", headers["List-Unsubscribe"]).group(1)
    return _path(url)


def test_one_click_unsubscribe_without_login_or_csrf(app, db, supper):
    _, sam, group, _ = supper
    app.config["WTF_CSRF_ENABLED"] = True
    path = _unsubscribe_path(app, sam, group, "reminder")
    provider = app.test_client()  # no cookie, no token: what a mail provider sends
    page = provider.get(path)
    assert page.status_code == 200 and "Stop reminders from" in page.get_data(as_text=True)
    assert preferences.may_send(db, user_id=sam.id, group_id=group.id, category="reminder")
    done = provider.post(path, data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    db.expire_all()
    assert not preferences.may_send(db, user_id=sam.id, group_id=group.id, category="reminder")
    assert preferences.may_send(db, user_id=sam.id, group_id=group.id, category="notice")
    assert provider.post(path, data="List-Unsubscribe=One-Click").status_code == 200  # again
    rows = db.scalars(select(GroupMailSettings).where(GroupMailSettings.user_id == sam.id)).all()
    assert [r.muted for r in rows] == [["reminder"]]


def test_a_forged_unsubscribe_link_changes_nothing(app, db, supper):
    _, sam, group, _ = supper
    path = _unsubscribe_path(app, sam, group)[:-3] + "xyz"
    response = app.test_client().post(path, data="List-Unsubscribe=One-Click")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert db.scalar(select(GroupMailSettings)) is None


def test_links_expire_with_the_injected_clock(app, db, supper):
    _, sam, group, _ = supper
    path = _unsubscribe_path(app, sam, group)
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=400)
    app.config["CLOCK"] = lambda: later
    assert app.test_client().post(path).status_code == 400


def test_the_mail_page_saves_choices_that_the_layers_then_apply(app, as_user, db, supper):
    owner, sam, group, _ = supper
    browser = as_user(sam)
    assert "Mail you get" in browser.get("/account/mail").get_data(as_text=True)
    choice = preferences.choice(db, sam.id, group.id)
    assert (choice.reminder, choice.hour, choice.scope) == ("evening", 18, "going")
    # The organizer's defaults reach those who never chose...
    as_user(owner).post(f"/g/{group.slug}/mail", data={
        "default_reminder": "morning", "default_reminder_hour": "8", "default_scope": "all"})
    db.expire_all()
    choice = preferences.choice(db, sam.id, group.id)
    assert (choice.reminder, choice.hour, choice.scope) == ("morning", 8, "all")
    # ...and a member's own choice wins.
    saved = browser.post("/account/mail", data={
        "reminder": "hours", "reminder_hour": "", "hours_before": "5", "digest": "3",
        "comments": "y"})
    assert saved.status_code == 302
    browser.post(f"/account/mail/{group.slug}", data={
        f"g{group.id}-scope": "going", f"g{group.id}-on-reminder": "on",
        f"g{group.id}-on-notice": "on"})
    db.expire_all()
    choice = preferences.choice(db, sam.id, group.id)
    assert (choice.reminder, choice.hours_before, choice.scope) == ("hours", 5, "going")
    assert choice.digest_weekday == 3 and choice.comments
    assert choice.muted == {"ask", "digest", "comments", "message"}
    assert choice.wants("reminder", going=True) and not choice.wants("reminder", going=False)
    assert not choice.wants("message", going=True)


def test_bad_mail_settings_get_a_message_not_a_500(as_user, supper):
    _, sam, _, _ = supper
    page = as_user(sam).post("/account/mail", data={"reminder": "weekly", "hours_before": "900"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Not a valid choice" in html and "Choose 1 to 72 hours." in html


def test_the_group_mail_form_is_only_for_members_groups(as_user, make_user, make_group, supper):
    _, sam, _, _ = supper
    stranger_group = make_group(make_user("Other Owner"), name="Other")
    response = as_user(sam).post(f"/account/mail/{stranger_group.slug}",
                                 data={f"g{stranger_group.id}-scope": "none"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("zone", "local_start", "when", "hour", "expected_local"),
    [
        # The evening before at 18:00 by the member's own clock, on both sides of DST.
        ("Europe/Berlin", datetime(2027, 3, 28, 19), "evening", 18, datetime(2027, 3, 27, 18)),
        ("Europe/Berlin", datetime(2027, 10, 31, 19), "evening", 18, datetime(2027, 10, 30, 18)),
        ("America/New_York", datetime(2027, 3, 14, 9), "morning", 7, datetime(2027, 3, 14, 7)),
        # A 07:00 walk with morning reminders at 08:00: the evening before at 20:00 instead.
        ("Europe/Berlin", datetime(2027, 6, 3, 7), "morning", 8, datetime(2027, 6, 2, 20)),
    ],
)
def test_reminder_time_is_the_members_wall_clock(zone, local_start, when, hour, expected_local):
    from planner.scheduling.zones import instant, localize

    choice = preferences.Choice(reminder=when, hour=hour, hours_before=3, scope="going",
                                muted=frozenset(), comments=False, digest_weekday=None)
    start_utc = instant(local_start, zone).replace(tzinfo=None)
    got = preferences.reminder_at(choice, start_utc, zone)
    assert got == localize(expected_local, zone).astimezone(UTC).replace(tzinfo=None)


def test_hours_before_and_off():
    start = next_evening()
    base = dict(hour=18, scope="going", muted=frozenset(), comments=False, digest_weekday=None)
    hours = preferences.Choice(reminder="hours", hours_before=5, **base)
    assert preferences.reminder_at(hours, start, "Asia/Tokyo") == start - timedelta(hours=5)
    off = preferences.Choice(reminder="off", hours_before=5, **base)
    assert preferences.reminder_at(off, start, "UTC") is None


def test_the_routine_form_turns_the_answer_nudge_on_and_off(app, as_user, db, supper):
    from planner.models import Routine

    owner, _, group, routine = supper
    browser = as_user(owner)
    edit = f"/g/{group.slug}/r/{routine.id}/edit"
    html = browser.get(edit).get_data(as_text=True)
    assert "Ask those who haven&#39;t answered" in html
    form = {
        "activity": "gathering", "shown_activity": "gathering", "save": "Save",
        "title": "Thursday supper", "timezone": "Europe/Berlin",
        "start_date": routine.start.date().isoformat(), "start_time": "19:00",
        "duration": "120", "max_guests": "0", "repeat": "weekly", "interval": "1",
        "weekdays": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][routine.start.weekday()],
        "ends": "never", "ask_hours_before": "48",
    }
    response = browser.post(edit, data=form)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    db.expire_all()
    assert db.get(Routine, routine.id).ask_hours_before == 48
    shown = browser.get(edit).get_data(as_text=True)
    assert re.search(r'<option (selected value="48"|value="48" selected)', shown)
    browser.post(edit, data={**form, "ask_hours_before": ""})
    db.expire_all()
    assert db.get(Routine, routine.id).ask_hours_before is None
    bad = browser.post(edit, data={**form, "ask_hours_before": "5"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)
