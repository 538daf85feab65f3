"""The plain "Gathering" activity type: any routine that needs no details of its own.

Essential (see :mod:`planner.plugins.manager`): it is the type a new routine starts as, so
``PLANNER_PLUGINS``/``PLANNER_DISABLED_PLUGINS`` cannot switch it off.
"""

from planner.api import ActivityType, hookimpl, lazy_gettext

GATHERING = ActivityType(
    key="gathering",
    label=lazy_gettext("Gathering"),
    icon="👥",
    description=lazy_gettext("Any regular meet-up of the group."),
    default_categories=("Gathering",),
)


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [GATHERING]
