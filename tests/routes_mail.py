"""Authorization cases for the mail-driven account pages (format: :mod:`tests.authz`).

"Forgot your password?" and the reset link are for people who cannot log in, so they are
public; a link is only as good as its signature, and a bad one is a 400 with a reason for all.
"""

from __future__ import annotations

from tests.authz import RouteCase


def _token(session, world):
    from planner.accounts.resets import make_token

    return {"token": make_token(world.users["target"])}


NEW_PASSWORD = {"password": "a brand new password", "confirm": "a brand new password"}
BAD = dict(anonymous=400, outsider=400, member=400, organizer=400, owner=400)

ROUTES: list[RouteCase] = [
    RouteCase(
        "invites.mail", "POST", "/g/{slug}/invites/mail", access="organizer",
        data={"addresses": "friend@example.org", "note": "Come along!"},
    ),
    RouteCase("reset.forgot", "GET", "/password/forgot", access="public"),
    RouteCase(
        "reset.forgot", "POST", "/password/forgot", access="public",
        data={"email": "member@example.org"},
    ),
    RouteCase("reset.choose", "GET", "/password/reset/{token}", access="public", setup=_token),
    RouteCase(
        "reset.choose", "POST", "/password/reset/{token}", access="public", setup=_token,
        data=NEW_PASSWORD,
    ),
    RouteCase(
        "reset.choose", "GET", "/password/reset/not-a-token", access="public", expect=BAD,
        note="bad-token",
    ),
    RouteCase(
        "reset.choose", "POST", "/password/reset/not-a-token", access="public", expect=BAD,
        data=NEW_PASSWORD, note="bad-token",
    ),
]
