"""Scan bench (``make bench`` prints it): the minute scan of reminders and nudges over 5,000
members in 200 groups, each group with one weekly routine.

Why statements and not only time: the scan runs every minute on every site, so what must not
happen is work that grows with the site per minute. Its reads are bulk reads (see
:mod:`planner.notify.reminders`), so the number of statements of one minute is the same for
1,000 members as for 5,000, but for the outbox's multi-row INSERT, one per
:data:`~planner.mail.outbox.INSERT_BATCH` mails queued (a bound on statement size, printed on
its own); the time grows with the rows read and the mails written. Printed at
two sizes, for the two kinds of minute:

* **due**: the evening before a seventh of the routines (one weekday's), every reminder and
  nudge of them queued: reads, the belonging lines, rendering, inserting;
* **again**: the next minute, everything already queued: the reads up to the outbox keys, what
  almost every minute of a site costs (weekly routines always have a date within the
  reminder lead, so there is no emptier minute);

and the scan time per 1,000 members. Each member is going to their routine's next date,
one in five as a regular, one in three also went last time; one in ten routines asks for
answers two days ahead; the last date has good things. SQLite, one process.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

GROUPS = 200
MEMBERS = 5_000
ZONE = "Europe/Berlin"
#: Monday 6 September 2027, 19:00 Berlin (CEST): the first weekday's routines start then.
FIRST = datetime(2027, 9, 6, 19, 0)
#: The Sunday before, 18:00 Berlin (16:00 UTC): the evening-before reminder of Monday's dates.
DUE_MINUTE = datetime(2027, 9, 5, 16, 0)


def populate(session: Any, groups: int, members: int, tag: str = "") -> None:
    """``groups`` groups of ``members // groups`` people each (owner included), one weekly
    routine per group on one of seven weekdays, answered as the module docstring says.
    Bulk inserts: building 5,000 members takes seconds, not minutes."""
    from sqlalchemy import insert, select

    from planner.models import GoodThing, Group, Membership, Presence, Regular, Routine, Rsvp, User

    per_group = max(members // groups, 2)
    session.execute(insert(User), [
        {"email": f"m{tag}{n}@bench.example.org", "display_name": f"Member {tag}{n}",
         "password_hash": "x", "timezone": ZONE} for n in range(groups * per_group)])
    ids = list(session.scalars(select(User.id).where(User.email.like(f"m{tag}%@bench.example.org"))
                               .order_by(User.id)))  # fmt: skip
    session.execute(insert(Group), [
        {"slug": f"bench{tag}-{g}", "name": f"Bench group {tag}{g}", "visibility": "private",
         "timezone": ZONE} for g in range(groups)])
    group_ids = list(session.scalars(select(Group.id).where(Group.slug.like(f"bench{tag}-%"))
                                     .order_by(Group.id)))  # fmt: skip
    session.execute(insert(Routine), [
        {"group_id": gid, "activity_key": "gathering", "title": f"Weekly {g}",
         "timezone": ZONE, "start": FIRST - timedelta(weeks=4) + timedelta(days=g % 7),
         "duration_minutes": 120, "rrule": "FREQ=WEEKLY",
         "ask_hours_before": 48 if g % 10 == 0 else None,
         "created_by_id": ids[g * per_group]} for g, gid in enumerate(group_ids)])
    routines = list(session.execute(select(Routine.id, Routine.group_id, Routine.start)
                                    .where(Routine.group_id.in_(group_ids))
                                    .order_by(Routine.id)))  # fmt: skip
    memberships, regulars, rsvps, presence, good = [], [], [], [], []
    for g, (routine_id, group_id, start) in enumerate(routines):
        nxt = start + timedelta(weeks=4)
        last = nxt - timedelta(weeks=1)
        for n in range(per_group):
            user_id = ids[g * per_group + n]
            memberships.append({"group_id": group_id, "user_id": user_id,
                                "role": "owner" if n == 0 else "member"})
            if n % 5 == 1:
                regulars.append({"routine_id": routine_id, "user_id": user_id})
            elif n % 7 != 3:  # a few say nothing (the nudge's people)
                rsvps.append({"routine_id": routine_id, "original_start": nxt,
                              "user_id": user_id, "status": "going"})
            if n % 3 == 0:
                rsvps.append({"routine_id": routine_id, "original_start": last,
                              "user_id": user_id, "status": "going"})
                if n % 2 == 0:
                    presence.append({"routine_id": routine_id, "original_start": last,
                                     "user_id": user_id, "came": True})
                    if n < 6:
                        good.append({"routine_id": routine_id, "original_start": last,
                                     "user_id": user_id, "body": f"good thing {n}"})
    for model, rows in ((Membership, memberships), (Regular, regulars), (Rsvp, rsvps),
                        (Presence, presence), (GoodThing, good)):
        if rows:
            session.execute(insert(model), rows)
    session.commit()


@dataclass(frozen=True)
class Minute:
    queued: int
    statements: int
    inserts: int  # of which multi-row outbox INSERTs: one per INSERT_BATCH mails, by design
    ms: float

    @property
    def fixed(self) -> int:
        """The statements that must not grow with the site: all but the insert batches."""
        return self.statements - self.inserts


def scan_minute(app: Any, now: datetime) -> Minute:
    """One minute's :func:`planner.notify.reminders.scan` at ``now``: what it queued, how many
    statements it sent to the database, how long it took."""
    from sqlalchemy import event

    from planner.notify import reminders

    app.config["CLOCK"] = lambda: now
    engine = app.extensions["planner_db"].engine
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            began = time.perf_counter()
            queued = reminders.scan(app)
            elapsed = time.perf_counter() - began
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = sum(1 for s in statements if s.lstrip().upper().startswith("INSERT INTO OUTBOX"))
    return Minute(queued, len(statements), inserts, elapsed * 1000)


def make_app(folder: Path) -> Any:
    from planner import create_app, models  # noqa: F401  (models fill Base.metadata)
    from planner.db import Base, make_engine

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder / "instance"),
                       "SECRET_KEY": "bench-" + secrets.token_hex(8),
                       "SITE_URL": "http://planner.bench", "REDIS_URL": None,
                       "RATELIMIT_ENABLED": False})  # fmt: skip


def run(sizes: tuple[tuple[int, int], ...] = ((40, 1_000), (GROUPS, MEMBERS))) -> list[
    dict[str, float]
]:
    """The two minutes at each ``(groups, members)`` size, each in a fresh database."""
    from sqlalchemy import delete

    from planner.db import get_session
    from planner.models import OutboxMessage

    results = []
    for groups, members in sizes:
        with tempfile.TemporaryDirectory(prefix="planner-bench-scan-") as tmp:
            app = make_app(Path(tmp))
            with app.app_context():
                populate(get_session(), groups, members)
            scan_minute(app, DUE_MINUTE)  # compiles the mail templates: not measured
            with app.app_context():
                session = get_session()
                session.execute(delete(OutboxMessage))
                session.commit()
            due = scan_minute(app, DUE_MINUTE)
            again = scan_minute(app, DUE_MINUTE + timedelta(minutes=1))
            app.extensions["planner_db"].engine.dispose()
        results.append({
            "groups": groups, "members": members, "queued": due.queued,
            "due statements": due.statements, "due outbox insert batches": due.inserts,
            "due statements less the inserts": due.fixed,
            "again statements": again.statements,
            "due ms": due.ms, "again ms": again.ms,
            "due ms per 1,000 members": due.ms * 1000 / members,
            "again ms per 1,000 members": again.ms * 1000 / members,
        })  # fmt: skip
    return results


def main_section() -> None:
    """Print the scan figures (called from :func:`planner.dev.bench.main`)."""
    print(f"Scan: one minute of the reminder scan, {MEMBERS:,} members in {GROUPS} groups with "
          "weekly routines (and 1,000 in 40 for comparison); SQLite.")
    results = run()
    names = [k for k in results[0] if k not in ("groups", "members")]
    width = max(len(n) for n in names)
    header = "".join(f"{r['members']:>10,.0f} m" for r in results)
    print(f"  {'':<{width}}  {header}")
    for name in names:
        cells = "".join(f"{r[name]:>12.1f}" if "ms" in name else f"{r[name]:>12.0f}"
                        for r in results)  # fmt: skip
        print(f"  {name:<{width}}  {cells}")
    flat = all(results[0][k] == results[-1][k]
               for k in ("due statements less the inserts", "again statements"))
    print(f"  statements (less the insert batches) the same at both sizes: "
          f"{'met' if flat else 'NOT MET'}")


if __name__ == "__main__":
    main_section()
