"""Pages issue a fixed number of SQL statements, however many routines or overrides exist.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event on the app's engine,
so every query a view or template triggers (lazy loads included) is seen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from planner.models import Override, Routine, Rsvp
from planner.testing import count_statements

BERLIN = ZoneInfo("Europe/Berlin")


def statements_for(app, client, path: str) -> list[str]:
    # Warm up (login, first-use caches). Twice: a page hit's access row is read through the
    # feeds' stamps, whose first sight of a URL only learns which stamps to read.
    for _ in range(2):
        assert client.get(path).status_code == 200
    with count_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements


@pytest.fixture
def people(make_user):
    return {"owner": make_user("Olga Owner"), "member": make_user("Mia Member")}


@pytest.fixture
def group(make_group, people):
    return make_group(people["owner"], visibility="private", members=[people["member"]])


@pytest.fixture
def viewer(as_user, people):
    return as_user(people["owner"])


def soon() -> datetime:
    today = datetime.now(BERLIN).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time()).replace(hour=19)


def add_routines(db, group, people, count: int, start: datetime) -> list[Routine]:
    """``count`` weekly routines, each with a cancelled and a moved occurrence and an answer."""
    routines = []
    for n in range(count):
        routine = Routine(
            group_id=group.id,
            activity_key=("gathering", "sports", "meals", "missing-plugin")[n % 4],
            title=f"Routine {n}",
            timezone=("Europe/Berlin", "America/New_York")[n % 2],
            start=start + timedelta(minutes=n),
            duration_minutes=60,
            rrule="FREQ=WEEKLY",
            details={"sport": "Football"} if n % 4 == 1 else {},
        )
        db.add(routine)
        db.flush()
        first = routine.start
        db.add_all(
            [
                Override(routine_id=routine.id, original_start=first + timedelta(days=7),
                         status="cancelled", note="Away"),
                Override(routine_id=routine.id, original_start=first + timedelta(days=14),
                         status="changed", start=first + timedelta(days=15), title="Moved"),
                Rsvp(routine_id=routine.id, original_start=first, user_id=people["member"].id,
                     status="going"),
            ]
        )  # fmt: skip
        routines.append(routine)
    db.commit()
    return routines


@pytest.mark.parametrize("path", ["/g/{slug}", "/g/{slug}/upcoming"])
def test_group_pages_do_not_grow_with_routines(app, db, group, people, viewer, make_group, path):
    counts = {}
    for size in (1, 50):
        target = make_group(people["owner"], name=f"Club {size}", members=[people["member"]])
        add_routines(db, target, people, size, soon())
        statements = statements_for(app, viewer, path.format(slug=target.slug))
        counts[size] = len(statements)
        page = viewer.get(path.format(slug=target.slug)).get_data(as_text=True)
        assert page.count("Routine ") >= size  # every routine is really on the page
    assert counts[1] == counts[50], counts


def test_the_group_page_reads_routines_and_answers_once(app, db, group, people, viewer):
    """Its two lists (every routine with its next date, the next three weeks' dates) come from
    one read: read apart they loaded the routines, overrides and answers twice."""
    add_routines(db, group, people, 3, soon())
    statements = [" ".join(s.split()) for s in statements_for(app, viewer, f"/g/{group.slug}")]
    routines = [s for s in statements if s.startswith("SELECT routines.id, routines.group_id")]
    answers = [s for s in statements if "FROM rsvps JOIN users" in s]
    assert len(routines) == 1, routines
    assert len(answers) == 1, answers
    page = viewer.get(f"/g/{group.slug}").get_data(as_text=True)
    assert page.count("Routine ") >= 3 and "Moved" in page


def add_overrides(db, routine: Routine, count: int) -> None:
    for n in range(count):
        original = routine.start + timedelta(days=7 * (n + 3))
        if n % 2:
            db.add(Override(routine_id=routine.id, original_start=original, status="cancelled"))
        else:
            db.add(Override(routine_id=routine.id, original_start=original, status="changed",
                            start=original + timedelta(hours=1), location="Elsewhere"))  # fmt: skip
    db.commit()


@pytest.mark.parametrize("page", ["routine", "occurrence"])
def test_routine_pages_do_not_grow_with_overrides(app, db, group, people, viewer, page):
    counts = {}
    for size in (1, 50):
        (routine,) = add_routines(db, group, people, 1, soon() - timedelta(days=70))
        add_overrides(db, routine, size)
        path = f"/g/{group.slug}/r/{routine.id}"
        if page == "occurrence":
            path += "/" + (routine.start + timedelta(days=7 * 11)).strftime("%Y%m%dT%H%M")
        counts[size] = len(statements_for(app, viewer, path))
    assert counts[1] == counts[50], counts


def test_an_answer_reads_its_group_and_routine_in_one_statement(app, db, group, people, as_user):
    """Every member's write to a routine starts with the group, the membership and the routine
    with its overrides, read together; the count stays the same with fifty more overrides."""
    member = as_user(people["member"])
    counts = {}
    for size in (1, 50):
        (routine,) = add_routines(db, group, people, 1, soon())
        add_overrides(db, routine, size)
        key = (routine.start + timedelta(days=21)).strftime("%Y%m%dT%H%M")
        path = f"/g/{group.slug}/r/{routine.id}/{key}/answer"
        assert member.get(f"/g/{group.slug}/r/{routine.id}/{key}").status_code == 200  # warm
        with count_statements(app) as statements:
            response = member.post(path, data={"status": "going"})
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        flat = [" ".join(s.split()) for s in statements]
        reads = [s for s in flat if s.startswith("SELECT groups.id")]
        assert len(reads) == 1, reads
        assert "JOIN routines ON" in reads[0] and "JOIN overrides" in reads[0], reads[0]
        assert not [s for s in flat if s.startswith("SELECT routines.id")], flat
        counts[size] = len(statements)
    assert counts[1] == counts[50], counts
    response = member.post(path, data={"status": "maybe"})  # the answer changes as asked
    assert response.status_code == 303
    db.expire_all()
    mine = (
        (Rsvp.routine_id == routine.id)
        & (Rsvp.original_start == routine.start + timedelta(days=21))
        & (Rsvp.user_id == people["member"].id)
    )
    saved = db.scalars(select(Rsvp.status).where(mine)).all()
    assert saved == ["maybe"], saved
