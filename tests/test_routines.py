"""Routines through the browser's eyes: the form in words, preview, bad input, edit, delete."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from planner import hookimpl
from planner.models import Group, Routine, Slot
from tests.joining import make_routine

FIRST = "2030-01-03"  # a Thursday


class Recorder:
    """A real plugin object registered through EXTRA_PLUGINS; records notifications."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    @hookimpl
    def routine_saved(self, routine, created):
        self.calls.append(("routine_saved", {"id": routine.id, "created": created}))

    @hookimpl
    def occurrence_changed(self, routine, original_start, change):
        self.calls.append(("occurrence_changed", {"start": original_start, "change": change}))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app_config(app_config, recorder):
    return {**app_config, "EXTRA_PLUGINS": [recorder]}


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user("Olga Owner"),
        "organizer": make_user("Otto Organizer"),
        "member": make_user("Mia Member"),
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
def organizer(as_user, people):
    return as_user(people["organizer"])


def form_data(**changes) -> dict:
    data = {
        "activity": "gathering",
        "shown_activity": "gathering",
        "title": "Thursday supper",
        "description": "Bring something if you like.",
        "location": "Mia's kitchen",
        "timezone": "Europe/Berlin",
        "start_date": FIRST,
        "start_time": "19:00",
        "duration": "120",
        "capacity": "",
        "max_guests": "1",
        "repeat": "weekly",
        "interval": "1",
        "weekdays": ["TH"],
        "month_day": "3",
        "month_nth": "1",
        "month_weekday": "TH",
        "ends": "never",
        "until": "",
        "count": "",
        "rrule": "",
        "save": "Save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def routine_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Routine))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def new_url(group) -> str:
    return f"/g/{group.slug}/routines/new"


# --------------------------------------------------------------------------- creating


def test_form_offers_patterns_in_words_and_the_groups_zone(organizer, group):
    response = organizer.get(new_url(group))
    assert response.status_code == 200
    page = text_of(response)
    for words in (
        "Once",
        "Every day",
        "Every week",
        "Monthly, on a date",
        "Monthly, on a weekday",
        "first Saturday",
        "Every year",
        "Advanced",
        "After a number of times",
    ):
        assert words in page
    assert re.search(r'<option selected value="Europe/Berlin">', page)
    assert 'name="preview"' in page


@pytest.mark.parametrize(
    ("changes", "rule", "words"),
    [
        ({}, "FREQ=WEEKLY;BYDAY=TH", "Every Thursday at 19:00 for 2 hours, Europe/Berlin"),
        (
            {"interval": "2", "weekdays": ["TH"]},
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            "Every 2 weeks on Thursday at 19:00",
        ),
        ({"weekdays": ["TU", "TH"]}, "FREQ=WEEKLY;BYDAY=TU,TH", "Every Tuesday and Thursday"),
        ({"repeat": "daily"}, "FREQ=DAILY", "Every day at 19:00"),
        ({"repeat": "once"}, "", "Once on Thursday 3 January 2030 at 19:00"),
        (
            {"repeat": "monthly_day", "month_day": "3"},
            "FREQ=MONTHLY;BYMONTHDAY=3",
            "Monthly on day 3",
        ),
        (
            {"repeat": "monthly_nth", "month_nth": "1", "month_weekday": "TH"},
            "FREQ=MONTHLY;BYDAY=1TH",
            "Monthly on the first Thursday",
        ),
        (
            {"repeat": "monthly_nth", "month_nth": "-1", "month_weekday": "TH"},
            "FREQ=MONTHLY;BYDAY=-1TH",
            "Monthly on the last Thursday",  # starts on 31 January, the first that fits
        ),
        ({"repeat": "yearly"}, "FREQ=YEARLY", "Every year on 3 January"),
        ({"ends": "count", "count": "10"}, "FREQ=WEEKLY;COUNT=10;BYDAY=TH", "10 times"),
        (
            {"ends": "until", "until": "2030-03-28"},
            "FREQ=WEEKLY;UNTIL=20300328T225959Z;BYDAY=TH",
            "until 28 March 2030",
        ),
        (
            {"repeat": "advanced", "rrule": "RRULE:FREQ=MONTHLY;BYDAY=TH;BYSETPOS=1"},
            "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=1",
            "custom rule",
        ),
    ],
)
def test_create_each_pattern(organizer, group, db, recorder, changes, rule, words):
    response = organizer.post(new_url(group), data=form_data(**changes))
    assert response.status_code == 302, text_of(response)[:2000]
    routine = db.scalars(select(Routine)).one()
    assert routine.rrule == rule
    first_day = 31 if rule.endswith("-1TH") else 3
    assert routine.start == datetime(2030, 1, first_day, 19, 0)
    assert routine.timezone == "Europe/Berlin"
    assert routine.duration_minutes == 120
    assert routine.max_guests == 1
    assert routine.sequence == 0
    assert ("routine_saved", {"id": routine.id, "created": True}) in recorder.calls
    page = text_of(organizer.get(response.headers["Location"]))
    assert words in page
    db.expire_all()
    assert db.get(Group, group.id).version == 2


def test_start_moves_to_the_first_day_that_fits(organizer, group, db):
    # 2030-01-02 is a Wednesday; "every Thursday" starts on the 3rd.
    response = organizer.post(
        new_url(group), data=form_data(start_date="2030-01-02"), follow_redirects=True
    )
    assert response.status_code == 200
    assert "does not fit the pattern" in text_of(response)
    assert db.scalars(select(Routine)).one().start == datetime(2030, 1, 3, 19, 0)


def test_preview_shows_next_occurrences_and_saves_nothing(organizer, group, db):
    data = form_data(save=None, preview="Preview", interval="2")
    response = organizer.post(new_url(group), data=data)
    assert response.status_code == 200
    page = text_of(response)
    assert "Every 2 weeks on Thursday at 19:00 for 2 hours, Europe/Berlin" in page
    # The first three show and the other five fold away, in one numbered sequence.
    items = re.findall(r"<li>(.*?)</li>", "".join(page.split('class="preview-list"')[1:]), re.S)
    assert len(items) == 8
    assert "Thu 3 Jan 2030, 19:00" in items[0]
    assert "Thu 17 Jan 2030, 19:00" in items[1]
    # Across the spring DST change the wall-clock time stays 19:00 in Berlin.
    assert all("19:00" in item for item in items)
    assert routine_count(db) == 0


def test_preview_works_with_csrf_and_without_javascript(app, people, group, db):
    app.config["WTF_CSRF_ENABLED"] = True
    from planner.testing import Auth

    client = app.test_client()
    page = text_of(client.get("/login"))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"email": people["organizer"].email, "password": "password", "csrf_token": token},
    )
    assert response.status_code in (302, 303)
    page = text_of(client.get(new_url(group)))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    without = client.post(new_url(group), data=form_data())
    assert without.status_code == 400
    assert routine_count(db) == 0
    preview = client.post(
        new_url(group), data=form_data(csrf_token=token, save=None, preview="Preview")
    )
    assert preview.status_code == 200 and "Every Thursday" in text_of(preview)
    saved = client.post(new_url(group), data=form_data(csrf_token=token))
    assert saved.status_code == 302
    assert routine_count(db) == 1
    assert Auth  # the fixture helper is importable for plugin authors too


