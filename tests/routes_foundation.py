"""Authorization cases for accounts, groups, members and invites (format: :mod:`tests.authz`)."""

from __future__ import annotations

from tests.authz import LOGIN, OK, RouteCase

SIGNUP = {
    "email": "new.person@example.org",
    "display_name": "New Person",
    "password": "a long enough password",
    "confirm": "a long enough password",
    "timezone": "Europe/Berlin",
}
CONFIRMED = {"confirm": "yes"}  # the second step of a two-step action
GROUP_FORM = {
    "name": "Renamed Club",
    "slug": "renamed-club",
    "description": "Still the same people.",
    "visibility": "private",
    "timezone": "Europe/Berlin",
}

ROUTES: list[RouteCase] = [
    # Accounts: open to everyone, or to anyone logged in.
    RouteCase("auth.signup", "GET", "/signup", access="public"),
    RouteCase("auth.signup", "POST", "/signup", access="public", data=SIGNUP),
    RouteCase("auth.login", "GET", "/login", access="public"),
    RouteCase(
        "auth.login",
        "POST",
        "/login",
        access="public",
        data={"email": "outsider@example.org", "password": "password"},
    ),
    RouteCase("auth.logout", "POST", "/logout", access="public"),
    RouteCase(
        "language.choose",
        "POST",
        "/language",
        access="public",
        data={"locale": "de", "next": "/groups"},
    ),
    RouteCase("account.profile", "GET", "/account", access="login"),
    RouteCase(
        "account.profile",
        "POST",
        "/account",
        access="login",
        data={"display_name": "Renamed", "timezone": "Europe/Lisbon"},
    ),
    RouteCase("account.password", "GET", "/account/password", access="login"),
    RouteCase(
        "account.password",
        "POST",
        "/account/password",
        access="login",
        data={"current": "password", "password": "a new password!", "confirm": "a new password!"},
    ),
    RouteCase("account.my_data", "GET", "/account/my-data.json", access="login"),
    RouteCase("account.end_all_sessions", "POST", "/account/sessions/end", access="login"),
    RouteCase("account.delete", "GET", "/account/delete", access="login"),
    RouteCase(
        "account.delete",
        "POST",
        "/account/delete",
        access="login",
        data={"password": "password", "confirm": "y"},
        expect={"owner": 409},  # the only owner of both groups must hand them over first
    ),
    # Groups.
    RouteCase("groups.directory", "GET", "/groups", access="public"),
    RouteCase("groups.mine", "GET", "/groups/mine", access="login"),
    RouteCase("groups.create", "GET", "/groups/new", access="login"),
    RouteCase(
        "groups.create", "POST", "/groups/new", access="login", data={**GROUP_FORM, "slug": ""}
    ),
    RouteCase("groups.show", "GET", "/g/{slug}", access="member"),
    RouteCase("groups.show", "GET", "/g/{slug}", access="public", group="public"),
    RouteCase("groups.edit", "GET", "/g/{slug}/edit", access="organizer"),
    RouteCase("groups.edit", "GET", "/g/{slug}/edit", access="organizer", group="public"),
    RouteCase("groups.edit", "POST", "/g/{slug}/edit", access="organizer", data=GROUP_FORM),
    RouteCase(
        "groups.edit",
        "POST",
        "/g/{slug}/edit",
        access="organizer",
        group="public",
        data={**GROUP_FORM, "visibility": "public"},
    ),
    RouteCase("groups.delete", "GET", "/g/{slug}/delete", access="owner"),
    RouteCase(
        "groups.delete",
        "POST",
        "/g/{slug}/delete",
        access="owner",
        data=lambda world: {"confirm_slug": world.groups["private"].slug},
    ),
    RouteCase(
        "groups.delete",
        "POST",
        "/g/{slug}/delete",
        access="owner",
        group="public",
        data=lambda world: {"confirm_slug": world.groups["public"].slug},
    ),
    # Joining a private group needs an invite: outsiders get 404, members are already in.
    RouteCase("groups.join", "POST", "/g/{slug}/join", access="member"),
    RouteCase("groups.join", "POST", "/g/{slug}/join", access="login", group="public"),
    RouteCase("groups.leave", "POST", "/g/{slug}/leave", access="member"),
    RouteCase("groups.leave", "POST", "/g/{slug}/leave", access="member", group="public"),
    RouteCase("groups.members", "GET", "/g/{slug}/members", access="member"),
    RouteCase("groups.members", "GET", "/g/{slug}/members", access="member", group="public"),
    RouteCase(
        "groups.set_role",
        "POST",
        "/g/{slug}/members/{target_id}/role",
        access="organizer",
        data={"role": "organizer"},
    ),
    RouteCase(
        "groups.set_role",
        "POST",
        "/g/{slug}/members/{target_id}/role",
        access="owner",
        data={"role": "owner"},
        note="make-owner",
    ),
    RouteCase(
        "groups.set_role",
        "POST",
        "/g/{slug}/members/{target_id}/role",
        access="organizer",
        group="public",
        data={"role": "organizer"},
    ),
    RouteCase(
        "groups.remove_member",
        "POST",
        "/g/{slug}/members/{target_id}/remove",
        access="organizer",
        data=CONFIRMED,
    ),
    RouteCase(
        "groups.remove_member",
        "POST",
        "/g/{slug}/members/{owner_id}/remove",
        access="owner",
        data=CONFIRMED,
        # The owner removing themselves is refused with a message (last owner), not an error.
        note="owner",
    ),
    RouteCase(
        "groups.remove_member",
        "POST",
        "/g/{slug}/members/{target_id}/remove",
        access="organizer",
        group="public",
        data=CONFIRMED,
    ),
    # Invites: organizers manage them; the link itself is for anyone holding it.
    RouteCase("invites.manage", "GET", "/g/{slug}/invites", access="organizer"),
    RouteCase("invites.manage", "GET", "/g/{slug}/invites", access="organizer", group="public"),
    RouteCase(
        "invites.create",
        "POST",
        "/g/{slug}/invites",
        access="organizer",
        data={"expires_in_days": "7", "max_uses": "5"},
    ),
    RouteCase(
        "invites.create",
        "POST",
        "/g/{slug}/invites",
        access="organizer",
        group="public",
        data={"expires_in_days": "", "max_uses": ""},
    ),
    RouteCase("invites.revoke", "POST", "/g/{slug}/invites/{invite_id}/revoke", access="organizer"),
    RouteCase("invites.show", "GET", "/invite/{invite}", access="public"),
    RouteCase("invites.show", "GET", "/invite/{invite}", access="public", group="public"),
    RouteCase(
        "invites.accept",
        "POST",
        "/invite/{invite}",
        access="public",
        expect={"anonymous": LOGIN, "outsider": OK},
    ),
]
