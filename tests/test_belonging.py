"""Belonging, end to end through real requests on both databases: who came, good things,
shared history, the rhythm across a planned break, kind check-ins (read back from aiosmtpd),
first-timer marks and the history's expiry, all on an injected clock.

The world: a weekly Thursday supper at 19:00 (Europe/Berlin) that started ten weeks before
"now". Olga organizes; Sam and Ana are members who went.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from planner.belonging import checkins
from planner.mail.delivery import deliver_due
from planner.mail.queue import run_jobs
from planner.models import (
    CheckinPrompt,
    GoodThing,
    Membership,
    Override,
    Presence,
    Rsvp,
    bump_group_version,
)
from planner.scheduling.zones import format_key

ZONE = "Europe/Berlin"
NOW = datetime(2027, 3, 19, 12, 0)  # a Friday, naive UTC
FIRST = datetime(2027, 1, 7, 19, 0)  # a Thursday, ten weeks earlier (local)
THURSDAYS = [FIRST + timedelta(weeks=n) for n in range(11)]  # the last is 18 March


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app_config(app_config, clock, smtp):
    return {**app_config, "CLOCK": clock, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test"}


@pytest.fixture
def world(db, make_user, make_group, make_routine):
    olga, sam, ana = make_user("Olga"), make_user("Sam"), make_user("Ana")
    outsider = make_user("Otto")
    group = make_group(olga, members=[sam, ana], slug="supper", timezone=ZONE)
    for m in db.scalars(select(Membership).where(Membership.group_id == group.id)):
        m.created_at = FIRST - timedelta(days=30)
    routine = make_routine(group, title="Thursday supper", start=FIRST, created_by_id=olga.id)
    db.commit()
    return dict(olga=olga, sam=sam, ana=ana, otto=outsider, group=group, routine=routine)


def going(db, routine, user, dates, status="going"):
    for when in dates:
        db.add(Rsvp(routine_id=routine.id, original_start=when, user_id=user.id, status=status,
                    answered_at=when - timedelta(days=2)))
    db.commit()


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def date_path(w, when):
    return f"/g/supper/r/{w['routine'].id}/{format_key(when)}"


def test_were_you_there_then_the_count_and_the_organizers_list(db, as_user, world):
    w = world
    last = THURSDAYS[-1]
    going(db, w["routine"], w["sam"], [last])
    going(db, w["routine"], w["ana"], [last])
    sam = as_user(w["sam"])
    html = page(sam, date_path(w, last))
    assert "Were you there?" in html and "Counted from who was going" in html
    assert sam.post(date_path(w, last) + "/presence", data={"came": "yes"}).status_code == 302
    html = page(sam, date_path(w, last))
    assert "1 came" in html and "Were you there?" not in html
    # The organizer confirms for everyone; Ana did not come.
    olga = as_user(w["olga"])
    form = page(olga, date_path(w, last) + "/who-came")
    assert "Sam" in form and "Ana" in form
    olga.post(date_path(w, last) + "/who-came", data={"came": [str(w["sam"].id)]})
    assert "Ana didn't come" in page(olga, date_path(w, last))
    member_view = page(as_user(w["ana"]), date_path(w, last))
    assert "1 came" in member_view and "didn't come" not in member_view  # no no-show list
    assert as_user(w["ana"]).get(date_path(w, last) + "/who-came").status_code == 403


def test_presence_waits_for_the_date_to_end(db, as_user, world, clock):
    w = world
    upcoming = THURSDAYS[-1] + timedelta(weeks=1)
    going(db, w["routine"], w["sam"], [upcoming])
    response = as_user(w["sam"]).post(date_path(w, upcoming) + "/presence", data={"came": "yes"})
    assert response.status_code == 400
    assert "once the date is over" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Presence)) == 0


def test_good_things_from_last_time_show_on_the_next_date(db, as_user, world):
    w = world
    last, nxt = THURSDAYS[-1], THURSDAYS[-1] + timedelta(weeks=1)
    going(db, w["routine"], w["sam"], [last])
    sam = as_user(w["sam"])
    sam.post(date_path(w, last) + "/presence", data={"came": "yes"})
    done = sam.post(date_path(w, last) + "/good-things", data={"body": "Olga's lentil soup"})
    assert done.status_code == 302
    assert "Last time" in page(sam, date_path(w, nxt))
    assert "Olga&#39;s lentil soup" in page(sam, date_path(w, nxt))
    # Someone who did not come cannot add one; an overlong one is refused with a reason.
    refused = as_user(w["ana"]).post(date_path(w, last) + "/good-things", data={"body": "Hi"})
    assert refused.status_code == 400 and "Only people who came" in refused.get_data(as_text=True)
    long = sam.post(date_path(w, last) + "/good-things", data={"body": "x" * 281})
    assert long.status_code == 400
    # The organizer hides it: members no longer see it, on either page.
    thing = db.scalar(select(GoodThing))
    as_user(w["olga"]).post(f"/g/supper/good-things/{thing.id}/hide")
    assert "lentil" not in page(as_user(w["ana"]), date_path(w, nxt))
    # Its author may delete it; nobody else may.
    assert as_user(w["ana"]).post(f"/g/supper/good-things/{thing.id}/delete").status_code == 403
    assert sam.post(f"/g/supper/good-things/{thing.id}/delete").status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(GoodThing)) == 0


def test_shared_history_own_figures_hiding_and_forgetting(db, as_user, world):
    w = world
    going(db, w["routine"], w["sam"], THURSDAYS[2:10])
    going(db, w["routine"], w["ana"], THURSDAYS[4:10])
    ana = as_user(w["ana"])
    html = page(ana, f"/g/supper/people/{w['sam'].id}")
    assert "You've shared <strong>6 Thursday supper</strong> with Sam since February 2027" in html
    assert "“going” counts as having been" in html
    own = page(as_user(w["sam"]), f"/g/supper/people/{w['sam'].id}")
    assert "<strong>8 Thursday supper</strong> this year" in own
    assert "Your longest run: 8 in a row" in own
    # Sam hides from others' history.
    as_user(w["sam"]).post("/g/supper/me/hide", data={"hide": "yes"})
    assert "Shared history is hidden" in page(ana, f"/g/supper/people/{w['sam'].id}")
    # Confirmed presence wins over "going"; forgetting deletes exactly Sam's rows.
    db.add_all([Presence(routine_id=w["routine"].id, original_start=d, user_id=u.id, came=True)
                for d in THURSDAYS[8:10] for u in (w["sam"], w["ana"])])
    db.commit()
    as_user(w["sam"]).post("/g/supper/me/forget")
    db.expire_all()
    left = db.scalars(select(Presence.user_id)).all()
    assert sorted(left) == [w["ana"].id, w["ana"].id]


def test_rhythm_counts_across_a_planned_break_not_across_a_cancellation(
    db, as_user, world, smtp, app
):
    w = world
    olga = as_user(w["olga"])
    going(db, w["routine"], w["sam"], [THURSDAYS[-1] + timedelta(weeks=2)])
    html = page(olga, f"/g/supper/r/{w['routine'].id}")
    assert "11 Thursdays in a row</strong>, since 7 January 2027" in html
    # A break over two past dates and one coming date: the rhythm skips them.
    response = olga.post(f"/g/supper/r/{w['routine'].id}/breaks", data={
        "label": "Carnival break", "first_day": "2027-02-10", "last_day": "2027-02-20"})
    assert response.status_code == 302
    html = page(olga, f"/g/supper/r/{w['routine'].id}")
    assert "9 Thursdays in a row</strong>, since 7 January 2027" in html
    assert "across 1 planned break" in html and "Carnival break" in html
    db.expire_all()
    notes = db.scalars(select(Override.note).where(Override.status == "cancelled")).all()
    assert notes == ["Carnival break", "Carnival break"]
    # A cancellation outside a break ends the run.
    db.add(Override(routine_id=w["routine"].id, original_start=THURSDAYS[-3], status="cancelled"))
    bump_group_version(db, w["group"].id)
    db.commit()
    assert "2 Thursdays in a row</strong>, since 11 March 2027" in page(
        olga, f"/g/supper/r/{w['routine'].id}")
    # The feed shows the break's dates as cancelled.

    feed = as_user(w["olga"]).get("/feeds/g/supper.ics").get_data(as_text=True)
    assert feed.count("20270211T190000") >= 1 and "20270218T190000" in feed
    # Undo brings back exactly the break's dates.
    planned = olga.get(f"/g/supper/r/{w['routine'].id}/breaks").get_data(as_text=True)
    undo = re.search(r'action="(/g/supper/r/\d+/breaks/\d+/undo)"', planned).group(1)
    assert olga.post(undo).status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Override)) == 1


def test_a_break_tells_the_people_going_once(db, as_user, world, smtp, app):
    w = world
    soon = THURSDAYS[-1] + timedelta(weeks=1)
    going(db, w["routine"], w["sam"], [soon, soon + timedelta(weeks=1)])
    as_user(w["olga"]).post(f"/g/supper/r/{w['routine'].id}/breaks", data={
        "label": "Spring break", "first_day": "2027-03-22", "last_day": "2027-04-04"})
    deliver_due(app)
    [mail] = smtp.inbox.messages
    assert mail["To"].addresses[0].addr_spec == w["sam"].email
    assert mail["Subject"].startswith("Spring break: no Thursday supper")
    assert "The 2 dates in it are off" in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize("problem", ["reversed", "overlap", "nothing"])
def test_bad_breaks_are_refused_with_a_reason(db, as_user, world, problem):
    w = world
    olga = as_user(w["olga"])
    path = f"/g/supper/r/{w['routine'].id}/breaks"
    if problem == "overlap":
        olga.post(path, data={"label": "A", "first_day": "2027-03-22", "last_day": "2027-04-04"})
    data = {"reversed": ("2027-04-04", "2027-03-22"), "overlap": ("2027-03-30", "2027-04-10"),
            "nothing": ("2027-03-23", "2027-03-24")}[problem]
    response = olga.post(path, data={"label": "B", "first_day": data[0], "last_day": data[1]})
    assert response.status_code == 400
    expected = {"reversed": "comes before its first", "overlap": "overlaps another",
                "nothing": "no dates in those days"}[problem]
    assert expected in response.get_data(as_text=True)


def _usual_then_away(db, w):
    """Sam came to five Thursdays in a row, then missed the last three."""
    routine = w["routine"]
    db.add_all([Presence(routine_id=routine.id, original_start=d, user_id=w["sam"].id,
                         came=n < 5) for n, d in enumerate(THURSDAYS[3:11])])
    db.commit()


def test_one_kind_checkin_goes_to_the_buddy_then_none_for_four_weeks(
    db, as_user, world, smtp, app, clock
):
    w = world
    _usual_then_away(db, w)
    as_user(w["sam"]).post("/g/supper/me/buddy", data={"buddy": str(w["ana"].id)})
    assert run_jobs(app)["checkins"] == 1
    deliver_due(app)
    [prompt] = smtp.inbox.messages
    assert prompt["To"].addresses[0].addr_spec == w["ana"].email  # the buddy, nobody else
    body = prompt.get_body(("plain",)).get_content()
    assert "Sam hasn't been to the last 3 dates of Thursday supper" in body
    assert run_jobs(app)["checkins"] == 0  # not twice
    clock.now = NOW + timedelta(days=27)
    assert run_jobs(app)["checkins"] == 0  # nor within four weeks
    assert db.scalar(select(func.count()).select_from(CheckinPrompt)) == 1
    # The prompt's page lets Ana write her own note; that is all Sam ever gets.
    link = re.search(r"http://planner\.test(/g/supper/check-in/\d+)", body).group(1)
    ana = as_user(w["ana"])
    assert "we&#39;ve missed you at Thursday supper" in page(ana, link)
    assert as_user(w["olga"]).get(link).status_code == 404  # only its recipient
    ana.post(link, data={"text": "Hey Sam, soup's on Thursday, come by!"})
    deliver_due(app)
    to_sam = [m for m in smtp.inbox.messages if m["To"].addresses[0].addr_spec == w["sam"].email]
    assert [m["Subject"] for m in to_sam] == ["A note from Ana (Thursday Supper Club)"]


def test_no_checkin_when_switched_off_by_the_member_or_the_group(db, as_user, world, app):
    w = world
    _usual_then_away(db, w)
    as_user(w["sam"]).post("/g/supper/me/checkins", data={"checkins": "no"})
    assert run_jobs(app)["checkins"] == 0
    as_user(w["sam"]).post("/g/supper/me/checkins", data={"checkins": "yes"})
    w["group"].checkins_enabled = False
    db.commit()
    assert run_jobs(app)["checkins"] == 0


def test_usually_comes_needs_three_of_five_before_the_missed_run():
    from planner.belonging.past import PastDate

    def dates(pattern):
        return [PastDate(None, None, frozenset({1}) if c == "x" else frozenset(), True)
                for c in pattern]

    assert checkins.usually_comes_and_missed(dates("xxx.."   "..."), 1)  # 3 of 5, then 3 missed
    assert checkins.usually_comes_and_missed(dates("x.x.."   "..."), 1) is False  # 2 of the 5
    assert checkins.usually_comes_and_missed(dates("xxxxx..."), 1)
    assert checkins.usually_comes_and_missed(dates("xxxxx.x."), 1) is False  # came lately
    assert checkins.usually_comes_and_missed(dates("xxxxx.."), 1) is False  # missed only 2
    assert checkins.usually_comes_and_missed(dates("..."), 1) is False  # never usual


def test_first_timers_are_marked_for_members(db, as_user, world):
    w = world
    nxt = THURSDAYS[-1] + timedelta(weeks=1)
    going(db, w["routine"], w["sam"], THURSDAYS[-3:] + [nxt])
    going(db, w["routine"], w["ana"], [nxt])
    html = page(as_user(w["olga"]), date_path(w, nxt))
    marked = re.findall(r'<span class="name">(\w+)</span>(?: <span class="badge[^"]*"[^>]*>'
                        r'[^<]*</span>)* <span class="badge first-time"', html)
    assert marked == ["Ana"]  # Sam came before


def test_history_expires_after_twelve_months_exactly(db, world, app, clock):
    w = world
    routine = w["routine"]
    old, recent = datetime(2026, 3, 1, 19), datetime(2026, 3, 30, 19)
    db.add_all([
        Presence(routine_id=routine.id, original_start=old, user_id=w["sam"].id, came=True),
        Presence(routine_id=routine.id, original_start=recent, user_id=w["sam"].id, came=True),
        GoodThing(routine_id=routine.id, original_start=old, user_id=w["sam"].id, body="old"),
        GoodThing(routine_id=routine.id, original_start=recent, user_id=w["sam"].id, body="new"),
    ])
    db.commit()
    assert run_jobs(app)["history-expiry"] == 2
    db.expire_all()
    assert db.scalars(select(Presence.original_start)).all() == [recent]
    assert db.scalars(select(GoodThing.body)).all() == ["new"]
    assert run_jobs(app)["history-expiry"] == 0


def test_outsiders_and_the_public_see_none_of_it(db, as_user, client, world):
    w = world
    w["group"].visibility = "public"
    db.commit()
    last = THURSDAYS[-1]
    going(db, w["routine"], w["sam"], [last])
    for viewer in (client, as_user(w["otto"])):
        html = viewer.get(date_path(w, last)).get_data(as_text=True)
        assert "came" not in html.lower() or "1 came" not in html
        assert "Were you there" not in html
        assert viewer.get(f"/g/supper/people/{w['sam'].id}").status_code in (302, 404)
    rhythm = client.get(f"/g/supper/r/{w['routine'].id}").get_data(as_text=True)
    assert "in a row" not in rhythm


def test_my_data_has_attendance_good_things_and_buddy_choices(db, as_user, world):
    import json

    w = world
    routine = w["routine"]
    db.add_all([
        Presence(routine_id=routine.id, original_start=THURSDAYS[-1], user_id=w["sam"].id,
                 came=True),
        GoodThing(routine_id=routine.id, original_start=THURSDAYS[-1], user_id=w["sam"].id,
                  body="The soup"),
    ])
    db.commit()
    as_user(w["ana"]).post("/g/supper/me/buddy", data={"buddy": str(w["sam"].id)})
    document = json.loads(as_user(w["sam"]).get("/account/my-data.json").get_data(as_text=True))
    assert [r["came"] for r in document["attendance"]] == [True]
    assert [r["body"] for r in document["good_things"]] == ["The soup"]
    [chosen] = document["chosen_as_buddy"]
    assert "user_id" not in chosen and chosen["group"] == "Thursday Supper Club"


def test_next_up_asks_were_you_there_and_shows_my_checkin_prompts(db, as_user, world, app):
    w = world
    last = THURSDAYS[-1]  # ended the evening before "now"
    going(db, w["routine"], w["ana"], [last, THURSDAYS[-2]])
    ana = as_user(w["ana"])
    html = page(ana, "/")
    assert "Were you there?" in html
    assert html.count("I was there") == 1  # only the date of the last three days
    ana.post(date_path(w, last) + "/presence", data={"came": "yes"})
    assert "Were you there?" not in page(ana, "/")
    _usual_then_away(db, w)
    run_jobs(app)
    assert "Sam hasn't been to Thursday Supper Club lately" in page(as_user(w["olga"]), "/")
    assert "hasn't been" not in page(ana, "/")  # only the one prompted sees it


def text(client, path):
    """The page with entities decoded, for sentences with apostrophes."""
    return html.unescape(page(client, path))


# -- what activity types add to history (ActivityType.history_lines) -------------------------------


def test_meals_history_credits_hosts_and_proposes_the_fairest_turn(db, as_user, world,
                                                                   make_routine):
    from planner.models import Claim, Slot

    w = world
    supper = make_routine(w["group"], "meals", {"style": "potluck"}, title="Shared supper",
                          start=FIRST, created_by_id=w["olga"].id)
    supper.details = {**supper.details, "hosts": [{"user_id": w["sam"].id, "name": "Sam"},
                                                  {"user_id": w["ana"].id, "name": "Ana"}]}
    host_slot = Slot(routine_id=supper.id, label="Host", capacity=1)
    db.add(host_slot)
    db.flush()
    # The rotation gives Sam the even dates and Ana the odd ones; Olga takes the last one's
    # "Host" slot, which wins over the rotation.
    db.add(Claim(slot_id=host_slot.id, original_start=THURSDAYS[10], user_id=w["olga"].id))
    db.commit()
    for person in (w["sam"], w["ana"]):
        going(db, supper, person, THURSDAYS)
    going(db, supper, w["olga"], THURSDAYS[10:])
    sam = as_user(w["sam"])
    assert "You hosted 5 times." in text(sam, f"/g/supper/people/{w['sam'].id}")
    ana = as_user(w["ana"])
    about_sam = text(ana, f"/g/supper/people/{w['sam'].id}")
    assert "They hosted 5 of the meals you shared." in about_sam
    assert "You hosted 5 of them." in about_sam
    # Sam last hosted the ninth date, Ana the tenth: Sam's turn is the fairest.
    routine_page = text(ana, f"/g/supper/r/{supper.id}")
    assert "Fairest next host: Sam, who hasn't hosted for 2 dates." in routine_page
    sam.post("/g/supper/me/hide", data={"hide": "yes"})
    assert "hosted" not in text(ana, f"/g/supper/people/{w['sam'].id}")


def test_walks_count_kilometres_and_sports_count_games(db, as_user, world, make_routine):
    w = world
    walk = make_routine(w["group"], "walks", {"meeting_point": "Park gate", "distance_km": 5},
                        title="Thursday walk", start=FIRST, created_by_id=w["olga"].id)
    game = make_routine(w["group"], "sports", {"sport": "Football", "teams": 2},
                        title="Thursday football", start=FIRST, created_by_id=w["olga"].id)
    for routine in (walk, game):
        going(db, routine, w["sam"], THURSDAYS[0:4])
        going(db, routine, w["ana"], THURSDAYS[2:6])
    ana = as_user(w["ana"])
    assert "30 km walked together on 6 walks." in text(ana, f"/g/supper/r/{walk.id}")
    assert "6 games played, 2 teams" in text(ana, f"/g/supper/r/{game.id}")
    about_sam = text(ana, f"/g/supper/people/{w['sam'].id}")
    assert "You've walked 10 km together." in about_sam
    assert "You played 2 games together." in about_sam
    own = text(as_user(w["sam"]), f"/g/supper/people/{w['sam'].id}")
    assert "You've walked 20 km with the group." in own and "You played 4 games." in own
    # None of it reaches outsiders, even where the group's pages are public.
    assert "walked together" not in text(as_user(w["otto"]), f"/g/supper/r/{walk.id}")


def test_the_meals_host_of_the_date_confirms_who_came(db, as_user, world, make_routine):
    w = world
    supper = make_routine(w["group"], "meals", {"style": "potluck"}, title="Shared supper",
                          start=FIRST, created_by_id=w["olga"].id)
    supper.details = {**supper.details, "hosts": [{"user_id": w["sam"].id, "name": "Sam"},
                                                  {"user_id": w["ana"].id, "name": "Ana"}]}
    db.commit()
    going(db, supper, w["sam"], THURSDAYS[9:])
    going(db, supper, w["ana"], THURSDAYS[9:])
    last = f"/g/supper/r/{supper.id}/{format_key(THURSDAYS[10])}"  # Sam's turn in the rotation
    sam, ana = as_user(w["sam"]), as_user(w["ana"])
    assert "Confirm who came" in text(sam, last)
    assert sam.get(last + "/who-came").status_code == 200
    assert ana.get(last + "/who-came").status_code == 403
    assert sam.post(last + "/who-came", data={"came": [str(w["ana"].id)]}).status_code == 302
    member_view = text(ana, last)
    assert "1 came" in member_view and "didn't come" not in member_view
    # The date before was Ana's turn: there she confirms, and Sam may not.
    before = f"/g/supper/r/{supper.id}/{format_key(THURSDAYS[9])}"
    assert ana.get(before + "/who-came").status_code == 200
    assert sam.get(before + "/who-came").status_code == 403


def test_whoever_holds_the_host_slot_confirms_who_came(db, as_user, world):
    """The same host the reminder names: the holder of the date's "Host" slot, of any type."""
    from planner.models import Claim, Slot

    w = world
    last = THURSDAYS[-1]
    host_slot = Slot(routine_id=w["routine"].id, label="Host", capacity=1)
    db.add(host_slot)
    db.flush()
    db.add(Claim(slot_id=host_slot.id, original_start=last, user_id=w["ana"].id))
    db.commit()
    going(db, w["routine"], w["ana"], [last])
    going(db, w["routine"], w["sam"], [last])
    assert as_user(w["ana"]).get(date_path(w, last) + "/who-came").status_code == 200
    assert as_user(w["sam"]).get(date_path(w, last) + "/who-came").status_code == 403
