"""Authorization rows for routes that built-in plugins register (format: :mod:`tests.authz`)."""

from __future__ import annotations

from tests.authz import RouteCase


def _meals(session, world):
    """The host opt-in only exists for meals routines: make the world's routines meals."""
    for routine in world.routines.values():
        routine.activity_key = "meals"
        routine.details = {"rotate_hosts": True}
    session.commit()
    return {}


ROUTES = [
    RouteCase(
        "meals.hosting",
        "POST",
        "/g/{slug}/r/{routine_id}/meals/hosting",
        access="member",
        group=group,
        data={"action": "join"},
        setup=_meals,
    )
    for group in ("private", "public")
]
