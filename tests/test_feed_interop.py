"""The core property: independent parsers read the SERVED feed exactly as the app means it.

* ``recurring-ical-events`` expands the group feed (fetched through the test client) to the same
  occurrences ``planner.scheduling.recurrence.expand`` gives: instants, titles, statuses
  (hypothesis).
* icalendar, the strict ``ical`` package and vobject parse every kind of feed; text full of
  non-ASCII, commas, semicolons and newlines round-trips through all three.
* ical.js 2.x (Thunderbird, Nextcloud, FullCalendar) expands a Berlin weekly routine across
  years of DST changes to the app's own local times (the RDATE-VTIMEZONE trap).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from planner.models import Regular, Routine, Rsvp
from planner.routines.occurrences import series_of
from planner.scheduling import recurrence
from planner.testing import skip_or_fail
from tests.feed_world import add_override, add_routine, next_local

ROOT = Path(__file__).resolve().parent.parent
ICAL_JS = ROOT / ".cache" / "node" / "node_modules" / "ical.js" / "dist" / "ical.js"

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
RULES = [
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=MONTHLY;BYDAY=1SA",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=WEEKLY;COUNT=12",
    "UNTIL",  # weekly until a date, written in UTC
    "",  # a one-off
]


@st.composite
def routines(draw):
    zone = draw(st.sampled_from(ZONES))
    days = draw(st.integers(min_value=-120, max_value=60))
    # 02:30 falls into a spring gap in Berlin and New York on some Sundays.
    hour, minute = draw(st.sampled_from([(2, 30), (9, 0), (19, 0), (23, 45), (0, 15)]))
    start = next_local(zone, days=days).replace(hour=hour, minute=minute)
    rule = draw(st.sampled_from(RULES))
    if rule == "UNTIL":
        until = recurrence.localize(start + timedelta(days=draw(st.integers(20, 200))), zone)
        rule = f"FREQ=WEEKLY;UNTIL={recurrence.format_until(until)}"
    duration = draw(st.sampled_from([30, 90, 180, 24 * 60]))
    picks = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=30),
                st.sampled_from(["cancelled", "changed"]),
                st.integers(min_value=-26 * 60, max_value=26 * 60),  # minutes moved
                st.sampled_from([None, "Moved, again; ✓", "Ünterwegs\nnew line"]),
            ),
            max_size=6,
        )
    )
    return zone, start, rule, duration, picks


def _wall_clock_end(o: recurrence.Occurrence, zone: str) -> datetime:
    """The end a reader gets by adding the duration to the local start on the wall clock."""
    if o.status == "scheduled":
        local = o.original_start
    else:
        local = recurrence.to_local_naive(o.start, zone)
    exact = o.end.astimezone(UTC) - o.start.astimezone(UTC)  # same-zone subtraction is wall time
    return recurrence.localize(local + exact, zone)


def app_occurrences(routine: Routine, start: datetime, end: datetime) -> list[tuple]:
    """``(start, end, title, status)`` in UTC. ``end`` is None where the occurrence's exact end
    (RFC 5545 3.8.5.3: a recurrence instance keeps the master's exact duration) differs from
    its wall-clock end: recurring-ical-events adds durations on the wall clock, so across a DST
    change or from inside a spring gap only the start can be compared with it."""
    found = recurrence.expand(series_of(routine), start, end)
    rows = []
    for o in found:
        if o.is_cancelled:
            continue
        exact = o.end.astimezone(UTC)
        same = _wall_clock_end(o, routine.timezone).astimezone(UTC) == exact
        rows.append((o.start.astimezone(UTC), exact if same else None,
                     o.title or routine.title, "CONFIRMED"))
    return sorted(rows, key=lambda r: (r[0], r[2]))


def feed_occurrences(body: bytes, start: datetime, end: datetime, like: list[tuple]) -> list:
    calendar = Calendar.from_ical(body)
    found = recurring_ical_events.of(calendar).between(start, end)
    no_end = {row[0] for row in like if row[1] is None}
    rows = []
    for e in found:
        begins = e.decoded("DTSTART").astimezone(UTC)
        ends = None if begins in no_end else e.decoded("DTEND").astimezone(UTC)
        rows.append((begins, ends, str(e["SUMMARY"]), str(e.get("STATUS", "CONFIRMED"))))
    return sorted(rows, key=lambda r: (r[0], r[2]))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=routines())
def test_served_feed_expands_to_the_apps_occurrences(client, db, make_user, make_group, spec):
    zone, start, rule, duration, picks = spec
    group = make_group(make_user(), name="Interop", timezone=zone)
    routine = add_routine(
        db, group, title="Supper, games; talk", timezone=zone, start=start, rrule=rule,
        duration_minutes=duration,
    )
    window_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window_start -= timedelta(days=60)
    window_end = window_start + timedelta(days=300)
    candidates = recurrence.expand(series_of(routine), window_start, window_end)
    used: set[datetime] = set()
    for index, status, minutes, title in picks:
        if index >= len(candidates) or candidates[index].original_start in used:
            continue
        original = candidates[index].original_start
        used.add(original)
        fields = {}
        if status == "changed":
            fields = {"start": original + timedelta(minutes=minutes), "title": title}
        add_override(db, routine, original, status, **fields)
    db.expire_all()
    routine = db.get(Routine, routine.id)

    response = client.get(f"/feeds/g/{group.slug}.ics")
    assert response.status_code == 200
    expected = app_occurrences(routine, window_start, window_end)
    assert feed_occurrences(response.data, window_start, window_end, expected) == expected


def test_a_dst_gap_and_overlap_routine(client, db, make_user, make_group):
    """Explicit cases the property may not draw every run: 02:30 on the spring-forward Sunday
    and on the fall-back Sunday in Berlin, weekly on Sundays for two years."""
    group = make_group(make_user(), name="DST", timezone="Europe/Berlin")
    year = datetime.now(UTC).year
    start = datetime(year, 3, 1, 2, 30)
    start += timedelta(days=(6 - start.weekday()) % 7)  # first Sunday of March
    routine = add_routine(db, group, start=start, rrule="FREQ=WEEKLY;BYDAY=SU",
                          duration_minutes=60)
    window_start = datetime(year, 1, 1, tzinfo=UTC)
    window_end = datetime(year + 2, 1, 1, tzinfo=UTC)
    body = client.get(f"/feeds/g/{group.slug}.ics").data
    since = max(window_start, datetime.now(UTC) - timedelta(days=59))
    expected = app_occurrences(routine, since, window_end)
    assert feed_occurrences(body, since, window_end, expected) == expected


# -- three parsers ----------------------------------------------------------------------------

NASTY_TITLE = "Zürich, Köln; Ålesund — «dîner» 🍲\\ backslash"
NASTY_TEXT = "Line one; with semicolon,\nline two, ünïcödé\n\n日本語のテキスト " * 4


@pytest.fixture
def world(db, make_user, make_group):
    member = make_user("Mia")
    public = make_group(make_user("Olga"), name="Öffentlich; public, group", members=[member])
    private = make_group(make_user("Pia"), name="Privat", visibility="private", members=[member])
    routine = add_routine(db, public, title=NASTY_TITLE, description=NASTY_TEXT,
                          location="Café «Ost», Straße 1; Hof")
    add_override(db, routine, routine.start + timedelta(weeks=1), "cancelled")
    add_override(db, routine, routine.start + timedelta(weeks=2), "changed",
                 title=NASTY_TITLE + " (moved)", note=NASTY_TEXT,
                 start=routine.start + timedelta(weeks=2, hours=1))
    other = add_routine(db, private, title="Private " + NASTY_TITLE, timezone="Asia/Kolkata",
                        start=next_local("Asia/Kolkata", days=3))
    db.add(Regular(routine_id=other.id, user_id=member.id, joined_at=datetime(2000, 1, 1)))
    db.add(Rsvp(routine_id=routine.id, original_start=routine.start, user_id=member.id,
                status="maybe"))
    db.commit()
    key = routine.start.strftime("%Y%m%dT%H%M")
    return {
        "group": f"/feeds/g/{public.slug}.ics",
        "private": f"/feeds/t/{member.feed_token}/g/{private.slug}.ics",
        "personal": f"/feeds/t/{member.feed_token}/me.ics",
        "routine": f"/feeds/g/{public.slug}/r/{routine.id}.ics",
        "occurrence": f"/feeds/g/{public.slug}/r/{routine.id}/{key}.ics",
    }


@pytest.mark.parametrize("kind", ["group", "private", "personal", "routine", "occurrence"])
def test_every_feed_parses_with_three_parsers(client, world, kind):
    body = client.get(world[kind]).data
    text = body.decode("utf-8")

    icalendar_events = Calendar.from_ical(body).walk("VEVENT")
    strict = IcsCalendarStream.calendar_from_ics(text)  # raises on anything non-conforming
    parsed = vobject.readOne(text)
    vobject_events = parsed.contents.get("vevent", [])

    assert icalendar_events, "the feed has events"
    assert len(strict.events) == len(icalendar_events) == len(vobject_events)
    titles = sorted(str(e["SUMMARY"]) for e in icalendar_events)
    assert sorted(e.summary for e in strict.events) == titles
    assert sorted(e.summary.value for e in vobject_events) == titles
    assert any(NASTY_TITLE in t for t in titles)
    for event in icalendar_events:
        if str(event["SUMMARY"]).endswith("(moved)"):
            assert NASTY_TEXT.strip() in str(event["DESCRIPTION"])
    for ev in strict.events:
        if ev.summary == NASTY_TITLE and ev.location:
            assert ev.location == "Café «Ost», Straße 1; Hof"
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")


def test_jcal_matches_ics(client, world):
    ics = Calendar.from_ical(client.get(world["group"]).data)
    jcal = Calendar.from_jcal(json.loads(client.get(world["group"][:-4] + ".json").data))
    assert [str(e["SUMMARY"]) for e in jcal.walk("VEVENT")] == [
        str(e["SUMMARY"]) for e in ics.walk("VEVENT")
    ]
    assert [e.decoded("DTSTART") for e in jcal.walk("VEVENT")] == [
        e.decoded("DTSTART") for e in ics.walk("VEVENT")
    ]


# -- ical.js ----------------------------------------------------------------------------------

EXPAND_JS = """
import fs from "node:fs";
import ICAL from "%s";
const text = fs.readFileSync(0, "utf8");
const vcal = new ICAL.Component(ICAL.parse(text));
for (const tz of vcal.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(tz));
}
const out = [];
for (const ve of vcal.getAllSubcomponents("vevent")) {
  if (ve.hasProperty("recurrence-id")) continue;
  const event = new ICAL.Event(ve);
  const it = event.iterator();
  for (let next = it.next(); next && out.length < %d; next = it.next()) {
    out.push({local: next.toString(), utc: next.toUnixTime()});
  }
}
process.stdout.write(JSON.stringify(out));
"""


def test_icaljs_reads_our_vtimezones_right_across_dst_changes(client, db, make_user,
                                                               make_group, tmp_path):
    node = shutil.which("node")
    if node is None or not ICAL_JS.exists():
        skip_or_fail("ical.js tests need node and `npm install --prefix .cache/node ical.js@2` "
                     "(make test does it)")
    group = make_group(make_user(), name="Berlin", timezone="Europe/Berlin")
    start = next_local(days=-40).replace(hour=19)
    routine = add_routine(db, group, start=start, rrule="FREQ=WEEKLY")
    body = client.get(f"/feeds/g/{group.slug}.ics").data
    count = 52 * 4  # four years: eight DST changes
    script = tmp_path / "expand.mjs"
    script.write_text(EXPAND_JS % (ICAL_JS.as_uri(), count))
    result = subprocess.run([node, str(script)], input=body, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    got = json.loads(result.stdout)
    expected = recurrence.expand(
        series_of(routine),
        recurrence.localize(start, "Europe/Berlin"),
        recurrence.localize(start + timedelta(weeks=count) - timedelta(hours=1), "Europe/Berlin"),
    )
    assert len(got) == len(expected) == count
    zone = ZoneInfo("Europe/Berlin")
    for js, occurrence in zip(got, expected, strict=True):
        assert js["utc"] == int(occurrence.start.timestamp()), (js, occurrence.start)
        assert js["local"].startswith(occurrence.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"))
        assert js["local"][11:16] == "19:00"
