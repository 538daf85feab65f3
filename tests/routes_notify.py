"""Authorization cases for mail settings and the links in reminders (format: :mod:`tests.authz`).

The one-click answer and unsubscribe links are for people reading mail, logged in or not: the
signed token is the authority, so they are public, and a forged token is a 400 with a reason for
everyone. The mail page is each person's own; a group's mail defaults are its organizers'.
"""

from __future__ import annotations

from datetime import timedelta

from tests.authz import OCCURRENCE_START, RouteCase

BAD = dict(anonymous=400, outsider=400, member=400, organizer=400, owner=400)
LATER = OCCURRENCE_START + timedelta(weeks=520)  # a Thursday ten years on: still open


def _answer_token(session, world):
    from planner.notify.answer_links import token

    target, routine = world.users["target"], world.routines["private"]
    return {"token": token(user_id=target.id, routine_id=routine.id, original_start=LATER,
                           answer="going")}


def _unsubscribe_token(session, world):
    from planner.notify.unsubscribe import token

    return {"token": token(user_id=world.users["target"].id,
                           group_id=world.groups["private"].id, category="reminder")}


DEFAULTS = {"default_reminder": "morning", "default_reminder_hour": "8", "default_scope": "all"}

ROUTES: list[RouteCase] = [
    RouteCase("account.mail", "GET", "/account/mail", access="login"),
    RouteCase("account.mail", "POST", "/account/mail", access="login",
              data={"reminder": "hours", "reminder_hour": "", "hours_before": "5",
                    "digest": "0"}),
    RouteCase("account.group_mail", "POST", "/account/mail/{slug}", access="member",
              data=lambda world: {f"g{world.groups['private'].id}-scope": "none"},
              expect={"outsider": 404}),
    RouteCase("account.group_mail", "POST", "/account/mail/{slug}", access="member",
              group="public", expect={"outsider": 404},
              data=lambda world: {f"g{world.groups['public'].id}-scope": "all"}),
    RouteCase("groups.mail_defaults", "GET", "/g/{slug}/mail", access="organizer"),
    RouteCase("groups.mail_defaults", "POST", "/g/{slug}/mail", access="organizer",
              data=DEFAULTS),
    RouteCase("groups.mail_defaults", "POST", "/g/{slug}/mail", access="organizer",
              group="public", data=DEFAULTS),
    RouteCase("links.answer", "GET", "/a/{token}", access="public", setup=_answer_token),
    RouteCase("links.answer", "POST", "/a/{token}", access="public", setup=_answer_token,
              data={"every": "no"}),
    RouteCase("links.answer", "GET", "/a/forged", access="public", expect=BAD,
              note="bad-token"),
    RouteCase("links.unsubscribe", "GET", "/u/{token}", access="public",
              setup=_unsubscribe_token),
    RouteCase("links.unsubscribe", "POST", "/u/{token}", access="public",
              setup=_unsubscribe_token, data={"List-Unsubscribe": "One-Click"}),
    RouteCase("links.unsubscribe", "POST", "/u/forged", access="public", expect=BAD,
              data={"List-Unsubscribe": "One-Click"}, note="bad-token"),
]

ROUTES += [
    RouteCase("messages.send", "GET", "/g/{slug}/r/{routine_id}/{occurrence}/message",
              access="organizer"),
    RouteCase("messages.send", "POST", "/g/{slug}/r/{routine_id}/{occurrence}/message",
              access="organizer", data={"audience": "members", "text": "Bring a torch."}),
    RouteCase("messages.send", "POST", "/g/{slug}/r/{routine_id}/{occurrence}/message",
              access="organizer", group="public",
              data={"audience": "going", "text": "Bring a torch."}),
]
