"""Demo data: a few people and two groups, so a fresh ``make run`` has something to click.

:func:`load_demo` returns what it created, so later work (plugins, joining in) can extend the
demo in :func:`add_routines` without repeating the people and groups.

Everything is placed relative to one "now" (naive UTC), the app's injected ``CLOCK`` unless a
caller passes one, so tests load the same demo on any day:

- the weekly supper and the Sunday game have a few months of past dates with who came
  (:func:`add_history`): shared history, the rhythm ("14 Thursdays in a row") across a planned
  break, two good things from the last supper, and Dev, who usually comes, away for the last
  three, with Ben as the buddy who hears of it;
- a pub quiz tomorrow evening (:func:`add_quiz`) that Ben, Dev and Ada are going to, with Ben's
  reminders the evening before at ``REMINDER_HOUR``: on ``make run`` its reminder lands in
  ``instance/mail/`` at that hour, with one-click answers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from planner.accounts.passwords import hash_password
from planner.models import (
    GoodThing,
    Group,
    MailSettings,
    Membership,
    Presence,
    Routine,
    Rsvp,
    User,
    default_slot_rows,
    utcnow,
)
from planner.scheduling.zones import instant, to_local_naive

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


#: Past dates the weekly supper has had (the Sunday game: ``GAME_WEEKS``), each ended by "now".
HISTORY_WEEKS = 16
GAME_WEEKS = HISTORY_WEEKS - 4
#: The hour (Ben's own clock) of his reminders the evening before.
REMINDER_HOUR = 20
QUIZ_TITLE = "Pub quiz"
BREAK_LABEL = "Half-term break"


@dataclass
class Demo:
    users: dict[str, User]
    groups: dict[str, Group]
    routines: list[Routine] = field(default_factory=list)
    now: datetime = field(default_factory=utcnow)  # naive UTC: what the dates are relative to
    #: Each routine's next date (its original local start), by routine id.
    next_dates: dict[int, datetime] = field(default_factory=dict)

    def routine(self, title: str) -> Routine:
        return next(r for r in self.routines if r.title == title)


def login_email(key: str) -> str:
    return f"{key}@example.org"


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def demo_now() -> datetime:
    """The app's injected ``CLOCK`` (naive UTC), else the real time."""
    from flask import current_app

    from planner.mail.delivery import clock

    return clock(current_app)


def load_demo(session: Session, now: datetime | None = None) -> Demo:
    """Create the demo people, groups, memberships and routines, relative to ``now`` (naive
    UTC; the app's clock by default); commits."""
    now = now or demo_now()
    joined = now - timedelta(weeks=HISTORY_WEEKS + 1)  # everyone was there from the start
    password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    users: dict[str, User] = {}
    for key, name, zone in PEOPLE:
        user = User(
            email=login_email(key),
            display_name=name,
            password_hash=password_hash,
            timezone=zone,
            feed_token=secrets.token_urlsafe(24),
            created_at=joined,
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
            session.add(Membership(group_id=group.id, user_id=users[key].id, role=role,
                                   created_at=joined))
        groups[slug] = group
    session.flush()
    demo = Demo(users=users, groups=groups, now=now)
    demo.routines = add_routines(session, groups, users, now, demo.next_dates)
    add_history(session, demo)
    demo.routines.append(add_quiz(session, demo))
    session.commit()
    return demo


def local_today(now: datetime, zone: str) -> date:
    """The day it is in ``zone`` at ``now`` (naive UTC)."""
    return to_local_naive(now.replace(tzinfo=UTC), zone).date()


def next_weekday(weekday: int, hour: int, minute: int = 0, now: datetime | None = None,
                 zone: str = "UTC") -> datetime:
    """The next date on ``weekday`` (Monday 0) after today in ``zone``, at a local wall-clock
    time."""
    today = local_today(now or utcnow(), zone)
    day = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, hour, minute)


def latest_ended(coming: datetime, minutes: int, zone: str, now: datetime) -> datetime:
    """The latest weekly date before ``coming`` that has ended by ``now`` (naive UTC): a week
    before it, or two when that one is today and not over yet."""
    latest = coming - timedelta(weeks=1)
    if instant(latest + timedelta(minutes=minutes), zone) > now.replace(tzinfo=UTC):
        latest -= timedelta(weeks=1)
    return latest


