"""The rendered-page cache (planner/web/page_cache.py): a second visit is a cache hit, every
write a page shows is on the very next GET, and no page is ever served to someone else.

CSRF is on in this module, so every POST uses the token from a page that may have come from the
cache: a stale or shared token would fail here.
"""

from __future__ import annotations

import re

import pytest

from planner.testing import count_statements
from planner.web.page_cache import CSRF_MARK
from tests.joining import key_of, make_routine, occurrence_path


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def as_user(app):
    """A client logged in through the real form, token and all."""

    def client_for(user):
        client = app.test_client()
        form = {"csrf_token": token(get(client, "/login")), "email": user.email,
                "password": "password"}
        assert client.post("/login", data=form).status_code in (302, 303)
        return client

    return client_for


@pytest.fixture
def club(db, make_user, make_group):
    owner, member, other = make_user("Olga Owner"), make_user("Mia Member"), make_user("Ola")
    group = make_group(owner, name="Suppers", visibility="private", members=[member, other])
    routine = make_routine(db, group, title="Thursday supper", capacity=1)
    return owner, member, other, group, routine


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def statements_of(app, client, path: str) -> tuple[str, int]:
    """The page and how many statements it took, without dropping cached pages."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = app.extensions["planner_db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = get(client, path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return page, len(seen)


def test_a_second_visit_is_a_hit_with_fewer_statements(app, club, as_user):
    _owner, member, _other, group, routine = club
    client = as_user(member)
    path = occurrence_path(group, routine, key_of(routine))
    with count_statements(app) as cold:  # drops cached pages first
        first = get(client, path)
    cache = app.extensions["planner_page_cache"]
    hits = cache.hits
    second, warm = statements_of(app, client, path)
    assert cache.hits == hits + 1
    assert warm < len(cold), (warm, len(cold))
    # The same page, but the login's welcome is shown once and the token is freshly signed.
    assert 'class="flashes"' in first and 'class="flashes"' not in second
    assert token(second) != CSRF_MARK
    assert normal(second) == normal(first)


def normal(page: str) -> str:
    page = re.sub(r'<div class="flashes".*?</div>', "", page, flags=re.DOTALL)
    page = re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]+"', "", page)
    return re.sub(r"\s+", " ", page)


WRITES = ["answer", "comment", "rename", "cancel", "join"]


@pytest.mark.parametrize("write", WRITES)
def test_every_write_shows_on_the_next_get(db, club, as_user, make_user, write):
    owner, member, other, group, routine = club
    key = key_of(routine)
    page_path = occurrence_path(group, routine, key)
    group_path = f"/g/{group.slug}"
    actor = as_user(owner if write == "cancel" else member)
    viewer = as_user(other)
    before = {p: get(viewer, p) for p in (page_path, group_path)}
    get(viewer, page_path)  # now certainly cached for the viewer
    form = {"csrf_token": token(get(actor, page_path))}
    if write == "answer":
        response = actor.post(f"{page_path}/answer", data={**form, "status": "going"})
        expect = {page_path: "Mia Member", group_path: "1 going"}
    elif write == "comment":
        response = actor.post(f"{page_path}/comments", data={**form, "body": "Bringing soup"})
        expect = {page_path: "Bringing soup"}
    elif write == "rename":
        actor.post(f"{page_path}/answer", data={**form, "status": "going"})
        before = {p: get(viewer, p) for p in (page_path, group_path)}
        response = actor.post(
            "/account",
            data={**form, "display_name": "Mia Renamed", "timezone": "Europe/Berlin"},
        )
        expect = {page_path: "Mia Renamed", group_path: "Mia Renamed"}
    elif write == "cancel":
        response = actor.post(f"{page_path}/cancel", data={**form, "reason": "Hall closed",
                                                           "confirm": "yes"})
        expect = {page_path: "Hall closed"}
    else:
        newcomer = make_user("Nina New")
        public = make_routine(db, group, title="Open evening")
        group.visibility = "public"
        db.commit()
        viewer = as_user(owner)
        before = {p: get(viewer, p) for p in (group_path,)}
        actor = as_user(newcomer)
        form = {"csrf_token": token(get(actor, group_path))}
        response = actor.post(f"{group_path}/join", data=form)
        expect = {group_path: "4 members"}
        assert public.id
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    for path, text in expect.items():
        assert text not in before[path], (path, text)
        assert text in get(viewer, path), (path, text)


def test_the_flash_of_a_write_is_on_the_cached_page_once(club, as_user):
    _owner, member, _other, group, routine = club
    client = as_user(member)
    path = occurrence_path(group, routine, key_of(routine))
    page = get(client, path)
    get(client, path)
    response = client.post(f"{path}/answer", data={"csrf_token": token(page), "status": "going"})
    assert response.status_code in (302, 303)
    shown = get(client, path)
    assert "going" in shown and 'class="flashes"' in shown
    assert 'class="flashes"' not in get(client, path)  # a cached copy, without the message


def test_a_cached_page_never_reaches_another_viewer(db, club, as_user, make_user, client):
    owner, member, other, group, routine = club
    path = occurrence_path(group, routine, key_of(routine))
    mine = as_user(member)
    page = get(mine, path)
    mine.post(f"{path}/answer", data={"csrf_token": token(page), "status": "going"})
    get(mine, path)  # shows the flash
    answered = get(mine, path)
    assert normal(get(mine, path)) == normal(answered)  # cached for Mia
    outsider = as_user(make_user("Oscar Outsider"))
    for who in (outsider, client):  # a non-member and a visitor: the private group is hidden
        for p in (path, f"/g/{group.slug}", f"/g/{group.slug}/r/{routine.id}"):
            assert who.get(p).status_code == 404, p
    theirs = get(as_user(other), path)
    assert token(theirs) != token(answered)
    assert "Ola" in theirs.split('class="site"')[1]  # their own name in the navigation
    assert "Mia Member" not in theirs.split("</nav>")[0]
    # Removed from the group, Mia's cached page is gone with her access.
    owner_client = as_user(owner)
    members = get(owner_client, f"/g/{group.slug}/members")
    response = owner_client.post(
        f"/g/{group.slug}/members/{member.id}/remove",
        data={"csrf_token": token(members), "confirm": "yes"},
    )
    assert response.status_code in (302, 303)
    assert mine.get(path).status_code == 404


def test_next_up_and_my_groups_follow_an_answer(club, as_user):
    _owner, member, _other, group, routine = club
    client = as_user(member)
    path = occurrence_path(group, routine, key_of(routine))
    for page in ("/", "/groups/mine"):
        assert "You&#39;re going" not in get(client, page)
        get(client, page)
    before_mine = get(client, "/groups/mine")
    client.post(f"{path}/answer", data={"csrf_token": token(get(client, path)),
                                        "status": "going"})
    get(client, path)  # the flash is shown here
    assert get(client, "/groups/mine") != before_mine
    assert 'data-status="going"' in get(client, "/")
