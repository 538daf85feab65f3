"""One blueprint per room; ``create_app`` registers them in this order."""

from planner.web.views import (
    account,
    auth,
    belonging,
    comments,
    events,
    feeds,
    groups,
    home,
    invites,
    links,
    messages,
    reset,
    routines,
    rsvps,
    slots,
    verify,
)

BLUEPRINTS = [
    home.bp,
    auth.bp,
    reset.bp,
    verify.bp,
    account.bp,
    groups.bp,
    invites.bp,
    routines.bp,
    events.bp,
    feeds.bp,
    rsvps.bp,
    slots.bp,
    comments.bp,
    links.bp,
    messages.bp,
    belonging.bp,
]
