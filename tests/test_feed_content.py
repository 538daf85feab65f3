"""What a feed says: the properties DESIGN.md §5 asks for, the traps it lists, the hook."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from dateutil import tz as dateutil_tz
from icalendar import Calendar

from planner import hookimpl
from planner.feeds.vtimezone import build as build_vtimezone
from planner.feeds.writer import escape_text, fold
from planner.models import bump_group_version
from planner.plugins.activity import ActivityType
from tests.feed_world import add_override, add_routine, calendar_of, events_of, next_local


class Recorder:
    """A test plugin: an activity type with a description, and an ``ical_event`` that records
    what it was handed and sets STATUS the way the sports plugin does."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def register_activity_types(self):
        return [
            ActivityType(
                key="recorded",
                label="Recorded",
                categories=("Recorded", "Test, with comma"),
                state_keys=("bring",),
                describer=lambda details: f"Bring: {details.get('bring') or 'nothing'}",
            )
        ]

    @hookimpl
    def ical_event(self, event, occurrence, routine, attendance):
        if routine.activity_key != "recorded":
            return
        going = attendance.going_count if attendance is not None else None
        self.calls.append((occurrence, routine.id, going))
        event.pop("STATUS", None)
        event.add("STATUS", "TENTATIVE")
        event.add("X-RECORDED", "yes")


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app_config(app_config, recorder):
    return {**app_config, "EXTRA_PLUGINS": [recorder], "FEED_REFRESH_MINUTES": 90}


@pytest.fixture
def group(make_user, make_group):
    return make_group(make_user("Olga"), name="Supper; Club, Berlin")


def lines(body: bytes, only_events: bool = True) -> list[str]:
    """Unfolded content lines (of the VEVENTs unless told otherwise)."""
    text = body.decode("utf-8").replace("\r\n ", "")
    found = [line for line in text.split("\r\n") if line]
    if not only_events:
        return found
    inside, kept = False, []
    for line in found:
        inside = (inside or line == "BEGIN:VEVENT") and line != "END:VEVENT"
        if inside:
            kept.append(line)
    return kept


def feed(client, group) -> bytes:
    response = client.get(f"/feeds/g/{group.slug}.ics")
    assert response.status_code == 200
    return response.data


def test_calendar_properties(client, db, group):
    add_routine(db, group)
    body = feed(client, group)
    cal = calendar_of(client.get(f"/feeds/g/{group.slug}.ics"))
    everything = lines(body, only_events=False)
    # X- properties are TEXT (RFC 5545 3.8.8.2), so escaped; vobject reads them back.
    assert "X-WR-CALNAME:Supper\\; Club\\, Berlin" in everything
    parsed = vobject.readOne(body.decode())
    assert parsed.contents["x-wr-calname"][0].value == "Supper; Club, Berlin"
    assert parsed.contents["name"][0].value == "Supper; Club, Berlin"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H30M" in everything
    assert "X-PUBLISHED-TTL:PT1H30M" in everything
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"])
    assert "X-WR-TIMEZONE" not in cal  # read differently by each client: times carry TZIDs


def test_event_properties(client, db, group, recorder):
    routine = add_routine(
        db,
        group,
        title="Soup night",
        activity_key="recorded",
        details={"bring": "bowls"},
        description="Organizer's words.",
        location="Hall 2",
        sequence=3,
    )
    [master] = events_of(client.get(f"/feeds/g/{group.slug}.ics"))
    assert re.fullmatch(rf"routine-{routine.id}-[0-9a-f]+@planner", str(master["UID"]))
    assert master["SEQUENCE"] == 3
    assert master.decoded("DTSTAMP").tzinfo is not None
    assert master.decoded("LAST-MODIFIED").utcoffset() == timedelta(0)
    description = str(master["DESCRIPTION"])
    assert "Organizer's words." in description
    assert "Bring: bowls" in description  # the activity type's describe()
    url = f"http://planner.test/g/{group.slug}/r/{routine.id}"
    assert url in description and str(master["URL"]) == url
    assert [str(c) for c in master["CATEGORIES"].cats] == ["Recorded", "Test, with comma"]
    assert str(master["LOCATION"]) == "Hall 2"
    assert str(master["STATUS"]) == "TENTATIVE"  # from the plugin
    assert str(master["X-RECORDED"]) == "yes"
    assert recorder.calls == [(None, routine.id, None)]  # master: no occurrence, no attendance


