"""Authorization cases for calendar feeds and the Subscribe pages (format: :mod:`tests.authz`).

Feed URLs with a token are authorized by the token, not by the browser session: every role
gets the member's feed, and nobody gets a feed through an outsider's token on a private group.
"""

from __future__ import annotations

from tests.authz import OK, ROLES, RouteCase

NOBODY = {role: 404 for role in ROLES}
EVERYONE = {role: OK for role in ROLES}


def _outsider_token(_session, world):
    return {"outsider_token": world.users["outsider"].feed_token}


ROUTES: list[RouteCase] = [
    # Public URLs: anyone for a public group; nobody, not even members, for a private one.
    RouteCase("feeds.group_public", "GET", "/feeds/g/{slug}.ics", access="public", group="public"),
    RouteCase("feeds.group_public", "GET", "/feeds/g/{slug}.ics", expect=NOBODY),
    RouteCase(
        "feeds.routine_public",
        "GET",
        "/feeds/g/{slug}/r/{routine_id}.ics",
        access="public",
        group="public",
    ),
    RouteCase("feeds.routine_public", "GET", "/feeds/g/{slug}/r/{routine_id}.ics", expect=NOBODY),
    # Token URLs: the member's token works whoever asks; an outsider's token never does.
    RouteCase("feeds.group_token", "GET", "/feeds/t/{feed_token}/g/{slug}.ics", expect=EVERYONE),
    RouteCase(
        "feeds.group_token",
        "GET",
        "/feeds/t/{outsider_token}/g/{slug}.ics",
        expect=NOBODY,
        setup=_outsider_token,
        note="outsider-token",
    ),
    RouteCase(
        "feeds.routine_token",
        "GET",
        "/feeds/t/{feed_token}/g/{slug}/r/{routine_id}.ics",
        expect=EVERYONE,
    ),
    RouteCase(
        "feeds.routine_token",
        "GET",
        "/feeds/t/{outsider_token}/g/{slug}/r/{routine_id}.json",
        expect=NOBODY,
        setup=_outsider_token,
        note="outsider-token",
    ),
    RouteCase("feeds.personal", "GET", "/feeds/t/{feed_token}/me.ics", expect=EVERYONE),
    RouteCase(
        "feeds.personal", "GET", "/feeds/t/not-a-token/me.ics", expect=NOBODY, note="malformed"
    ),
    # "Add to calendar": seen like the occurrence page, through the browser session.
    RouteCase(
        "feeds.occurrence",
        "GET",
        "/feeds/g/{slug}/r/{routine_id}/{occurrence}.ics",
        access="public",
        group="public",
    ),
    RouteCase("feeds.occurrence", "GET", "/feeds/g/{slug}/r/{routine_id}/{occurrence}.ics"),
    # Pages.
    RouteCase("feeds.subscribe", "GET", "/feeds", access="login"),
    RouteCase(
        "feeds.subscribe_group", "GET", "/feeds/g/{slug}/subscribe", access="public", group="public"
    ),
    RouteCase("feeds.subscribe_group", "GET", "/feeds/g/{slug}/subscribe"),
    RouteCase("feeds.regenerate_token", "POST", "/feeds/token/regenerate", access="login"),
    RouteCase("feeds.revoke_token", "POST", "/feeds/token/revoke", access="login"),
]