def first_weekday_of_next_month(weekday: int, hour: int, now: datetime | None = None,
                                zone: str = "UTC") -> datetime:
    """The first ``weekday`` (Monday 0) of next month, at a local wall-clock time."""
    today = local_today(now or utcnow(), zone)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    first = datetime(year, month, 1, hour)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def add_routines(
    session: Session, groups: dict[str, Group], users: dict[str, User],
    now: datetime | None = None, next_dates: dict[int, datetime] | None = None,
) -> list[Routine]:
    """One routine of every built-in activity type, with answers, slots, a host rotation, one
    cancelled and one changed occurrence, so a newcomer sees each type at work. The weekly
    supper and game began weeks ago (:func:`add_history` fills their past); answers, the
    cancelled and the changed date are about the coming ones, whose starts go in
    ``next_dates``.

    Slots come from the activity type's ``default_slots`` as the routine form would add them;
    when a plugin is disabled its routine still appears (generically) and gets no slots.
    """
    from flask import current_app

    from planner.models import Claim, Override

    plugins = current_app.extensions["planner"]
    now = now or utcnow()
    supper = groups["thursday-supper-club"]
    football = groups["sunday-football"]
    zone = supper.timezone
    ada, ben, chloe, dev = (users[k] for k in ("ada", "ben", "chloe", "dev"))
    next_supper = next_weekday(3, 19, now=now, zone=zone)
    next_game = next_weekday(6, 10, now=now, zone=football.timezone)
    meals = Routine(
        group_id=supper.id,
        activity_key="meals",
        title="Thursday supper",
        description="Dinner together; the host sends the address the day before.",
        location="Rotating between members' kitchens",
        timezone=supper.timezone,
        start=latest_ended(next_supper, 150, zone, now) - timedelta(weeks=HISTORY_WEEKS - 1),
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
        start=latest_ended(next_game, 90, football.timezone, now)
        - timedelta(weeks=GAME_WEEKS - 1),
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
        start=first_weekday_of_next_month(5, 11, now=now, zone=zone),
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
        start=next_weekday(6, 9, 30, now=now, zone=zone),
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
    coming = {meals.id: next_supper, sports.id: next_game, arts.id: arts.start,
              walks.id: walks.start}
    if next_dates is not None:
        next_dates.update(coming)

    for routine in routines:
        defaults = plugins.activity(routine.activity_key).default_slots
        session.add_all(default_slot_rows(routine.id, defaults))
    session.flush()

    # Answers for the next supper and the next game (the game is one player short of "on").
    for user, status in ((ada, "going"), (ben, "going"), (chloe, "maybe"), (dev, "going")):
        session.add(Rsvp(routine_id=meals.id, original_start=next_supper, user_id=user.id,
                         status=status))
    for user in (ben, chloe, ada):
        session.add(Rsvp(routine_id=sports.id, original_start=next_game, user_id=user.id,
                         status="going", guests=1 if user is ben else 0))
    main = next((s for s in meals.slots if s.position == 0), None)  # the meal's main dish
    if main is not None:
        session.add(Claim(slot_id=main.id, original_start=next_supper, user_id=chloe.id))

    # One cancelled and one changed occurrence.
    meals.sequence = walks.sequence = 1
    session.add_all(
        [
            Override(
                routine_id=meals.id,
                original_start=next_supper + timedelta(weeks=1),
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


# Who was away from which past date, counted back from the latest (1), which has ended by "now"
# (the supper later today, say, is still to come). Dev usually comes but missed the last three
# suppers: the kind check-in asks his buddy, Ben, to write.
SUPPER_AWAY = {"ada": {4, 12}, "ben": {7}, "chloe": {2, 13}, "dev": {1, 2, 3, 14}}
SUPPER_COULD_NOT = {("chloe", 6)}  # said going, then couldn't make it
SUPPER_BREAK = (10, 9)  # the weeks of the planned break: two suppers off, rhythm unbroken
SUPPER_SELF_SAID = 1  # the latest supper: nobody confirmed yet, "going" counts
GAME_AWAY = {"ada": {3, 8}, "ben": set(), "chloe": {5}}
GOOD_THINGS = (
    ("meals", "ada", "Chloé's lentil soup, and the rhubarb crumble went back for thirds."),
    ("meals", "chloe", "We finally finished the thousand-piece puzzle."),
    ("sports", "chloe", "Ben's last-minute equaliser from his own half."),
)


def add_history(session: Session, demo: Demo) -> None:
    """A few months of the weekly supper and game: answers and who came (one bulk insert
    each), a planned break of the supper, good things from the last dates, and Dev's buddy."""
    from planner.belonging.breaks import plan_break

    users = demo.users
    meals = next(r for r in demo.routines if r.activity_key == "meals")
    sports = next(r for r in demo.routines if r.activity_key == "sports")
    ben = users["ben"]
    rsvps: list[dict[str, object]] = []
    presences: list[dict[str, object]] = []
    latest: dict[int, datetime] = {}
    plan = (
        (meals, HISTORY_WEEKS, SUPPER_AWAY, SUPPER_BREAK, SUPPER_SELF_SAID),
        (sports, GAME_WEEKS, GAME_AWAY, (), 0),
    )
    for routine, weeks, away, pause, unconfirmed in plan:
        latest[routine.id] = routine.start + timedelta(weeks=weeks - 1)
        for k in range(weeks, 0, -1):
            if k in pause:
                continue
            start = latest[routine.id] - timedelta(weeks=k - 1)
            answered = start - timedelta(days=2)
            for key, absent in away.items():
                going = k not in absent or (key, k) in SUPPER_COULD_NOT
                if not going:
                    if key == "dev" and k == 1:  # said so, kindly
                        rsvps.append(dict(routine_id=routine.id, original_start=start,
                                          user_id=users[key].id, status="declined", guests=0,
                                          answered_at=answered, created_at=answered,
                                          updated_at=answered))
                    continue
                rsvps.append(dict(routine_id=routine.id, original_start=start,
                                  user_id=users[key].id, status="going", guests=0,
                                  answered_at=answered, created_at=answered, updated_at=answered))
                if k <= unconfirmed:
                    continue
                said = start + timedelta(hours=3)
                presences.append(dict(
                    routine_id=routine.id, original_start=start, user_id=users[key].id,
                    came=(key, k) not in SUPPER_COULD_NOT,
                    confirmed_by_id=ben.id if routine is sports or k % 2 == 0 else None,
                    created_at=said, updated_at=said))
    session.execute(insert(Rsvp), rsvps)
    session.execute(insert(Presence), presences)
    by_key = {"meals": meals, "sports": sports}
    session.execute(insert(GoodThing), [
        dict(routine_id=by_key[kind].id, original_start=latest[by_key[kind].id],
             user_id=users[who].id, body=body,
             created_at=latest[by_key[kind].id] + timedelta(hours=4))
        for kind, who, body in GOOD_THINGS
    ])
    session.execute(
        update(Membership)
        .where(Membership.group_id == meals.group_id, Membership.user_id == users["dev"].id)
        .values(buddy_id=ben.id)
    )
    first, last = (latest[meals.id] - timedelta(weeks=k - 1)
                   for k in (max(SUPPER_BREAK), min(SUPPER_BREAK)))
    planned = plan_break(session, meals, BREAK_LABEL, (first - timedelta(days=3)).date(),
                         (last + timedelta(days=3)).date(), by=users["ada"].id)
    planned.planned.created_at = demo.now - timedelta(weeks=max(SUPPER_BREAK) + 2)
    session.flush()


def add_quiz(session: Session, demo: Demo) -> Routine:
    """A weekly pub quiz whose first date is tomorrow evening, with Ben, Dev and Ada going and
    Ben's reminders the evening before at ``REMINDER_HOUR`` of his own clock."""
    from planner.scheduling.recurrence import WEEKDAYS

    supper = demo.groups["thursday-supper-club"]
    users = demo.users
    day = local_today(demo.now, supper.timezone) + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 19, 30)
    quiz = Routine(
        group_id=supper.id,
        activity_key="gathering",
        title=QUIZ_TITLE,
        description="Six rounds, teams of four, chips for the winners.",
        location="Zum Fuchs, Kastanienallee 12, Berlin",
        timezone=supper.timezone,
        start=start,
        duration_minutes=150,
        rrule=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[start.weekday()]}",
        details={},
        created_by_id=users["ben"].id,
    )
    session.add(quiz)
    session.flush()
    for key, status in (("ben", "going"), ("dev", "going"), ("ada", "going"),
                        ("chloe", "maybe")):
        session.add(Rsvp(routine_id=quiz.id, original_start=start, user_id=users[key].id,
                         status=status, answered_at=demo.now, created_at=demo.now,
                         updated_at=demo.now))
    session.add(MailSettings(user_id=users["ben"].id, reminder="evening",
                             reminder_hour=REMINDER_HOUR, comments=False, updated_at=demo.now))
    demo.next_dates[quiz.id] = start
    session.flush()
    return quiz