def test_uids_do_not_depend_on_the_host(client, db, group, app):
    add_routine(db, group)
    here = events_of(client.get(f"/feeds/g/{group.slug}.ics"))[0]["UID"]
    app.config["SERVER_NAME"] = "elsewhere.example"
    there = events_of(client.get(f"/feeds/g/{group.slug}.ics"))[0]["UID"]
    assert here == there


def test_configured_uid_domain(client, db, group, app):
    app.config["FEED_UID_DOMAIN"] = "planner.example.org"
    routine = add_routine(db, group)
    [event] = events_of(client.get(f"/feeds/g/{group.slug}.ics"))
    assert re.fullmatch(rf"routine-{routine.id}-[0-9a-f]+@planner\.example\.org", str(event["UID"]))


def test_uids_survive_a_secret_key_rotation(client, db, group, app):
    add_routine(db, group)
    before = events_of(client.get(f"/feeds/g/{group.slug}.ics"))[0]["UID"]
    app.config["SECRET_KEY"] = "rotated-" + app.config["SECRET_KEY"]
    app.extensions.pop("planner_feed_cache", None)
    after = events_of(app.test_client().get(f"/feeds/g/{group.slug}.ics"))[0]["UID"]
    assert before == after


def test_rrule_until_is_utc_and_exdate_matches_dtstart(client, db, group):
    start = next_local(days=2)
    routine = add_routine(
        db, group, start=start, rrule="FREQ=WEEKLY;UNTIL=20991231T225959Z"
    )
    add_override(db, routine, start + timedelta(weeks=1), "cancelled")
    add_override(db, routine, start + timedelta(weeks=3), "cancelled")
    found = lines(feed(client, group))
    [dtstart] = [line for line in found if line.startswith("DTSTART;")]
    [rrule] = [line for line in found if line.startswith("RRULE:")]
    exdates = [line for line in found if line.startswith("EXDATE")]
    assert dtstart == f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}"
    assert "UNTIL=20991231T225959Z" in rrule
    assert exdates == [
        f"EXDATE;TZID=Europe/Berlin:{start + timedelta(weeks=1):%Y%m%dT%H%M%S}",
        f"EXDATE;TZID=Europe/Berlin:{start + timedelta(weeks=3):%Y%m%dT%H%M%S}",
    ]
    # Cancelled occurrences are EXDATEs only: no STATUS:CANCELLED instance that Outlook shows.
    assert "STATUS:CANCELLED" not in found


def test_changed_occurrence_is_a_recurrence_id_event(client, db, group, recorder):
    start = next_local(days=2)
    routine = add_routine(db, group, start=start, activity_key="recorded", sequence=2)
    original = start + timedelta(weeks=2)
    add_override(
        db,
        routine,
        original,
        "changed",
        start=original + timedelta(hours=1, minutes=30),
        title="Moved supper",
        location="Park",
        note="Bring a blanket",
        sequence=4,
    )
    # An override the rule never produces (a stale one) is ignored, as on the pages.
    add_override(db, routine, start + timedelta(days=1), "changed", title="Ghost")
    master, moved = events_of(client.get(f"/feeds/g/{group.slug}.ics"))
    assert moved["UID"] == master["UID"]
    assert moved.decoded("RECURRENCE-ID") == original.replace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert moved.decoded("DTSTART") == (original + timedelta(hours=1, minutes=30)).replace(
        tzinfo=ZoneInfo("Europe/Berlin")
    )
    assert str(moved["SUMMARY"]) == "Moved supper" and str(moved["LOCATION"]) == "Park"
    assert "Bring a blanket" in str(moved["DESCRIPTION"])
    assert str(moved["URL"]).endswith(f"/r/{routine.id}/{original:%Y%m%dT%H%M}")
    assert moved["SEQUENCE"] == 2 + 4  # routine's plus override's: either edit raises it
    occurrence_call = [c for c in recorder.calls if c[0] is not None]
    assert occurrence_call and occurrence_call[0][0].original_start == original
    assert occurrence_call[0][2] == 0  # a real Attendance was readable (nobody going)


