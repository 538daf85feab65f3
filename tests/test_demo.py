"""``planner demo``: people and groups to click through; ``--if-empty`` leaves real data alone."""

from __future__ import annotations

from sqlalchemy import func, select

from planner.cli import cli
from planner.dev.demo import PASSWORD
from planner.models import Group, Membership, Routine, User


def count(db, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_demo_loads_people_groups_and_routines(runner, db, client):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "ada@example.org" in result.output and PASSWORD in result.output
    assert count(db, User) == 4
    groups = {g.name: g for g in db.scalars(select(Group))}
    assert set(groups) == {"Thursday Supper Club", "Sunday Football"}
    assert groups["Thursday Supper Club"].visibility == "public"
    assert groups["Sunday Football"].visibility == "private"
    assert count(db, Routine) >= 2
    owners = db.scalars(select(Membership.group_id).where(Membership.role == "owner")).all()
    assert sorted(owners) == sorted(g.id for g in groups.values())
    # The documented login works.
    response = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_demo_if_empty_skips_a_used_database(runner, db, make_user):
    make_user()
    result = runner.invoke(cli, ["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "no demo data loaded" in result.output
    assert "http://127.0.0.1:5000" in result.output
    assert count(db, User) == 1
    assert count(db, Group) == 0


def test_demo_if_empty_loads_once(runner, db):
    assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
    assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
    assert count(db, User) == 4