BAD_INPUT = [
    ({"repeat": "advanced", "rrule": "FREQ=WEEKLY;BYDAY=XX"}, "is not a weekday"),
    ({"repeat": "advanced", "rrule": "FREQ=SOMETIMES"}, "is not a frequency"),
    ({"repeat": "advanced", "rrule": "this is not a rule"}, "rule"),
    ({"repeat": "advanced", "rrule": "FREQ=WEEKLY;INTERVAL=0"}, "INTERVAL=0"),
    ({"repeat": "advanced", "rrule": "FREQ=DAILY;UNTIL=20200101"}, "before the start"),
    ({"repeat": "advanced", "rrule": "FREQ=HOURLY"}, "too frequent"),
    ({"repeat": "advanced", "rrule": "FREQ=MINUTELY;INTERVAL=15"}, "too frequent"),
    (
        {"repeat": "advanced", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
        "produces no date",
    ),
    (
        {"repeat": "advanced", "rrule": "FREQ=DAILY;BYHOUR=1,3,5,7,9,19;BYMINUTE=0"},
        "more than 1,000",
    ),
    ({"repeat": "advanced", "rrule": ""}, "Type a repeat rule"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"duration": "0"}, "longer than zero"),
    ({"duration": "-30"}, "longer than zero"),
    ({"duration": str(7 * 24 * 60 + 1)}, "at most 7 days"),
    ({"duration": "two hours"}, "Not a valid integer"),
    ({"weekdays": []}, "Choose at least one day"),
    ({"ends": "until", "until": "2029-12-01"}, "before the first date"),
    ({"ends": "until", "until": ""}, "Choose the last date"),
    ({"ends": "count", "count": ""}, "after how many times"),
    ({"ends": "count", "count": "0"}, "Choose 1 to 1000"),
    ({"interval": "0"}, "from 1 to 99"),
    ({"title": ""}, "Give the routine a title"),
    ({"title": "x" * 201}, "at most 200"),
    ({"start_date": "2030-02-30"}, "Not a valid date"),
    ({"start_time": "25:00"}, "Not a valid time"),
    ({"capacity": "0"}, "Choose 1 to 10000 places"),
    ({"max_guests": "50"}, "0 to 20 guests"),
    ({"activity": "no-such-kind", "shown_activity": "no-such-kind"}, "Choose a kind"),
    ({"repeat": "fortnightly"}, "Not a valid choice"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_bad_input_is_a_message_on_the_form_and_nothing_is_saved(
    organizer, group, db, recorder, changes, message
):
    response = organizer.post(new_url(group), data=form_data(**changes))
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert 'class="error' in page
    assert routine_count(db) == 0
    assert not recorder.calls
    db.expire_all()
    assert db.get(Group, group.id).version == 1


def test_details_form_of_the_activity_type(organizer, group, db):
    # Switching the kind re-renders with that kind's fields, without saving.
    switched = organizer.post(new_url(group), data=form_data(activity="sports"))
    assert switched.status_code == 200
    page = text_of(switched)
    assert 'name="details-sport"' in page and "These are the fields for Sports" in page
    assert 'name="shown_activity" value="sports"' in page
    assert routine_count(db) == 0
    # The sports form requires the sport: refused on the server.
    refused = organizer.post(
        new_url(group), data=form_data(activity="sports", shown_activity="sports")
    )
    assert refused.status_code == 422
    assert routine_count(db) == 0
    saved = organizer.post(
        new_url(group),
        data=form_data(
            activity="sports",
            shown_activity="sports",
            **{"details-sport": "Football", "details-level": "all", "details-min_players": "6"},
        ),
    )
    assert saved.status_code == 302, text_of(saved)[:3000]
    routine = db.scalars(select(Routine)).one()
    assert routine.activity_key == "sports"
    assert routine.details["sport"] == "Football"
    assert routine.details["min_players"] == 6
    labels = db.scalars(select(Slot.label).where(Slot.routine_id == routine.id)).all()
    assert labels == ["Brings the ball", "Brings bibs"]
    page = text_of(organizer.get(saved.headers["Location"]))
    assert "Football" in page


@pytest.mark.parametrize(
    ("language", "browser", "labels"),
    [
        ("de", "fr", ["Hauptgericht", "Salat", "Nachtisch", "Getränke"]),
        ("es", "de", ["Plato principal", "Ensalada", "Postre", "Bebidas"]),
        (None, "fr", ["Plat principal", "Salade", "Dessert", "Boissons"]),
        (None, None, ["Main", "Salad", "Dessert", "Drinks"]),
    ],
)
def test_first_slots_are_named_in_the_groups_language(
    organizer, group, db, language, browser, labels
):
    # A slot is the group's own row, read by every member: the group's language names it,
    # else the organizer's (here their browser's); it stays as written after that.
    group.language = language
    db.commit()
    headers = {"Accept-Language": browser} if browser else {}
    saved = organizer.post(
        new_url(group),
        data=form_data(activity="meals", shown_activity="meals", **{"details-style": "potluck"}),
        headers=headers,
    )
    assert saved.status_code == 302, text_of(saved)[:3000]
    routine = db.scalars(select(Routine)).one()
    rows = select(Slot.label).where(Slot.routine_id == routine.id).order_by(Slot.position)
    assert db.scalars(rows).all() == labels


def test_details_rejected_by_the_activity_form(organizer, group, db):
    response = organizer.post(
        new_url(group),
        data=form_data(
            activity="arts",
            shown_activity="arts",
            **{"details-kind": "museum", "details-booking_url": "javascript:alert(1)"},
        ),
    )
    assert response.status_code == 422
    assert "http:// or https://" in text_of(response)
    assert routine_count(db) == 0


# --------------------------------------------------------------------------- editing


@pytest.fixture
def routine(db, group, people):
    return make_routine(
        db,
        group,
        start=datetime(2030, 1, 3, 19, 0),
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        location="Mia's kitchen",
        created_by_id=people["organizer"].id,
    )


def test_edit_form_reads_back_the_stored_schedule(organizer, group, routine):
    page = text_of(organizer.get(f"/g/{group.slug}/r/{routine.id}/edit"))
    assert re.search(r'value="weekly"[^>]*checked|checked[^>]*value="weekly"', page)
    assert re.search(r'name="interval"[^>]*value="2"', page)
    assert re.search(r'checked[^>]*value="TH"|value="TH"[^>]*checked', page)
    assert "Every 2 weeks on Thursday at 19:00" in page


def test_edit_bumps_sequence_and_group_version(organizer, group, routine, db, recorder):
    response = organizer.post(
        f"/g/{group.slug}/r/{routine.id}/edit",
        data=form_data(title="Supper", start_time="19:30", interval="2"),
    )
    assert response.status_code == 302, text_of(response)[:2000]
    db.expire_all()
    routine = db.get(Routine, routine.id)
    assert routine.title == "Supper"
    assert routine.start == datetime(2030, 1, 3, 19, 30)
    assert routine.sequence == 1
    assert db.get(Group, group.id).version == 2
    assert ("routine_saved", {"id": routine.id, "created": False}) in recorder.calls


def test_edit_with_bad_rule_changes_nothing(organizer, group, routine, db):
    response = organizer.post(
        f"/g/{group.slug}/r/{routine.id}/edit",
        data=form_data(title="Changed", repeat="advanced", rrule="FREQ=WEEKLY;INTERVAL=0"),
    )
    assert response.status_code == 422
    db.expire_all()
    stored = db.get(Routine, routine.id)
    assert stored.title == "Thursday supper" and stored.sequence == 0


def test_advanced_rule_round_trips(organizer, group, routine, db):
    routine.rrule = "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1"
    routine.start = datetime(2030, 1, 31, 19, 0)
    db.commit()
    page = text_of(organizer.get(f"/g/{group.slug}/r/{routine.id}/edit"))
    assert re.search(r'value="advanced"[^>]*checked|checked[^>]*value="advanced"', page)
    assert "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=-1" in page


def test_routine_whose_plugin_is_gone(app, organizer, group, routine, db):
    routine.activity_key = "pottery"
    routine.details = {"clay": "red"}
    db.commit()
    page = text_of(organizer.get(f"/g/{group.slug}/r/{routine.id}"))
    assert "not installed or is disabled" in page
    edit = organizer.get(f"/g/{group.slug}/r/{routine.id}/edit")
    assert edit.status_code == 200 and "Unavailable (pottery)" in text_of(edit)
    saved = organizer.post(
        f"/g/{group.slug}/r/{routine.id}/edit",
        data=form_data(activity="pottery", shown_activity="pottery", title="Pottery night"),
    )
    assert saved.status_code == 302, text_of(saved)[:2000]
    db.expire_all()
    stored = db.get(Routine, routine.id)
    assert stored.activity_key == "pottery" and stored.details == {"clay": "red"}
    assert stored.title == "Pottery night"


def test_end_the_series(organizer, group, routine, db):
    response = organizer.post(
        f"/g/{group.slug}/r/{routine.id}/end", data={"last_date": "2030-02-01", "confirm": "yes"}
    )
    assert response.status_code == 302
    db.expire_all()
    stored = db.get(Routine, routine.id)
    assert "UNTIL=" in stored.rrule and stored.sequence == 1
    page = text_of(organizer.get(f"/g/{group.slug}/r/{routine.id}", follow_redirects=True))
    assert "until 1 February 2030" in page
    too_early = organizer.post(
        f"/g/{group.slug}/r/{routine.id}/end",
        data={"last_date": "2029-01-01", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "delete it instead" in text_of(too_early)
    db.expire_all()
    assert db.get(Routine, routine.id).rrule == stored.rrule


def test_delete_routine(organizer, group, routine, db):
    confirm = organizer.get(f"/g/{group.slug}/r/{routine.id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in text_of(confirm)
    response = organizer.post(f"/g/{group.slug}/r/{routine.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/g/{group.slug}")
    assert routine_count(db) == 0
    db.expire_all()
    assert db.get(Group, group.id).version == 2


# --------------------------------------------------------------------------- who may


def test_members_and_outsiders_cannot_organize(as_user, people, group, routine, db):
    member = as_user(people["member"])
    outsider = as_user(people["outsider"])
    assert member.get(new_url(group)).status_code == 403
    assert member.post(new_url(group), data=form_data()).status_code == 403
    assert member.post(f"/g/{group.slug}/r/{routine.id}/delete").status_code == 403
    assert outsider.get(new_url(group)).status_code == 404
    assert outsider.get(f"/g/{group.slug}/r/{routine.id}").status_code == 404
    assert member.get(f"/g/{group.slug}/r/{routine.id}").status_code == 200
    assert routine_count(db) == 1


def test_routine_of_another_group_is_404(organizer, make_group, people, group, routine):
    other = make_group(people["organizer"], name="Other club")
    assert organizer.get(f"/g/{other.slug}/r/{routine.id}").status_code == 404
    assert organizer.get(f"/g/{other.slug}/r/{routine.id}/edit").status_code == 404


def test_group_page_offers_new_routine_to_organizers_only(as_user, people, group):
    organizer_page = text_of(as_user(people["organizer"]).get(f"/g/{group.slug}"))
    member_page = text_of(as_user(people["member"]).get(f"/g/{group.slug}"))
    assert new_url(group) in organizer_page
    assert new_url(group) not in member_page
