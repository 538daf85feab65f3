"""Authorization cases for the mail-driven account pages (format: :mod:`tests.authz`).

"Forgot your password?" and the reset link are for people who cannot log in, so they are
public; a link is only as good as its signature, and a bad one is a 400 with a reason for all.
"""

from __future__ import annotations

from tests.authz import RouteCase


def _token(session, world):
    from planner.accounts.resets import make_token

    return {"token": make_token(world.users["target"])}


def _verify_token(session, world):
    from planner.accounts.verification import VERIFY_SALT, _serializer

    user = world.users["target"]
    return {"token": _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})}


def _change_token(session, world):
    from planner.accounts.verification import CHANGE_SALT, _serializer

    user = world.users["target"]
    payload = {"u": user.id, "old": user.email, "new": "changed.target@example.org"}
    return {"token": _serializer(CHANGE_SALT).dumps(payload)}


NEW_PASSWORD = {"password": "a brand new password", "confirm": "a brand new password"}
BAD = dict(anonymous=400, outsider=400, member=400, organizer=400, owner=400)

ROUTES: list[RouteCase] = [
    RouteCase("verify.confirm", "GET", "/account/verify/{token}", access="public",
              setup=_verify_token),
    RouteCase("verify.confirm", "GET", "/account/verify/forged", access="public", expect=BAD,
              note="bad-token"),
    RouteCase("verify.change", "GET", "/account/email/{token}", access="public",
              setup=_change_token),
    RouteCase("verify.change", "GET", "/account/email/forged", access="public", expect=BAD,
              note="bad-token"),
    RouteCase("verify.resend", "POST", "/account/verify/resend", access="login"),
    RouteCase("verify.email", "GET", "/account/email", access="login"),
    RouteCase("verify.email", "POST", "/account/email", access="login",
              data={"email": "brand.new@example.org", "password": "password"}),
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
