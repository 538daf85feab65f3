"""A page served from the page cache reads nothing but its person (planner/web/page_cache.py):
the group's access and the viewer's groups come from entries the feeds' stamps keep current
(planner/feeds/versions.py). Every change a page shows is still on the very next GET, under a
single process, several processes sharing SQLite's stamps, and the PostgreSQL fallback (several
processes without Redis: the stamps are not trusted and every hit reads the database).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from planner.testing import count_statements
from tests.joining import key_of, make_routine, occurrence_path

SINGLE: dict[str, bool] = {}
SEVERAL = {"wsgi.multiprocess": True}


@pytest.fixture(params=["single", "several"])
def environ(request):
    return SINGLE if request.param == "single" else SEVERAL


@pytest.fixture
def club(db, make_user, make_group):
    owner, member, other = make_user("Olga Owner"), make_user("Mia Member"), make_user("Ola")
    group = make_group(owner, name="Suppers", visibility="private", members=[member, other])
    routine = make_routine(db, group, title="Thursday supper", capacity=4)
    return owner, member, other, group, routine


def pages(group, routine) -> list[str]:
    return [
        f"/g/{group.slug}",
        f"/g/{group.slug}/r/{routine.id}",
        occurrence_path(group, routine, key_of(routine)),
        "/",
        "/groups/mine",
    ]


class Visitor:
    """A logged-in client whose every request carries ``environ``."""

    def __init__(self, client, environ):
        self.client, self.environ = client, environ

    def get(self, path: str):
        return self.client.get(path, environ_overrides=self.environ)

    def page(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, **data):
        response = self.client.post(path, data=data, environ_overrides=self.environ)
        assert response.status_code in (302, 303), (path, response.get_data(as_text=True)[:300])
        return response

    def warm(self, *paths: str) -> None:
        """First sight learns the stamps, the second stores the entries, the third is a hit."""
        for path in paths:
            for _ in range(3):
                self.get(path)


@contextmanager
def selects(app):
    """Every SELECT run on the app's engine and the feeds' reader, page cache kept."""
    from planner.feeds.sources import reader

    with app.test_request_context():
        feeds = reader()
    with count_statements(app, feeds, keep_pages=True) as statements:
        seen: list[str] = []
        yield seen
    seen.extend(s for s in statements if s.lstrip().upper().startswith("SELECT"))


def test_a_warm_page_hit_reads_only_its_person(app, backend, club, as_user, environ):
    _owner, member, _other, group, routine = club
    visitor = Visitor(as_user(member), environ)
    trusted = backend == "sqlite" or environ is SINGLE
    for path in pages(group, routine):
        visitor.warm(path)
        cache = app.extensions["planner_page_cache"]
        hits = cache.hits
        with selects(app) as seen:
            visitor.page(path)
        assert cache.hits == hits + 1, path
        # The person's own row (none when the test's session already holds it) and, but for
        # the fallback, nothing else: the access and the versions came from the stamps.
        others = [s for s in seen if "FROM users" not in s]
        if trusted:
            assert others == [], (path, others)
        else:
            assert len(others) == 1 and "groups" in others[0], (path, others)


def test_an_outsider_gets_404_before_any_lookup(app, club, as_user, make_user, client, environ):
    _owner, _member, _other, group, routine = club
    outsider = Visitor(as_user(make_user("Oscar Outsider")), environ)
    anonymous = Visitor(client, environ)
    for who in (outsider, anonymous):
        for path in pages(group, routine)[:3]:
            for _ in range(3):
                assert who.get(path).status_code == 404, path


CHANGES = ["answer", "promote", "demote", "leave", "remove", "private", "delete", "join",
           "rename"]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES)
def test_the_next_get_sees_the_change(db, club, as_user, make_user, change, environ):
    owner, member, other, group, routine = club
    slug = group.slug
    occurrence = occurrence_path(group, routine, key_of(routine))
    group_path, routine_path = f"/g/{slug}", f"/g/{slug}/r/{routine.id}"
    viewer = Visitor(as_user(member), environ)
    organizer = Visitor(as_user(owner), environ)
    viewer.warm(*pages(group, routine))

    if change == "answer":
        Visitor(as_user(other), environ).post(f"{occurrence}/answer", status="going")
        assert "Ola" in viewer.page(occurrence)
        assert "1 going" in viewer.page(group_path)
    elif change in ("promote", "demote"):
        role = f"/g/{slug}/members/{member.id}/role"
        assert "Edit group" not in viewer.page(group_path)
        organizer.post(role, role="organizer")
        assert "Edit group" in viewer.page(group_path)
        viewer.warm(*pages(group, routine))
        if change == "demote":
            organizer.post(role, role="member")
            assert "Edit group" not in viewer.page(group_path)
    elif change in ("leave", "remove"):
        if change == "leave":
            viewer.post(f"/g/{slug}/leave")
        else:
            organizer.post(f"/g/{slug}/members/{member.id}/remove", confirm="yes")
        for path in (group_path, routine_path, occurrence):
            assert viewer.get(path).status_code == 404, path
        assert "Suppers" not in viewer.page("/groups/mine")
        assert "Thursday supper" not in viewer.page("/")
    elif change == "private":
        group.visibility = "public"
        db.commit()
        outsider = Visitor(as_user(make_user("Oscar Outsider")), environ)
        outsider.warm(group_path, routine_path, occurrence)
        assert outsider.get(group_path).status_code == 200
        organizer.post(
            f"/g/{slug}/edit", name="Suppers", slug=slug, description="", visibility="private",
            timezone=group.timezone, language="",
        )
        for path in (group_path, routine_path, occurrence):
            assert outsider.get(path).status_code == 404, path
        assert viewer.get(group_path).status_code == 200
    elif change == "delete":
        organizer.post(f"/g/{slug}/delete", confirm_slug=slug)
        for path in (group_path, routine_path, occurrence):
            assert viewer.get(path).status_code == 404, path
        assert "Suppers" not in viewer.page("/groups/mine")
        assert "Thursday supper" not in viewer.page("/")
    elif change == "join":
        group.visibility = "public"
        db.commit()
        newcomer = Visitor(as_user(make_user("Nina New")), environ)
        newcomer.warm("/", "/groups/mine", group_path)
        assert "Suppers" not in newcomer.page("/groups/mine")
        assert "Thursday supper" not in newcomer.page("/")
        before = viewer.page(group_path)
        newcomer.post(f"/g/{slug}/join")
        assert "Suppers" in newcomer.page("/groups/mine")
        assert "Thursday supper" in newcomer.page("/")
        assert "Join Suppers" not in newcomer.page(group_path)
        assert viewer.page(group_path) != before  # one member more
    else:
        viewer.post("/account", display_name="Mia Renamed", timezone="Europe/Berlin")
        for path in pages(group, routine):
            assert "Mia Renamed" in viewer.page(path), path
