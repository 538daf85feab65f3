"""Authorization cases for routines and occurrences (format: :mod:`tests.authz`)."""

from __future__ import annotations

from datetime import datetime

from planner.models import Override
from tests.authz import RouteCase

# A later occurrence of the world's weekly Thursday routine (the first is 20261203T1900).
LATER = "20261210T1900"

ROUTINE_FORM = {
    "activity": "gathering",
    "shown_activity": "gathering",
    "title": "Thursday supper",
    "description": "",
    "location": "The hall",
    "timezone": "Europe/Berlin",
    "start_date": "2026-12-03",
    "start_time": "19:00",
    "duration": "120",
    "capacity": "",
    "max_guests": "0",
    "repeat": "weekly",
    "interval": "1",
    "weekdays": "TH",
    "month_day": "3",
    "month_nth": "1",
    "month_weekday": "TH",
    "ends": "never",
    "until": "",
    "count": "",
    "rrule": "",
    "save": "Save",
}
SPLIT_FORM = {**ROUTINE_FORM, "start_date": "2026-12-10", "start_time": "19:30"}
CHANGE_FORM = {
    "start_date": "2026-12-10",
    "start_time": "20:00",
    "duration": "90",
    "title": "Thursday gathering",
    "location": "The park",
    "note": "Outside this time",
}


def cancelled_later(session, world):
    """Both groups' routines get a cancelled later occurrence, so "restore" has work to do."""
    for routine in world.routines.values():
        session.add(
            Override(
                routine_id=routine.id,
                original_start=datetime(2026, 12, 10, 19, 0),
                status="cancelled",
                note="Holiday",
            )
        )
    session.commit()
    return {}


OCC = "/g/{slug}/r/{routine_id}/{occurrence}"
LATER_OCC = "/g/{slug}/r/{routine_id}/" + LATER

ROUTES: list[RouteCase] = []
for group in ("private", "public"):
    readable = "member" if group == "private" else "public"
    ROUTES += [
        RouteCase("routines.create", "GET", "/g/{slug}/routines/new", "organizer", group),
        RouteCase(
            "routines.create", "POST", "/g/{slug}/routines/new", "organizer", group,
            data=ROUTINE_FORM,
        ),
        RouteCase("routines.show", "GET", "/g/{slug}/r/{routine_id}", readable, group),
        RouteCase("routines.upcoming", "GET", "/g/{slug}/upcoming", readable, group),
        RouteCase("routines.edit", "GET", "/g/{slug}/r/{routine_id}/edit", "organizer", group),
        RouteCase(
            "routines.edit", "POST", "/g/{slug}/r/{routine_id}/edit", "organizer", group,
            data=ROUTINE_FORM,
        ),
        RouteCase(
            "routines.delete", "GET", "/g/{slug}/r/{routine_id}/delete", "organizer", group
        ),
        RouteCase(
            "routines.delete", "POST", "/g/{slug}/r/{routine_id}/delete", "organizer", group
        ),
        RouteCase(
            "routines.end", "POST", "/g/{slug}/r/{routine_id}/end", "organizer", group,
            data={"last_date": "2027-01-31", "confirm": "yes"},
        ),
        RouteCase("events.show", "GET", OCC, readable, group),
        RouteCase(
            "events.cancel", "POST", OCC + "/cancel", "organizer", group,
            data={"reason": "Snow", "confirm": "yes"},
        ),
        RouteCase(
            "events.restore", "POST", LATER_OCC + "/restore", "organizer", group,
            setup=cancelled_later,
        ),
        RouteCase("events.change", "GET", LATER_OCC + "/change", "organizer", group),
        RouteCase(
            "events.change", "POST", LATER_OCC + "/change", "organizer", group,
            data=CHANGE_FORM,
        ),
        RouteCase("events.split", "GET", LATER_OCC + "/split", "organizer", group),
        RouteCase(
            "events.split", "POST", LATER_OCC + "/split", "organizer", group, data=SPLIT_FORM
        ),
    ]  # fmt: skip

# A key the series does not produce is a 404 for everyone who can see the group at all.
ROUTES.append(
    RouteCase(
        "events.show",
        "GET",
        "/g/{slug}/r/{routine_id}/20261204T1900",
        "public",
        "public",
        expect={role: 404 for role in ("anonymous", "outsider", "member", "organizer", "owner")},
        note="unknown-key",
    )
)
