"""Authorization cases for belonging (format: :mod:`tests.authz`).

Everything is for members only: outsiders get 404 even in the public group, because who came
with whom is nobody else's business. Confirming who came and planning breaks is the organizers'
(the routine's creator, the organizer, also counts as its host).
"""

from __future__ import annotations

from datetime import timedelta

from tests.authz import OCCURRENCE, OCCURRENCE_START, RouteCase

HIDDEN = {"outsider": 404}
PAST = (OCCURRENCE_START - timedelta(weeks=52 * 3)).strftime("%Y%m%dT%H%M")  # long over


def _past_routine(session, world):
    """The routine, started three years ago, so it has a past date to say presence about."""
    from planner.models import Routine

    for group in ("private", "public"):
        routine = session.get(Routine, world.routines[group].id)
        routine.start = OCCURRENCE_START - timedelta(weeks=52 * 3)
    session.commit()
    return {"past": PAST}


def _good_thing(session, world):
    from planner.models import GoodThing

    found = {}
    for group in ("private", "public"):
        row = GoodThing(routine_id=world.routines[group].id, original_start=OCCURRENCE_START,
                        user_id=world.users["member"].id, body="Lovely evening")
        session.add(row)
        session.flush()
        found[f"{group}_thing"] = row.id
    session.commit()
    return {"thing": found["private_thing"], "public_thing": found["public_thing"]}


def _break(session, world):
    from datetime import date

    from planner.models import PlannedBreak

    ids = {}
    for group in ("private", "public"):
        row = PlannedBreak(routine_id=world.routines[group].id, label="Summer break",
                           first_day=date(2027, 7, 20), last_day=date(2027, 8, 31))
        session.add(row)
        session.flush()
        ids[group] = row.id
    session.commit()
    return {"break_id": ids["private"], "public_break_id": ids["public"]}


def _prompt(session, world):
    from planner.models import CheckinPrompt

    ids = {}
    for group in ("private", "public"):
        row = CheckinPrompt(group_id=world.groups[group].id, absent_id=world.users["target"].id,
                            recipient_id=world.users["member"].id)
        session.add(row)
        session.flush()
        ids[group] = row.id
    session.commit()
    return {"prompt": ids["private"], "public_prompt": ids["public"]}


BREAK = {"label": "Summer break", "first_day": "2027-07-20", "last_day": "2027-08-31"}
ORGANIZER_ONLY = {"outsider": 404, "member": 403}

ROUTES: list[RouteCase] = []
for group in ("private", "public"):
    g = "" if group == "private" else "public_"
    ROUTES += [
        RouteCase("belonging.say_presence", "POST", "/g/{slug}/r/{routine_id}/{past}/presence",
                  access="member", group=group, setup=_past_routine, data={"came": "yes"},
                  expect=HIDDEN),
        RouteCase("belonging.confirm_list", "GET", "/g/{slug}/r/{routine_id}/{past}/who-came",
                  access="organizer", group=group, setup=_past_routine, expect=ORGANIZER_ONLY),
        RouteCase("belonging.confirm_list", "POST", "/g/{slug}/r/{routine_id}/{past}/who-came",
                  access="organizer", group=group, setup=_past_routine, expect=ORGANIZER_ONLY,
                  data={"came": []}),
        RouteCase("belonging.add_good_thing", "POST",
                  "/g/{slug}/r/{routine_id}/" + OCCURRENCE + "/good-things", access="member",
                  group=group, data={"body": "Nice"},
                  # a date that has not happened: members get the reason, not a page
                  expect={"member": 400, "organizer": 400, "owner": 400, **HIDDEN}),
        RouteCase("belonging.change_good_thing", "POST",
                  "/g/{slug}/good-things/{" + g + "thing}/hide", access="organizer",
                  group=group, setup=_good_thing, expect=ORGANIZER_ONLY),
        RouteCase("belonging.person", "GET", "/g/{slug}/people/{target_id}", access="member",
                  group=group, expect=HIDDEN),
        RouteCase("belonging.my_settings", "POST", "/g/{slug}/me/hide", access="member",
                  group=group, data={"hide": "yes"}, expect=HIDDEN),
        RouteCase("belonging.plan_break", "GET", "/g/{slug}/r/{routine_id}/breaks",
                  access="organizer", group=group, expect=ORGANIZER_ONLY),
        RouteCase("belonging.plan_break", "POST", "/g/{slug}/r/{routine_id}/breaks",
                  access="organizer", group=group, data=BREAK, expect=ORGANIZER_ONLY),
        RouteCase("belonging.undo_break", "POST",
                  "/g/{slug}/r/{routine_id}/breaks/{" + g + "break_id}/undo",
                  access="organizer", group=group, setup=_break, expect=ORGANIZER_ONLY),
        RouteCase("belonging.checkin", "GET", "/g/{slug}/check-in/{" + g + "prompt}",
                  access="member", group=group, setup=_prompt,
                  # only the prompt's recipient (the plain member here) may open it
                  expect={"outsider": 404, "organizer": 404, "owner": 404}),
        RouteCase("belonging.checkin", "POST", "/g/{slug}/check-in/{" + g + "prompt}",
                  access="member", group=group, setup=_prompt, data={"text": "Hi!"},
                  expect={"outsider": 404, "organizer": 404, "owner": 404}),
    ]
