"""Occurrence pages and exceptions: cancel, restore, change one, change from here on, end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup
from sqlalchemy import select

from planner import hookimpl
from planner.models import Claim, Comment, Group, Override, Regular, Routine, Rsvp, Slot
from planner.web import timefmt
from tests.joining import make_routine

BERLIN = ZoneInfo("Europe/Berlin")


class PanelPlugin:
    """A real plugin adding a panel to the occurrence page and recording notifications."""

    def __init__(self):
        self.seen: list[dict] = []
        self.changes: list[tuple] = []

    @hookimpl
    def occurrence_panels(self, occurrence, routine, viewer, attendance):
        self.seen.append(
            {"key": occurrence.key, "routine": routine.id, "viewer": viewer, "att": attendance}
        )
        return Markup("<p class='from-plugin'>Weather: dry &amp; mild</p>")

    @hookimpl
    def occurrence_changed(self, routine, original_start, change):
        self.changes.append((routine.id, original_start, change))


class BrokenPanel:
    @hookimpl
    def occurrence_panels(self, occurrence):
        raise RuntimeError("plugin bug")


@pytest.fixture
def panel():
    return PanelPlugin()


@pytest.fixture
def app_config(app_config, panel):
    return {**app_config, "EXTRA_PLUGINS": [panel, BrokenPanel()]}


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user("Olga Owner"),
        "organizer": make_user("Otto Organizer"),
        "member": make_user("Mia Member", timezone="America/New_York"),
        "outsider": make_user("Oscar Outsider"),
    }


@pytest.fixture
def group(make_group, people):
    return make_group(
        people["owner"],
        visibility="private",
        organizers=[people["organizer"]],
        members=[people["member"]],
    )


@pytest.fixture
def routine(db, group, people):
    return make_routine(
        db,
        group,
        start=datetime(2030, 1, 3, 19, 0),
        rrule="FREQ=WEEKLY;BYDAY=TH",
        location="Mia's kitchen",
        created_by_id=people["organizer"].id,
    )


@pytest.fixture
def organizer(as_user, people):
    return as_user(people["organizer"])


@pytest.fixture
def member(as_user, people):
    return as_user(people["member"])


def url(group, routine, key="", action=""):
    path = f"/g/{group.slug}/r/{routine.id}"
    if key:
        path += f"/{key}"
    if action:
        path += f"/{action}"
    return path


def text_of(response) -> str:
    return response.get_data(as_text=True)


def fresh(db, model, ident):
    db.expire_all()
    return db.get(model, ident)


# --------------------------------------------------------------------------- the page


def test_occurrence_page_in_the_viewers_zone(member, organizer, group, routine, panel):
    page = text_of(member.get(url(group, routine, "20300117T1900")))
    # Mia reads from New York: 13:00 there, with Berlin's 19:00 named.
    assert "Thu 17 Jan 2030, 13:00" in page
    assert "19:00–21:00 Europe/Berlin" in page
    assert "Thursday supper" in page and "Mia&#39;s kitchen" in page
    own = text_of(organizer.get(url(group, routine, "20300117T1900")))
    assert "Thu 17 Jan 2030, 19:00" in own and "Europe/Berlin)" not in own


def test_occurrence_page_calls_plugins_and_survives_a_broken_one(
    member, group, routine, panel, people
):
    response = member.get(url(group, routine, "20300117T1900"))
    assert response.status_code == 200
    assert "<p class='from-plugin'>Weather: dry &amp; mild</p>" in text_of(response)
    (seen,) = panel.seen
    assert seen["key"] == "20300117T1900" and seen["routine"] == routine.id
    assert seen["viewer"].id == people["member"].id
    assert seen["att"] is not None and seen["att"].routine_id == routine.id


def test_activity_details_template(organizer, group, routine, db):
    routine.activity_key = "sports"
    routine.details = {"sport": "Ultimate frisbee", "level": "all", "min_players": 6}
    db.commit()
    page = text_of(organizer.get(url(group, routine, "20300117T1900")))
    assert "Ultimate frisbee" in page


@pytest.mark.parametrize(
    "key",
    [
        "20300118T1900",  # a Friday: the series never produces it
        "20300117T1800",  # the right day, the wrong time
        "20291227T1900",  # the Thursday before the series starts
        "2030-01-17",
        "20301317T1900",
        "20300117T1900x",
        "garbage",
    ],
)
def test_unknown_or_malformed_key_is_404(member, group, routine, key):
    assert member.get(url(group, routine, key)).status_code == 404


def test_outsiders_do_not_see_private_occurrences(as_user, people, group, routine, client):
    assert as_user(people["outsider"]).get(url(group, routine, "20300117T1900")).status_code == 404
    assert client.get(url(group, routine, "20300117T1900")).status_code == 404


# --------------------------------------------------------------------------- cancel / restore


def test_cancel_with_reason_then_undo(organizer, member, group, routine, db, panel):
    key = "20300117T1900"
    response = organizer.post(
        url(group, routine, key, "cancel"), data={"reason": "Mia is travelling", "confirm": "yes"}
    )
    assert response.status_code == 302
    override = db.scalars(select(Override)).one()
    assert override.status == "cancelled" and override.note == "Mia is travelling"
    assert override.original_start == datetime(2030, 1, 17, 19, 0)
    stored = fresh(db, Routine, routine.id)
    assert stored.sequence == 1 and override.sequence >= 1
    assert fresh(db, Group, group.id).version == 2
    assert (routine.id, datetime(2030, 1, 17, 19, 0), "cancelled") in panel.changes

    page = text_of(member.get(url(group, routine, key)))
    assert "Cancelled" in page and "Mia is travelling" in page
    listing = text_of(member.get(url(group, routine)))
    assert "badge cancelled" in listing

    undo = organizer.post(url(group, routine, key, "restore"))
    assert undo.status_code == 302
    db.expire_all()
    assert db.scalars(select(Override)).all() == []
    assert fresh(db, Routine, routine.id).sequence == 2
    assert (routine.id, datetime(2030, 1, 17, 19, 0), "restored") in panel.changes
    assert "badge cancelled" not in text_of(member.get(url(group, routine, key)))


def test_members_cannot_change_occurrences(member, as_user, people, group, routine, db):
    key = "20300117T1900"
    assert member.post(url(group, routine, key, "cancel")).status_code == 403
    assert member.get(url(group, routine, key, "change")).status_code == 403
    assert member.get(url(group, routine, key, "split")).status_code == 403
    outsider = as_user(people["outsider"])
    assert outsider.post(url(group, routine, key, "cancel")).status_code == 404
    assert db.scalars(select(Override)).all() == []


def test_cancel_unknown_occurrence_is_404(organizer, group, routine, db):
    assert organizer.post(url(group, routine, "20300118T1900", "cancel")).status_code == 404
    assert db.scalars(select(Override)).all() == []


# --------------------------------------------------------------------------- change one


def change_data(**changes):
    data = {
        "start_date": "2030-01-17",
        "start_time": "19:00",
        "duration": "120",
        "title": "Thursday supper",
        "location": "Mia's kitchen",
        "note": "",
    }
    data.update(changes)
    return data


def test_change_one_occurrence(organizer, member, group, routine, db, panel):
    key = "20300117T1900"
    form = text_of(organizer.get(url(group, routine, key, "change")))
    assert 'value="2030-01-17"' in form and 'value="19:00"' in form
    response = organizer.post(
        url(group, routine, key, "change"),
        data=change_data(
            start_date="2030-01-18",
            start_time="20:00",
            duration="90",
            location="The park",
            note="Picnic this time",
        ),
    )
    assert response.status_code == 302, text_of(response)[:2000]
    override = db.scalars(select(Override)).one()
    assert override.status == "changed"
    assert override.start == datetime(2030, 1, 18, 20, 0)
    assert override.duration_minutes == 90
    assert override.location == "The park"
    assert override.title is None  # unchanged fields follow the series
    assert override.note == "Picnic this time"
    assert (routine.id, datetime(2030, 1, 17, 19, 0), "changed") in panel.changes
    page = text_of(member.get(url(group, routine, key)))
    assert "badge changed" in page and "Moved from" in page and "The park" in page
    assert "Fri 18 Jan 2030, 14:00" in page  # 20:00 Berlin is 14:00 in New York
    # Changing it back to what the series says removes the exception.
    back = organizer.post(url(group, routine, key, "change"), data=change_data())
    assert back.status_code == 302
    db.expire_all()
    assert db.scalars(select(Override)).all() == []


def test_moving_onto_another_occurrence_is_refused(organizer, group, routine, db):
    key = "20300117T1900"
    response = organizer.post(
        url(group, routine, key, "change"), data=change_data(start_date="2030-01-24")
    )
    assert response.status_code == 422
    assert "already on Thursday 24 January 2030 at 19:00" in text_of(response)
    assert db.scalars(select(Override)).all() == []
    # Moving onto a time another occurrence was moved to is refused too.
    moved = organizer.post(
        url(group, routine, "20300124T1900", "change"),
        data=change_data(start_date="2030-01-22", start_time="18:00"),
    )
    assert moved.status_code == 302
    clash = organizer.post(
        url(group, routine, key, "change"),
        data=change_data(start_date="2030-01-22", start_time="18:00"),
    )
    assert clash.status_code == 422 and "already moved to" in text_of(clash)
    db.expire_all()
    assert len(db.scalars(select(Override)).all()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": "0"}, "longer than zero"),
        ({"duration": "20000"}, "at most 7 days"),
        ({"start_date": ""}, "Choose a date"),
        ({"start_time": "7pm"}, "Not a valid time"),
        ({"title": ""}, "Give it a title"),
    ],
)
def test_change_bad_input(organizer, group, routine, db, changes, message):
    response = organizer.post(
        url(group, routine, "20300117T1900", "change"), data=change_data(**changes)
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.scalars(select(Override)).all() == []


# --------------------------------------------------------------------------- from here on


def routine_form(**changes):
    data = {
        "activity": "gathering",
        "shown_activity": "gathering",
        "title": "Thursday supper",
        "description": "",
        "location": "Mia's kitchen",
        "timezone": "Europe/Berlin",
        "start_date": "2030-01-17",
        "start_time": "19:30",
        "duration": "120",
        "capacity": "",
        "max_guests": "0",
        "repeat": "weekly",
        "interval": "1",
        "weekdays": ["TH"],
        "month_day": "17",
        "month_nth": "3",
        "month_weekday": "TH",
        "ends": "never",
        "until": "",
        "count": "",
        "rrule": "",
        "save": "Save",
    }
    data.update(changes)
    return data


def test_change_the_series_from_an_occurrence_on(organizer, group, routine, db, people, panel):
    member_id = people["member"].id
    slot = Slot(routine_id=routine.id, label="Host", capacity=1, position=0)
    db.add(slot)
    db.flush()
    db.add_all(
        [
            Rsvp(routine_id=routine.id, original_start=datetime(2030, 1, 10, 19), user_id=member_id,
                 status="going"),
            Rsvp(routine_id=routine.id, original_start=datetime(2030, 1, 31, 19), user_id=member_id,
                 status="maybe"),
            Comment(routine_id=routine.id, original_start=datetime(2030, 1, 31, 19),
                    user_id=member_id, body="I'll bring bread"),
            Claim(slot_id=slot.id, original_start=datetime(2030, 1, 31, 19), user_id=member_id),
            Override(routine_id=routine.id, original_start=datetime(2030, 1, 24, 19),
                     status="cancelled", note="Holiday"),
            Regular(routine_id=routine.id, user_id=member_id),
        ]
    )  # fmt: skip
    db.commit()
    key = "20300117T1900"
    form = text_of(organizer.get(url(group, routine, key, "split")))
    assert 'value="2030-01-17"' in form and "Occurrences before" in form
    response = organizer.post(url(group, routine, key, "split"), data=routine_form())
    assert response.status_code == 302, text_of(response)[:3000]
    db.expire_all()
    old = db.get(Routine, routine.id)
    new = db.scalars(select(Routine).where(Routine.previous_id == routine.id)).one()
    assert new.start == datetime(2030, 1, 17, 19, 30) and new.rrule == "FREQ=WEEKLY;BYDAY=TH"
    assert old.rrule.startswith("FREQ=WEEKLY;UNTIL=20300117T") and old.sequence == 1
    # Before the split nothing moves; after it, answers follow the day they were for.
    early = db.scalars(select(Rsvp).where(Rsvp.original_start == datetime(2030, 1, 10, 19))).one()
    assert early.routine_id == old.id
    late = db.scalars(select(Rsvp).where(Rsvp.status == "maybe")).one()
    assert (late.routine_id, late.original_start) == (new.id, datetime(2030, 1, 31, 19, 30))
    comment = db.scalars(select(Comment)).one()
    assert (comment.routine_id, comment.original_start) == (new.id, datetime(2030, 1, 31, 19, 30))
    claim = db.scalars(select(Claim)).one()
    new_slot = db.get(Slot, claim.slot_id)
    assert new_slot.routine_id == new.id and new_slot.label == "Host"
    assert claim.original_start == datetime(2030, 1, 31, 19, 30)
    override = db.scalars(select(Override)).one()
    assert (override.routine_id, override.original_start) == (new.id, datetime(2030, 1, 24, 19, 30))
    assert override.note == "Holiday"
    assert db.scalars(select(Regular.user_id).where(Regular.routine_id == new.id)).all() == [
        member_id
    ]
    # The old key is gone from the old series; the new one has it at the new time.
    assert organizer.get(url(group, old, "20300117T1900")).status_code == 404
    assert organizer.get(url(group, old, "20300110T1900")).status_code == 200
    assert organizer.get(url(group, new, "20300131T1930")).status_code == 200
    page = text_of(organizer.get(url(group, new)))
    assert "Continues" in page
    assert any(change == "split" for _r, _s, change in panel.changes)


def test_split_refuses_a_start_inside_the_old_series(organizer, group, routine, db):
    response = organizer.post(
        url(group, routine, "20300117T1900", "split"),
        data=routine_form(start_date="2030-01-10", start_time="19:00"),
    )
    assert response.status_code == 422
    assert "after the last occurrence of the old one" in text_of(response)
    db.expire_all()
    assert len(db.scalars(select(Routine)).all()) == 1
    assert db.get(Routine, routine.id).rrule == "FREQ=WEEKLY;BYDAY=TH"


def test_split_at_the_first_occurrence_goes_to_edit(organizer, group, routine):
    response = organizer.get(url(group, routine, "20300103T1900", "split"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/r/{routine.id}/edit")


def test_split_keeps_remaining_count(organizer, group, routine, db):
    routine.rrule = "FREQ=WEEKLY;COUNT=10;BYDAY=TH"
    db.commit()
    form = text_of(organizer.get(url(group, routine, "20300117T1900", "split")))
    assert 'name="count"' in form and 'value="8"' in form


def test_make_this_the_last_date(organizer, group, routine, db):
    response = organizer.post(
        url(group, routine, action="end"),
        data={"last_date": "2030-01-17", "next_key": "20300117T1900", "confirm": "yes"},
    )
    assert response.status_code == 302
    assert organizer.get(url(group, routine, "20300117T1900")).status_code == 200
    assert organizer.get(url(group, routine, "20300124T1900")).status_code == 404


# --------------------------------------------------------------------------- lists


def test_group_page_lists_upcoming_with_more_link(db, group, people, member, organizer):
    today = datetime.now(BERLIN).date()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time()).replace(hour=19)
    weekly = Routine(
        group_id=group.id, title="Football", timezone="Europe/Berlin", start=start,
        duration_minutes=90, rrule="FREQ=WEEKLY", details={}, activity_key="sports",
    )  # fmt: skip
    db.add(weekly)
    db.commit()
    second_key = (start + timedelta(days=7)).strftime("%Y%m%dT%H%M")
    cancel = {"reason": "Pitch closed", "confirm": "yes"}
    organizer.post(url(group, weekly, second_key, "cancel"), data=cancel)
    page = text_of(organizer.get(f"/g/{group.slug}"))
    assert "Football" in page and "Tomorrow" in page and "In 8 days" in page
    assert "Cancelled" in page and "Pitch closed" in page
    assert f"/g/{group.slug}/upcoming" in page
    longer = text_of(organizer.get(f"/g/{group.slug}/upcoming"))
    assert longer.count("Football") > page.count("Football")


# --------------------------------------------------------------------------- time filters


def test_relative_day_counts_calendar_days_in_the_viewers_zone(app):
    now = datetime(2030, 1, 3, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    with app.test_request_context():
        def rel(dt):
            return timefmt.relative_day(dt, "Europe/Berlin", now=now)

        assert rel(datetime(2030, 1, 3, 23, 45, tzinfo=BERLIN)) == "today"
        assert rel(datetime(2030, 1, 4, 0, 15, tzinfo=BERLIN)) == "tomorrow"
        assert rel(datetime(2030, 1, 6, 19, 0, tzinfo=BERLIN)) == "in 3 days"
        assert rel(datetime(2030, 1, 2, 19, 0, tzinfo=BERLIN)) == "yesterday"
        assert rel(datetime(2029, 12, 29, 19, 0, tzinfo=BERLIN)) == "5 days ago"
        assert rel(datetime(2030, 2, 3, 19, 0, tzinfo=BERLIN)) == "in 4 weeks"
        assert rel(date(2030, 1, 4)) == "tomorrow"


def test_when_names_the_routine_zone_only_when_it_differs(app):
    moment = datetime(2030, 7, 4, 19, 0, tzinfo=BERLIN)
    with app.test_request_context():
        same = str(timefmt.when(moment, "Europe/Berlin", "Europe/Berlin"))
        assert "Thu 4 Jul 2030, 19:00" in same and "zone" not in same
        other = str(timefmt.when(moment, "Europe/Berlin", "Australia/Sydney"))
        # 19:00 in Berlin (CEST) is 03:00 the next day in Sydney.
        assert "Fri 5 Jul 2030, 03:00" in other
        assert "(Thu 4 Jul 2030, 19:00 Europe/Berlin)" in other
        span = str(
            timefmt.time_range(moment, moment + timedelta(hours=2), "Europe/Berlin", "UTC")
        )
        assert "Thu 4 Jul 2030, 17:00" in span and "19:00–21:00 Europe/Berlin" in span
        assert timefmt.minutes(90) == "1 hour 30 minutes"


def test_kept_time_strings_follow_every_input(app):
    """The formatted strings are kept per input: the same instant in another zone writes its
    own ``datetime`` attribute, and another viewer zone its own text."""
    moment = datetime(2030, 7, 4, 19, 0, tzinfo=BERLIN)
    same_instant = moment.astimezone(UTC)
    with app.test_request_context():
        berlin = str(timefmt.time_range(moment, moment + timedelta(hours=2), None, "UTC"))
        utc = str(
            timefmt.time_range(same_instant, same_instant + timedelta(hours=2), None, "UTC")
        )
        assert 'datetime="2030-07-04T19:00:00+02:00"' in berlin
        assert 'datetime="2030-07-04T17:00:00+00:00"' in utc
        later = moment + timedelta(hours=2)
        sydney = str(timefmt.time_range(moment, later, None, "Australia/Sydney"))
        assert "Fri 5 Jul 2030, 03:00" in sydney and "17:00" in berlin
        assert str(timefmt.when(moment, "Europe/<b>", "UTC")).count("&lt;b&gt;") == 1