def test_sequence_rises_on_every_change(client, db, group):
    routine = add_routine(db, group)
    add_override(db, routine, routine.start + timedelta(weeks=1), "changed", title="Moved")
    before = {str(e.get("RECURRENCE-ID", "master")): e["SEQUENCE"] for e in events_of(
        client.get(f"/feeds/g/{group.slug}.ics"))}
    routine.sequence += 1
    routine.title = "Renamed"
    bump_group_version(db, group.id)
    db.commit()
    after = {str(e.get("RECURRENCE-ID", "master")): e["SEQUENCE"] for e in events_of(
        client.get(f"/feeds/g/{group.slug}.ics"))}
    assert before.keys() == after.keys()
    assert all(after[k] > before[k] for k in before)


def test_one_vtimezone_per_tzid(client, db, group):
    add_routine(db, group, timezone="Europe/Berlin")
    add_routine(db, group, timezone="Europe/Berlin", title="Second")
    add_routine(db, group, timezone="America/New_York", start=next_local("America/New_York"))
    add_routine(db, group, timezone="Australia/Sydney", start=next_local("Australia/Sydney"))
    cal = calendar_of(client.get(f"/feeds/g/{group.slug}.ics"))
    tzids = [str(t["TZID"]) for t in cal.walk("VTIMEZONE")]
    assert sorted(tzids) == ["America/New_York", "Australia/Sydney", "Europe/Berlin"]
    used = {e["DTSTART"].params["TZID"] for e in cal.walk("VEVENT")}
    assert used == set(tzids)
    for component in cal.walk("VTIMEZONE"):
        for observance in component.subcomponents:
            assert "RDATE" not in observance  # multi-valued RDATEs trip ical.js


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Africa/Casablanca",
    "Europe/Moscow",
    "Pacific/Auckland",
    "America/Santiago",
    "UTC",
]


def _readers_blind_spots(zone: str) -> list[tuple[datetime, datetime]]:
    """The repeated wall-clock hour after a backward change between two STANDARD observances
    (Moscow 2014): both readers below cannot tell the two instants apart there, because the
    component type is all they use to resolve an ambiguous wall time."""
    from planner.feeds.vtimezone import transitions

    spots = []
    start, end = datetime(2004, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC)
    for tr in transitions(zone, start, end):
        if tr.offset_to < tr.offset_from and not tr.dst and not tr.offset_from_dst:
            spots.append((tr.at - (tr.offset_from - tr.offset_to), tr.at))
    return spots


@pytest.mark.parametrize("reader", ["dateutil", "icalendar"])
@pytest.mark.parametrize("zone", ZONES)
def test_generated_vtimezones_agree_with_the_tz_database(zone, reader):
    """Read back by VTIMEZONE parsers (dateutil's tzical, icalendar's to_tz), every instant
    from the first year to years ahead has the tz database's offset, including zones whose
    rules changed (Sydney 2008, Moscow 2011/2014) or follow no yearly rule (Casablanca)."""
    component = build_vtimezone(zone, 2005, datetime.now(UTC).year)
    text = "BEGIN:VCALENDAR\r\n" + component.to_ical().decode() + "END:VCALENDAR\r\n"
    assert "RDATE" not in text
    if reader == "dateutil":
        parsed = dateutil_tz.tzical(io.StringIO(text)).get(zone)
    else:
        parsed = Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    reference = ZoneInfo(zone)
    blind = _readers_blind_spots(zone)
    moment = datetime(2005, 1, 1, tzinfo=UTC)
    wrong = []
    while moment.year < datetime.now(UTC).year + 6:
        differs = moment.astimezone(parsed).utcoffset() != moment.astimezone(reference).utcoffset()
        if differs and not any(lo <= moment < hi for lo, hi in blind):
            wrong.append(moment)
        moment += timedelta(hours=7)
    assert not wrong, f"{zone}: {len(wrong)} instants off, first {wrong[:3]}"


def test_vtimezone_is_built_once_per_zone():
    from planner.feeds import vtimezone

    vtimezone._cached.cache_clear()
    first = vtimezone.vtimezone("Europe/Berlin", datetime(2024, 5, 1).date())
    again = vtimezone.vtimezone("Europe/Berlin", datetime(2024, 9, 1).date())
    assert first is again
    assert vtimezone._cached.cache_info().misses == 1


