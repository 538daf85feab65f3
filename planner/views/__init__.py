"""One blueprint per room; ``create_app`` registers them in this order."""

from . import account, auth, events, feeds, groups, home, routines

BLUEPRINTS = [
    home.bp,
    auth.bp,
    account.bp,
    groups.bp,
    routines.bp,
    events.bp,
    feeds.bp,
]
