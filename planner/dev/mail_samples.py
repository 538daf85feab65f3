"""The sample mails of docs/reminders.md, made by the code that sends the real ones.

``python -m planner.dev.mail_samples`` builds a small supper club in a temporary SQLite file,
moves an injected clock through one week, runs the same jobs the worker runs (the digest, the
minute scan of reminders and nudges, the notice flush) and an organizer's message, and prints
each queued mail as the recipient reads its text part, signed tokens cut short. Pasting its
output into the docs keeps them honest: what they show is what the templates say.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ZONE = "Europe/Berlin"
LAST = datetime(2027, 10, 7, 19, 0)  # Thursday: the previous supper, over
NEXT = LAST + timedelta(weeks=1)  # Thursday 14 October 2027, 19:00 Berlin (17:00 UTC)
DIGEST_MINUTE = datetime(2027, 10, 11, 6, 0)  # Monday 08:00 Berlin
ASK_MINUTE = datetime(2027, 10, 12, 17, 0)  # 48 hours before
REMINDER_MINUTE = datetime(2027, 10, 13, 16, 0)  # the evening before, 18:00 Berlin
TOKEN = re.compile(r"/(a|u)/[\w.\-]{20,}")


def _cut(text: str) -> str:
    """Signed tokens shortened to ``<token>``: long, and different on every run."""
    return TOKEN.sub(lambda m: f"/{m.group(1)}/<token>", text)


def _world(session: Any) -> dict[str, Any]:
    from planner.accounts.passwords import hash_password
    from planner.models import (
        GoodThing,
        Group,
        MailSettings,
        Membership,
        Presence,
        Regular,
        Routine,
        Rsvp,
        Slot,
        User,
    )  # fmt: skip

    people = {n: User(email=f"{n.lower()}@example.org", display_name=f"{n} {s}",
                      password_hash=hash_password("x"), timezone=ZONE)
              for n, s in (("Olga", "Owner"), ("Gina", "Regular"), ("Pia", "Plain"),
                           ("Sam", "New"), ("Quinn", "Quiet"))}  # fmt: skip
    group = Group(slug="supper-club", name="Supper Club", visibility="private", timezone=ZONE)
    session.add_all([group, *people.values()])
    session.flush()
    routine = Routine(group_id=group.id, activity_key="meals", title="Thursday supper",
                      timezone=ZONE, start=LAST, duration_minutes=150, rrule="FREQ=WEEKLY",
                      location="Invalidenstraße 50, Berlin", ask_hours_before=48,
                      details={"style": "potluck", "rotate_hosts": True, "hosts": []},
                      created_by_id=people["Olga"].id)  # fmt: skip
    session.add(routine)
    session.flush()
    session.add_all(Slot(routine_id=routine.id, label=label, capacity=1, position=n)
                    for n, label in enumerate(("Main", "Salad", "Dessert")))
    for name, user in people.items():
        session.add(Membership(group_id=group.id, user_id=user.id,
                               role="owner" if name == "Olga" else "member"))
    session.add(Regular(routine_id=routine.id, user_id=people["Gina"].id))
    for name in ("Olga", "Pia"):
        session.add(Rsvp(routine_id=routine.id, original_start=LAST, user_id=people[name].id,
                         status="going"))
        session.add(Presence(routine_id=routine.id, original_start=LAST,
                             user_id=people[name].id, came=True))
    for name in ("Olga", "Pia", "Sam"):
        session.add(Rsvp(routine_id=routine.id, original_start=NEXT, user_id=people[name].id,
                         status="going"))
    session.add(GoodThing(routine_id=routine.id, original_start=LAST,
                          user_id=people["Olga"].id, body="Pia's lentil soup"))
    session.add(GoodThing(routine_id=routine.id, original_start=LAST,
                          user_id=people["Pia"].id, body="we finally finished the puzzle"))
    session.add(MailSettings(user_id=people["Quinn"].id, digest_weekday=0, comments=False))
    session.commit()
    return {"group": group, "routine": routine, **people}


def samples() -> list[tuple[str, str]]:
    """``[(heading, text)]``: each sample mail as its recipient reads it."""
    from sqlalchemy import select

    from planner.db import get_session
    from planner.dev.bench_scan import make_app
    from planner.models import Group, OutboxMessage, Routine, User
    from planner.notify import changes, digest, messages, notices, reminders
    from planner.routines.overrides import cancel_occurrence
    from planner.scheduling import recurrence
    from planner.scheduling.series import series_of

    with tempfile.TemporaryDirectory(prefix="planner-samples-") as tmp:
        app = make_app(Path(tmp))
        app.config["SITE_URL"] = "https://planner.example.org"
        clock = [DIGEST_MINUTE]
        app.config["CLOCK"] = lambda: clock[0]
        found: list[tuple[str, str]] = []

        def take(heading: str, kind: str, to: str, job: Callable[[], Any] | None = None) -> None:
            if job is not None:
                with app.app_context():  # as the worker runs its jobs
                    job()
            with app.app_context():
                row = get_session().scalar(select(OutboxMessage).where(
                    OutboxMessage.kind == kind, OutboxMessage.recipient == to)
                    .order_by(OutboxMessage.id.desc()))  # fmt: skip
                assert row is not None, (kind, to)
                headers = "".join(f"{k}: {_cut(v)}\n"
                                  for k, v in sorted((row.headers or {}).items())
                                  if k.startswith("List-"))  # fmt: skip
                text = _cut(row.body_text.replace("\r\n", "\n"))
                found.append((heading, f"To: {row.recipient}\nSubject: {row.subject}\n"
                                       f"{headers}\n{text.rstrip()}\n"))

        with app.app_context():
            world = _world(get_session())
        emails = {k: v.email for k, v in world.items() if hasattr(v, "email")}
        take("The weekly digest", "digest", emails["Quinn"], lambda: digest.scan(app))
        clock[0] = ASK_MINUTE
        take("Asking for answers (the nudge)", "ask", emails["Quinn"],
             lambda: reminders.scan(app))
        clock[0] = REMINDER_MINUTE
        with app.app_context():
            reminders.scan(app)
        take("The reminder: a regular, with a newcomer coming", "reminder", emails["Gina"])
        take("The reminder: the newcomer's own", "reminder", emails["Sam"])

        def cancel() -> None:
            with app.app_context():
                session = get_session()
                routine = session.get_one(Routine, world["routine"].id)
                occurrence = recurrence.occurrence_at(series_of(routine),
                                                      NEXT + timedelta(weeks=1))
                assert occurrence is not None
                changes.cancelled(session, routine, occurrence.original_start,
                                  actor_id=world["Olga"].id)
                cancel_occurrence(session, routine, occurrence, "The kitchen is being painted")
                session.commit()
            clock[0] = REMINDER_MINUTE + timedelta(minutes=10)
            with app.app_context():
                notices.flush(app)

        take("A notice: a date cancelled", "notice-cancelled", emails["Gina"], cancel)

        def message() -> None:
            with app.test_request_context():
                session = get_session()
                routine = session.get_one(Routine, world["routine"].id)
                occurrence = recurrence.occurrence_at(series_of(routine), NEXT)
                assert occurrence is not None
                messages.send_message(
                    session, sender=session.get_one(User, world["Olga"].id),
                    group=session.get_one(Group, world["group"].id),
                    routine=routine, occurrence=occurrence, audience="going",
                    text="The door downstairs is broken: ring 3 and I'll come down.")
                session.commit()

        take("An organizer's message", "message", emails["Pia"], message)
        app.extensions["planner_db"].engine.dispose()
    return found


def main() -> None:
    for heading, text in samples():
        print(f"### {heading}\n\n```text\n{text}```\n")


if __name__ == "__main__":
    main()
