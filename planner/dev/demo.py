"""Demo data: a few people and two groups, so a fresh ``make run`` has something to click.

:func:`load_demo` returns what it created, so later work (plugins, joining in) can extend the
demo in :func:`add_routines` without repeating the people and groups.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.accounts.passwords import hash_password
from planner.models import Group, Membership, Routine, User, default_slot_rows, utcnow

PASSWORD = "planner-demo"
PEOPLE = (
    ("ada", "Ada Lovelace", "Europe/London"),
    ("ben", "Ben Okafor", "Europe/Berlin"),
    ("chloe", "Chloé Martin", "Europe/Paris"),
    ("dev", "Dev Patel", "Europe/Berlin"),
)
# slug -> (name, visibility, timezone, description, {person: role})
GROUPS = {
    "thursday-supper-club": (
        "Thursday Supper Club",
        "public",
        "Europe/Berlin",
        "We cook and eat together every Thursday. Bring a dish or host once in a while.",
        {"ada": "owner", "ben": "organizer", "chloe": "member", "dev": "member"},
    ),
    "sunday-football": (
        "Sunday Football",
        "private",
        "Europe/Berlin",
        "Five-a-side in the park on Sunday mornings. Join through an invite link.",
        {"ben": "owner", "chloe": "organizer", "ada": "member"},
    ),
}


@dataclass
class Demo:
    users: dict[str, User]
    groups: dict[str, Group]
    routines: list[Routine] = field(default_factory=list)


def login_email(key: str) -> str:
    return f"{key}@example.org"


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def load_demo(session: Session) -> Demo:
    """Create the demo people, groups, memberships and routines; commits."""
    password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    users: dict[str, User] = {}
    for key, name, zone in PEOPLE:
        user = User(
            email=login_email(key),
            display_name=name,
            password_hash=password_hash,
            timezone=zone,
            feed_token=secrets.token_urlsafe(24),
        )
        session.add(user)
        users[key] = user
    session.flush()
    groups: dict[str, Group] = {}
    for slug, (name, visibility, zone, description, roles) in GROUPS.items():
        group = Group(
            slug=slug, name=name, visibility=visibility, timezone=zone, description=description
        )
        session.add(group)
        session.flush()
        for key, role in roles.items():
            session.add(Membership(group_id=group.id, user_id=users[key].id, role=role))
        groups[slug] = group
    session.flush()
    demo = Demo(users=users, groups=groups)
    demo.routines = add_routines(session, groups, users)
    session.commit()
    return demo


def next_weekday(weekday: int, hour: int, minute: int = 0, now: datetime | None = None) -> datetime:
    """The next date on ``weekday`` (Monday 0) from today, at a local wall-clock time."""
    today = (now or utcnow()).date()
    day = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, hour, minute)


def first_weekday_of_next_month(weekday: int, hour: int, now: datetime | None = None) -> datetime:
    """The first ``weekday`` (Monday 0) of next month, at a local wall-clock time."""
    today = (now or utcnow()).date()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    first = datetime(year, month, 1, hour)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def add_routines(
    session: Session, groups: dict[str, Group], users: dict[str, User]
) -> list[Routine]:
    """One routine of every built-in activity type, with answers, slots, a host rotation, one
    cancelled and one changed occurrence, so a newcomer sees each type at work.

    Slots come from the activity type's ``default_slots`` as the routine form would add them;
    when a plugin is disabled its routine still appears (generically) and gets no slots.
    """
    from flask import current_app

    from planner.models import Claim, Override, Rsvp

    plugins = current_app.extensions["planner"]
    supper = groups["thursday-supper-club"]
    football = groups["sunday-football"]
    ada, ben, chloe, dev = (users[k] for k in ("ada", "ben", "chloe", "dev"))
    meals = Routine(
        group_id=supper.id,
        activity_key="meals",
        title="Thursday supper",
        description="Dinner together; the host sends the address the day before.",
        location="Rotating between members' kitchens",
        timezone=supper.timezone,
        start=next_weekday(3, 19),
        duration_minutes=150,
        rrule="FREQ=WEEKLY;BYDAY=TH",
        details={
            "theme": "Whatever is in season",
            "style": "potluck",
            "dietary": "Chloé is vegetarian; Dev avoids nuts.",
            "rotate_hosts": True,
            "hosts": [
                {"user_id": ada.id, "name": ada.display_name},
                {"user_id": ben.id, "name": ben.display_name},
            ],
        },
        created_by_id=ada.id,
    )
    sports = Routine(
        group_id=football.id,
        activity_key="sports",
        title="Sunday kick-about",
        description="Five-a-side, friendly. Bring both a light and a dark shirt.",
        location="Volkspark, the north pitch",
        timezone=football.timezone,
        start=next_weekday(6, 10),
        duration_minutes=90,
        rrule="FREQ=WEEKLY;BYDAY=SU",
        details={
            "sport": "Football",
            "level": "all",
            "min_players": 6,
            "teams": 2,
            "equipment": "Light and dark shirt, water",
        },
        created_by_id=ben.id,
    )
    arts = Routine(
        group_id=supper.id,
        activity_key="arts",
        title="First-Saturday gallery visit",
        description="A slow look at one exhibition, then coffee.",
        location="Hamburger Bahnhof, Invalidenstraße 50, Berlin",
        timezone=supper.timezone,
        start=first_weekday_of_next_month(5, 11),
        duration_minutes=120,
        rrule="FREQ=MONTHLY;BYDAY=1SA",
        details={
            "kind": "gallery",
            "venue": "Hamburger Bahnhof",
            "price": "free on the first Saturday",
            "booking_url": "https://www.smb.museum/en/museums-institutions/hamburger-bahnhof/",
            "bring": "A small notebook",
        },
        created_by_id=ada.id,
    )
    walks = Routine(
        group_id=supper.id,
        activity_key="walks",
        title="Phones-away walk",
        description="Two hours on foot without screens.",
        location="Grunewald S-Bahn station, forest exit",
        timezone=supper.timezone,
        start=next_weekday(6, 9, 30),
        duration_minutes=120,
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
        details={
            "meeting_point": "Grunewald S-Bahn station, forest exit",
            "distance_km": 8.5,
            "pace": "steady",
            "terrain": "Forest paths, one sandy climb",
            "agreement": "Phones on silent and in bags from the station until the café. "
            "Need to stay reachable? Say so at the start and step aside to check.",
            "reminder_minutes": 60,
        },
        created_by_id=chloe.id,
    )
    routines = [meals, sports, arts, walks]
    session.add_all(routines)
    session.flush()

    for routine in routines:
        defaults = plugins.activity(routine.activity_key).default_slots
        session.add_all(default_slot_rows(routine.id, defaults))
    session.flush()

    # Answers for the next supper and the next game (the game is one player short of "on").
    for user, status in ((ada, "going"), (ben, "going"), (chloe, "maybe"), (dev, "going")):
        session.add(Rsvp(routine_id=meals.id, original_start=meals.start, user_id=user.id,
                         status=status))
    for user in (ben, chloe, ada):
        session.add(Rsvp(routine_id=sports.id, original_start=sports.start, user_id=user.id,
                         status="going", guests=1 if user is ben else 0))
    main = next((s for s in meals.slots if s.label == "Main"), None)
    if main is not None:
        session.add(Claim(slot_id=main.id, original_start=meals.start, user_id=chloe.id))

    # One cancelled and one changed occurrence.
    meals.sequence = walks.sequence = 1
    session.add_all(
        [
            Override(
                routine_id=meals.id,
                original_start=meals.start + timedelta(weeks=1),
                status="cancelled",
                note="Holiday week: no supper.",
                sequence=1,
            ),
            Override(
                routine_id=walks.id,
                original_start=walks.start + timedelta(weeks=2),
                status="changed",
                start=walks.start + timedelta(weeks=2, hours=1),
                location="Schlachtensee S-Bahn station",
                note="Later start and a lakeside route this time.",
                sequence=1,
            ),
        ]
    )
    session.flush()
    return routines
