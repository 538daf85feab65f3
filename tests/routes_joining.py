"""Authorization cases for joining in: answers, regulars, slots, comments, the start page
(format: :mod:`tests.authz`)."""

from __future__ import annotations

from tests.authz import RouteCase

OCC = "/g/{slug}/r/{routine_id}/{occurrence}"
ROUTINE = "/g/{slug}/r/{routine_id}"


def _slot_form(world) -> dict:
    """The edit form's fields carry the slot's id as their prefix."""
    slot_id = world.slots["private"].id
    public_id = world.slots["public"].id
    return {
        f"s{slot_id}-label": "Cook",
        f"s{slot_id}-capacity": "2",
        f"s{public_id}-label": "Cook",
        f"s{public_id}-capacity": "2",
    }


_MEMBER_ACTIONS = [
    ("rsvps.answer", f"{OCC}/answer", {"status": "going"}),
    ("rsvps.join_regular", f"{ROUTINE}/regular", {}),
    ("rsvps.leave_regular", f"{ROUTINE}/regular/leave", {}),
    ("slots.claim", f"{OCC}/slots/{{slot_id}}/claim", {}),
    ("slots.release", f"{OCC}/slots/{{slot_id}}/release", {}),
    ("comments.add", f"{OCC}/comments", {"body": "See you!"}),
    # The world's comment is the member's own; organizers and the owner may delete any.
    ("comments.delete", f"{OCC}/comments/{{comment_id}}/delete", {}),
]

_ORGANIZER_ACTIONS = [
    ("slots.edit", "GET", f"{ROUTINE}/slots", None),
    ("slots.add", "POST", f"{ROUTINE}/slots", {"new-label": "Drinks", "new-capacity": "2"}),
    ("slots.update", "POST", f"{ROUTINE}/slots/{{slot_id}}", _slot_form),
    ("slots.remove", "POST", f"{ROUTINE}/slots/{{slot_id}}/delete", {}),
]

ROUTES: list[RouteCase] = [RouteCase("home.index", "GET", "/", access="public")]
for group in ("private", "public"):
    for endpoint, path, data in _MEMBER_ACTIONS:
        ROUTES.append(RouteCase(endpoint, "POST", path, access="member", group=group, data=data))
    for endpoint, method, path, data in _ORGANIZER_ACTIONS:
        ROUTES.append(
            RouteCase(endpoint, method, path, access="organizer", group=group, data=data)
        )
