"""The ActivityType API and the four built-in activity types, without a database.

Pure parts (forms, describe, team split, host rotation, iCal decoration) are tested on real
WTForms, icalendar and Attendance objects; pages that render them are in ``test_hooks.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar, Event
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange
from wtforms.validators import Optional as OptionalField

from planner import hookimpl
from planner.joining.attendance import Attendance, ClaimInfo, Person
from planner.plugins.activity import GENERIC, ActivityType, DetailsForm, SlotDefault
from planner.plugins.manager import load
from planner.scheduling.recurrence import Occurrence
from planner.scheduling.series import occurrence_number
from planner_plugins import arts, meals, sports, walks

# The real manager, so iCal decoration goes through the same per-type dispatch as a feed.
PLUGINS = load({})

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 8, 19, 0)


def routine(key: str, details: dict, rrule: str = "FREQ=WEEKLY;BYDAY=TH", start=START):
    """The attributes hooks read from a routine (a stand-in: no database needed here)."""
    return SimpleNamespace(
        id=1, activity_key=key, details=details, rrule=rrule, start=start, group_id=1
    )


def occurrence(original: datetime, status: str = "scheduled") -> Occurrence:
    start = original.replace(tzinfo=BERLIN)
    return Occurrence(original, start, start + timedelta(hours=2), status)


def people(*names: str, guests: dict[str, int] | None = None) -> tuple[Person, ...]:
    guests = guests or {}
    return tuple(Person(i + 1, n, guests.get(n, 0)) for i, n in enumerate(names))


def attendance(going=(), slots=()) -> Attendance:
    return Attendance(1, START, None, going=tuple(going), slots=tuple(slots))


def parsed(event: Event) -> vobject.base.Component:
    """Serialize inside a VCALENDAR and read back with vobject, an independent parser."""
    cal = Calendar()
    cal.add("PRODID", "-//planner tests//EN")
    cal.add("VERSION", "2.0")
    event.add("UID", "test@planner")
    event.add("DTSTAMP", datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    event.add("DTSTART", START.replace(tzinfo=ZoneInfo("UTC")))
    cal.add_component(event)
    return vobject.readOne(cal.to_ical().decode()).vevent


# -- the API ------------------------------------------------------------------------------------


class NumbersForm(DetailsForm):
    name = StringField("Name", validators=[Length(max=5)])
    count = IntegerField("Count", validators=[OptionalField(), NumberRange(min=1, max=9)])


NUMBERS = ActivityType(key="numbers", label="Numbers", form=NumbersForm, plugin="numbers-plugin")


def test_check_accepts_details_the_form_accepts():
    check = NUMBERS.check({"name": "ab", "count": 3})
    assert check.ok and check.message is None
    assert check.data == {"name": "ab", "count": 3}


def test_check_names_the_plugin_and_field_when_stored_details_no_longer_fit():
    stored = {"name": "far too long", "count": 42, "old_field": "kept"}
    check = NUMBERS.check(stored)
    assert set(check.errors) == {"name", "count"}
    assert "'numbers-plugin'" in check.message
    assert "Name:" in check.message and "Count:" in check.message
    assert stored == {"name": "far too long", "count": 42, "old_field": "kept"}  # not rewritten


def test_clean_drops_unknown_keys_and_coerces_wrong_types():
    data = NUMBERS.clean({"count": "not a number", "old_field": 1})
    assert data == {"name": None, "count": None}


@pytest.mark.parametrize("stored", [None, [], "text", 7, {"count": {"nested": 1}}])
def test_check_never_raises_on_malformed_json(stored):
    check = NUMBERS.check(stored)
    assert set(check.data) >= {"name", "count"}
    if stored is not None:
        assert not check.ok


def test_merge_keeps_keys_the_form_does_not_know():
    previous = {"name": "old", "old_field": "kept", "hosts": [1]}
    assert NUMBERS.merge(previous, {"name": "new", "count": None}) == {
        "name": "new",
        "count": None,
        "old_field": "kept",
        "hosts": [1],
    }
    assert NUMBERS.merge(None, {"name": "x"}) == {"name": "x"}


def test_a_form_that_crashes_on_stored_data_gives_an_error_naming_the_plugin():
    class Crashing(DetailsForm):
        def __init__(self, *args, **kwargs):
            raise RuntimeError("boom")

    broken = ActivityType(key="broken", label="Broken", form=Crashing, plugin="broken-plugin")
    check = broken.check({"a": 1})
    assert not check.ok and "'broken-plugin'" in check.message and "boom" in check.message
    assert broken.safe_describe({"a": 1}) == ""


def test_safe_describe_survives_a_failing_describe():
    class Failing(ActivityType):
        def describe(self, details):
            raise KeyError("gone")

    assert Failing(key="f", label="F").safe_describe({}) == ""


def test_describer_function_and_generic_stand_in():
    simple = ActivityType(key="s", label="S", describer=lambda d: "described")
    assert simple.describe({}) == "described"
    assert GENERIC.is_generic and not simple.is_generic
    assert SlotDefault("Host").capacity == 1


# -- meals ----------------------------------------------------------------------------------------


HOSTS = [{"user_id": 1, "name": "Ana"}, {"user_id": 2, "name": "Ben"}, {"user_id": 3, "name": "Cy"}]


def test_meals_form_and_default_dish_slots():
    form = meals.MealsForm(MultiDict({"theme": "Lebanese", "style": "hosted", "dietary": "nuts"}))
    assert form.validate(), form.errors
    assert [s.label for s in meals.MEALS.default_slots] == ["Main", "Salad", "Dessert", "Drinks"]
    bad = meals.MealsForm(MultiDict({"style": "buffet"}))
    assert not bad.validate() and "style" in bad.errors


def test_meals_describe_mentions_theme_style_and_diet():
    text = meals.MEALS.describe({"theme": "Soups", "style": "potluck", "dietary": "vegan"})
    assert "Theme: Soups." in text and "Potluck" in text and "vegan" in text


def test_meals_next_host_rotates_with_the_schedule():
    details = {"hosts": HOSTS, "rotate_hosts": True}
    r = routine("meals", details, rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")
    turns = []
    for n in range(4):
        original = START + timedelta(weeks=2 * n)
        turns.append(meals.next_host(details, occurrence_number(r, original))["name"])
    assert turns == ["Ana", "Ben", "Cy", "Ana"]


def test_meals_host_slot_claim_wins_over_the_rotation():
    claimed = ClaimInfo(9, "Host", 1, takers=(Person(7, "Dee"),))
    host = meals.next_host({"hosts": HOSTS}, 0, attendance(slots=[claimed]))
    assert host == {"user_id": 7, "name": "Dee", "claimed": True}


def test_the_host_a_type_names_and_a_failing_or_junk_host_method():
    """``ActivityType.host`` through the manager: meals name the rotation's turn; the base type
    names nobody; a host method that raises or returns junk costs only its answer."""
    r = routine("meals", {"hosts": HOSTS, "rotate_hosts": True})
    assert PLUGINS.host_of(occurrence(START), r, None) == (HOSTS[0]["user_id"], "Ana")
    assert PLUGINS.host_of(occurrence(START), routine("walks", {}), None) is None

    class Raising(ActivityType):
        def host(self, ctx):
            raise RuntimeError("boom")

    class Junk(ActivityType):
        def host(self, ctx):
            return ("not an id", "")

    broken = load({"EXTRA_PLUGINS": [_Registers(Raising(key="rai", label="R")),
                                     _Registers(Junk(key="jnk", label="J"))]})
    assert broken.host_of(occurrence(START), routine("rai", {}), None) is None
    assert broken.host_of(occurrence(START), routine("jnk", {}), None) is None


def test_meals_rotation_ignores_malformed_entries_and_can_be_off():
    details = {"hosts": [{"user_id": "x"}, "junk", {"user_id": 4, "name": "Eve"}]}
    assert meals.next_host(details, 5)["name"] == "Eve"
    assert meals.next_host({"hosts": HOSTS, "rotate_hosts": False}, 0) is None
    assert meals.next_host({"hosts": "not a list"}, 0) is None


def test_occurrence_number_counts_rule_starts_and_ignores_utc_until():
    r = routine("meals", {}, rrule="FREQ=WEEKLY;BYDAY=TH;UNTIL=20261231T225959Z")
    assert occurrence_number(r, START) == 0
    assert occurrence_number(r, START + timedelta(weeks=10)) == 10
    assert occurrence_number(routine("meals", {}, rrule=""), START) == 0
    monthly = routine("meals", {}, rrule="FREQ=MONTHLY;BYDAY=1SA", start=datetime(2026, 1, 3, 10))
    assert occurrence_number(monthly, datetime(2026, 4, 4, 10)) == 3


# -- sports ---------------------------------------------------------------------------------------


def test_sports_status_counts_guests_against_the_minimum():
    details = {"min_players": 4}
    assert sports.game_status(details, attendance(people("A", "B", "C"))) == "not on yet"
    with_guest = attendance(people("A", "B", "C", guests={"A": 1}))
    assert sports.game_status(details, with_guest) == "on"
    assert sports.game_status({"min_players": None}, attendance()) == "on"


@pytest.mark.parametrize("count, teams", [(0, 2), (1, 2), (5, 2), (7, 3), (10, 4)])
def test_sports_teams_are_balanced_and_everyone_plays(count, teams):
    going = people(*[f"P{i}" for i in range(count)])
    split = sports.split_teams(attendance(going), teams)
    sizes = [len(t) for t in split]
    assert len(split) == teams and sum(sizes) == count
    assert max(sizes) - min(sizes) <= 1
    assert sorted(n for t in split for n in t) == sorted(p.display_name for p in going)


def test_sports_guests_play_with_their_member():
    going = people("Ana", "Ben", "Cy", "Dee", guests={"Ana": 2})
    split = sports.split_teams(attendance(going), 2)
    ana_team = next(t for t in split if "Ana" in t)
    assert "Ana's guest 1" in ana_team and "Ana's guest 2" in ana_team
    assert sorted(len(t) for t in split) == [3, 3]


def test_sports_ical_status_tentative_then_confirmed():
    r = routine("sports", {"sport": "Football", "min_players": 3})
    few, enough = attendance(people("A", "B")), attendance(people("A", "B", "C"))
    for occ, att, expected in [
        (occurrence(START), few, "TENTATIVE"),
        (occurrence(START), enough, "CONFIRMED"),
        (None, None, "TENTATIVE"),  # the master VEVENT: no answers yet
    ]:
        event = Event()
        event.add("STATUS", "CONFIRMED")
        PLUGINS.decorate_event(event=event, occurrence=occ, routine=r, attendance=att)
        assert parsed(event).status.value == expected


def test_sports_ical_leaves_cancelled_and_minimum_free_events_alone():
    event = Event()
    event.add("STATUS", "CANCELLED")
    r = routine("sports", {"sport": "Tennis", "min_players": 4})
    PLUGINS.decorate_event(
        event=event, occurrence=occurrence(START), routine=r, attendance=attendance()
    )
    assert str(event["STATUS"]) == "CANCELLED"
    plain = Event()
    PLUGINS.decorate_event(
        event=plain, occurrence=None, routine=routine("sports", {"sport": "Run"}), attendance=None
    )
    assert "STATUS" not in plain


def test_sports_form_requires_a_sport_and_sane_minimum():
    form = sports.SportsForm(MultiDict({"sport": "", "min_players": "1", "level": "all"}))
    assert not form.validate()
    assert set(form.errors) == {"sport", "min_players"}


# -- arts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link, ok",
    [
        ("https://tickets.example.org/show?id=3", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("ftp://example.org/x", False),
        ("https://", False),
        ("https://exa mple.org", False),
        ("//example.org/x", False),
    ],
)
def test_arts_booking_link_must_be_http_or_https(link, ok):
    form = arts.ArtsForm(MultiDict({"kind": "concert", "booking_url": link}))
    assert form.validate() is ok
    if not ok:
        assert "http://" in " ".join(form.errors["booking_url"])


def test_arts_booking_link_becomes_the_ical_url_and_kind_a_category():
    details = {"kind": "theatre", "venue": "Volksbühne", "booking_url": "https://vb.example/t"}
    event = Event()
    event.add("URL", "https://planner.test/g/x")
    r = routine("arts", details)
    PLUGINS.decorate_event(event=event, occurrence=None, routine=r, attendance=None)
    event.add("CATEGORIES", list(PLUGINS.categories_of(r)))
    vevent = parsed(event)
    assert vevent.url.value == "https://vb.example/t"
    assert vevent.categories.value == ["Arts", "Theatre"]


def test_the_old_categories_keyword_still_means_default_categories():
    old_style = ActivityType(key="old", label="Old", categories=["Old"])
    assert old_style.default_categories == ("Old",) and old_style.categories({}) == ("Old",)


def test_static_categories_and_a_failing_categories_method():
    assert PLUGINS.categories_of(routine("walks", {})) == ("Walk",)
    assert PLUGINS.categories_of(routine("gone", {})) == ()

    class Broken(ActivityType):
        def categories(self, details):
            raise RuntimeError("boom")

    broken = load(
        {"EXTRA_PLUGINS": [_Registers(Broken(key="brk", label="B", default_categories=("B",)))]}
    )
    assert broken.categories_of(routine("brk", {})) == ("B",)


def test_arts_never_writes_an_unsafe_stored_link():
    details = {"kind": "museum", "booking_url": "javascript:alert(1)"}
    event = Event()
    r = routine("arts", details)
    PLUGINS.decorate_event(event=event, occurrence=None, routine=r, attendance=None)
    assert "URL" not in event
    assert "javascript" not in arts.ARTS.describe(arts.ARTS.clean(details))
    assert arts.ARTS.safe_link(details) is None


# -- walks ----------------------------------------------------------------------------------------


def test_walks_describe_carries_the_phones_away_agreement():
    details = walks.WALKS.clean({"meeting_point": "Park gate", "distance_km": 7.5})
    text = walks.WALKS.describe(details)
    assert "Park gate" in text and "7.5 km" in text
    assert "Phones away: " + walks.AGREEMENT in text


def test_walks_add_a_reminder_alarm():
    details = {"meeting_point": "Station", "reminder_minutes": 45}
    event = Event()
    r = routine("walks", details)
    PLUGINS.decorate_event(event=event, occurrence=occurrence(START), routine=r, attendance=None)
    alarm = parsed(event).valarm
    assert alarm.action.value == "DISPLAY"
    assert alarm.trigger.value == timedelta(minutes=-45)
    assert "Station" in alarm.description.value


def test_walks_no_alarm_on_a_cancelled_event_or_another_type():
    cancelled = Event()
    cancelled.add("STATUS", "CANCELLED")
    r = routine("walks", {})
    PLUGINS.decorate_event(event=cancelled, occurrence=None, routine=r, attendance=None)
    other = Event()
    PLUGINS.decorate_event(
        event=other, occurrence=None, routine=routine("arts", {}), attendance=None
    )
    assert not cancelled.subcomponents and not other.subcomponents


def test_walks_form_rejects_out_of_range_reminder_and_distance():
    form = walks.WalksForm(
        MultiDict(
            {"meeting_point": "X", "distance_km": "-1", "reminder_minutes": "1", "pace": "brisk"}
        )
    )
    assert not form.validate()
    assert set(form.errors) == {"distance_km", "reminder_minutes"}


class _Registers:
    """A plugin object registering one given activity type."""

    def __init__(self, activity: ActivityType):
        self.__name__ = f"registers-{activity.key}"
        self.activity = activity

    @hookimpl
    def register_activity_types(self):
        return [self.activity]