def test_text_round_trips_and_lines_fold_without_splitting_characters(client, db, group):
    title = "Ünïcödé supper; with, commas\\ and 🍲 emoji — " * 3
    description = "Line one;\nline two, with ümlauts\n\n" + "ß🍜" * 60
    add_routine(db, group, title=title, description=description)
    body = feed(client, group)
    for physical in body.split(b"\r\n"):
        assert len(physical) <= 75
        physical.decode("utf-8")  # never a character split across lines
    [event] = calendar_of(client.get(f"/feeds/g/{group.slug}.ics")).walk("VEVENT")
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]).startswith(description.strip())


def test_fold_and_escape_units():
    assert escape_text("a;b,c\\d\ne\r\nf") == "a\\;b\\,c\\\\d\\ne\\nf"
    line = ("X-TEST:" + "é" * 100).encode()
    folded = fold(line)
    parts = folded.rstrip(b"\r\n").split(b"\r\n ")
    assert all(len(p) <= 75 for p in parts[:1]) and all(len(p) <= 74 for p in parts[1:])
    assert b"".join(parts) == line
    assert fold(b"SHORT:x") == b"SHORT:x\r\n"


def test_window_leaves_out_old_overrides_and_ended_series(client, db, group, app):
    app.config["FEED_PAST_DAYS"] = 30
    start = next_local(days=-400)
    routine = add_routine(db, group, start=start, title="Long running")
    old = start + timedelta(weeks=10)
    recent = start + timedelta(weeks=55)  # about 15 days ago
    add_override(db, routine, old, "cancelled")
    add_override(db, routine, old + timedelta(weeks=1), "changed", title="Old change")
    add_override(db, routine, recent, "cancelled")
    add_override(db, routine, recent + timedelta(weeks=1), "changed", title="Recent change")
    add_routine(db, group, title="Ended", start=start, rrule="FREQ=WEEKLY;COUNT=3")
    add_routine(db, group, title="Old one-off", start=start, rrule="")
    found = lines(feed(client, group))
    exdates = [line for line in found if line.startswith("EXDATE")]
    assert exdates == [f"EXDATE;TZID=Europe/Berlin:{recent:%Y%m%dT%H%M%S}"]
    summaries = [line for line in found if line.startswith("SUMMARY")]
    assert "SUMMARY:Recent change" in summaries and "SUMMARY:Old change" not in summaries
    assert "SUMMARY:Ended" not in summaries and "SUMMARY:Old one-off" not in summaries
    # The series itself keeps its real DTSTART, so RRULE counting stays exact.
    assert f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}" in found


def test_one_offs(client, db, group):
    plain = add_routine(db, group, title="Plain one-off", rrule="", start=next_local(days=3))
    moved = add_routine(db, group, title="Moved one-off", rrule="", start=next_local(days=4))
    gone = add_routine(db, group, title="Cancelled one-off", rrule="", start=next_local(days=5))
    add_override(db, moved, moved.start, "changed", start=moved.start + timedelta(hours=2))
    add_override(db, gone, gone.start, "cancelled")
    events = {str(e["SUMMARY"]): e for e in events_of(client.get(f"/feeds/g/{group.slug}.ics"))}
    assert set(events) == {"Plain one-off", "Moved one-off"}
    assert "RRULE" not in events["Plain one-off"]
    assert events["Plain one-off"].decoded("DTSTART").replace(tzinfo=None) == plain.start
    assert events["Moved one-off"].decoded("DTSTART").replace(tzinfo=None) == (
        moved.start + timedelta(hours=2)
    )
    assert "RECURRENCE-ID" not in events["Moved one-off"]


def test_a_broken_plugin_does_not_break_the_feed(client, db, group, app):
    class Broken:
        @hookimpl
        def ical_event(self, event):
            raise RuntimeError("plugin bug")

    app.extensions["planner"].pm.register(Broken(), name="broken-test-plugin")
    add_routine(db, group, title="Still here")
    assert [str(e["SUMMARY"]) for e in events_of(client.get(f"/feeds/g/{group.slug}.ics"))] == [
        "Still here"
    ]
