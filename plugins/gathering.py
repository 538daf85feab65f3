"""The plain "Gathering" activity type: any routine that needs no details of its own."""

from planner import hookimpl
from planner.plugins.activity import ActivityType

GATHERING = ActivityType(
    key="gathering",
    label="Gathering",
    icon="👥",
    description="Any regular meet-up of the group.",
    categories=("Gathering",),
)


@hookimpl
def register_activity_types():
    return [GATHERING]
