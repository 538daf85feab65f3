"""Groups: creating, editing, the page and directory, joining, leaving, roles, last owner."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from planner.models import Group, Membership, Routine
from planner.testing import count_statements
from planner.web.forms import slugify

FORM = {
    "name": "Thursday Supper Club",
    "slug": "",
    "description": "We eat together.",
    "visibility": "public",
    "timezone": "Europe/Berlin",
}

YES = {"confirm": "yes"}  # the second step of removing a member


def page(response) -> str:
    return response.get_data(as_text=True)


def groups(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Group.id)))


def role_of(db, group, user) -> str | None:
    db.expire_all()
    return db.scalar(
        select(Membership.role).where(
            Membership.group_id == group.id, Membership.user_id == user.id
        )
    )


def test_slugify():
    assert slugify("Thursday Supper Club") == "thursday-supper-club"
    assert slugify("  Café  Crème!! ") == "cafe-creme"
    assert slugify("!!!") == ""
    assert len(slugify("long name " * 20)) <= 64


def test_create_group_makes_the_creator_owner(as_user, make_user, db):
    ada = make_user()
    client = as_user(ada)
    assert 'value="Europe/Berlin"' in page(client.get("/groups/new"))
    response = client.post("/groups/new", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/g/thursday-supper-club")
    group = db.scalar(select(Group))
    assert (group.name, group.visibility, group.timezone) == (
        "Thursday Supper Club",
        "public",
        "Europe/Berlin",
    )
    assert role_of(db, group, ada) == "owner"
    html = page(client.get("/g/thursday-supper-club"))
    assert "Thursday Supper Club" in html and "We eat together." in html
    assert "1 member" in html
    assert "Invite people" in html and "Edit group" in html


def test_create_with_typed_slug(as_user, make_user, db):
    response = as_user(make_user()).post(
        "/groups/new", data={**FORM, "slug": "Supper-2026", "visibility": "private"}
    )
    assert response.status_code == 302
    group = db.scalar(select(Group))
    assert group.slug == "supper-2026"  # lower-cased
    assert group.visibility == "private"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Give the group a name."),
        ({"name": "x" * 121}, "at most 120 characters"),
        ({"slug": "ab"}, "Use 3 to 64 characters."),
        ({"slug": "x" * 65}, "Use 3 to 64 characters."),
        ({"slug": "under_score"}, "lowercase letters, digits and single hyphens"),
        ({"slug": "two--hyphens"}, "lowercase letters, digits and single hyphens"),
        ({"slug": "-leading"}, "lowercase letters, digits and single hyphens"),
        ({"slug": "new"}, "is reserved"),
        ({"slug": "directory"}, "is reserved"),
        ({"name": "!!!"}, "Could not make a web address from that name"),
        ({"name": "Hi"}, "Could not make a web address from that name"),
        ({"visibility": "secret"}, "Not a valid choice"),
        ({"visibility": ""}, "Choose public or private."),
        ({"timezone": "Nowhere/Land"}, "Choose a timezone from the list"),
        ({"description": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_create_rejects_bad_input(as_user, make_user, db, changes, message):
    response = as_user(make_user()).post("/groups/new", data={**FORM, **changes})
    assert response.status_code == 400
    assert message in page(response)
    assert groups(db) == 0


def test_taken_slug(as_user, make_user, make_group, db):
    owner = make_user()
    make_group(owner, slug="thursday-supper-club")
    client = as_user(make_user())
    for data in (FORM, {**FORM, "slug": "Thursday-Supper-Club"}):
        response = client.post("/groups/new", data=data)
        assert response.status_code == 400
        assert "That web address is taken" in page(response)
    assert groups(db) == 1


def test_edit_group(as_user, make_user, make_group, db):
    owner, organizer = make_user(), make_user()
    group = make_group(owner, organizers=[organizer])
    make_group(owner, slug="taken-slug")
    version = group.version
    client = as_user(organizer)
    data = {**FORM, "name": "Supper", "slug": "taken-slug", "visibility": "private"}
    response = client.post(f"/g/{group.slug}/edit", data=data)
    assert response.status_code == 400
    assert "That web address is taken" in page(response)
    response = client.post(f"/g/{group.slug}/edit", data={**data, "slug": "supper"})
    assert response.status_code == 302
    db.expire_all()
    group = db.get(Group, group.id)
    assert (group.slug, group.name, group.visibility) == ("supper", "Supper", "private")
    assert group.version > version
    assert client.get("/g/supper").status_code == 200


def test_delete_group(as_user, make_user, make_group, db):
    owner = make_user()
    group = make_group(owner, slug="doomed-club")
    db.add(
        Routine(
            group_id=group.id,
            title="Supper",
            timezone="UTC",
            start=datetime(2026, 1, 1, 19),
            details={},
        )
    )
    db.commit()
    client = as_user(owner)
    response = client.post("/g/doomed-club/delete", data={"confirm_slug": "wrong"})
    assert response.status_code == 400
    assert "Type doomed-club exactly" in page(response)
    assert groups(db) == 1
    response = client.post("/g/doomed-club/delete", data={"confirm_slug": "doomed-club"})
    assert response.status_code == 302
    assert groups(db) == 0
    assert db.scalar(select(func.count(Routine.id))) == 0
    assert client.get("/g/doomed-club").status_code == 404


def test_directory_lists_public_groups_only(client, make_user, make_group):
    owner = make_user()
    make_group(owner, name="Open Walks", slug="open-walks")
    make_group(owner, name="Secret Chess", slug="secret-chess", visibility="private")
    html = page(client.get("/groups"))
    assert "Open Walks" in html
    assert "Secret Chess" not in html


def test_private_group_hidden_from_outsiders(client, as_user, make_user, make_group):
    owner, outsider = make_user(), make_user()
    make_group(owner, slug="secret-chess", visibility="private")
    assert client.get("/g/secret-chess").status_code == 404
    assert as_user(outsider).get("/g/secret-chess").status_code == 404
    assert as_user(outsider).post("/g/secret-chess/join").status_code == 404
    assert as_user(owner).get("/g/secret-chess").status_code == 200


def test_join_and_leave_public_group(as_user, make_user, make_group, db):
    owner, ben = make_user(), make_user()
    group = make_group(owner)
    client = as_user(ben)
    assert "Join Thursday Supper Club" in page(client.get(f"/g/{group.slug}"))
    assert client.post(f"/g/{group.slug}/join").status_code == 302
    assert role_of(db, group, ben) == "member"
    response = client.post(f"/g/{group.slug}/join", follow_redirects=True)
    assert "already a member" in page(response)
    assert db.scalar(select(func.count(Membership.id))) == 2
    assert client.post(f"/g/{group.slug}/leave").status_code == 302
    assert role_of(db, group, ben) is None


def test_last_owner_cannot_leave(as_user, make_user, make_group, db):
    owner, member = make_user(), make_user()
    group = make_group(owner, members=[member])
    client = as_user(owner)
    response = client.post(f"/g/{group.slug}/leave", follow_redirects=True)
    assert "needs at least one owner" in page(response)
    assert role_of(db, group, owner) == "owner"
    response = client.post(
        f"/g/{group.slug}/members/{owner.id}/remove", data=YES, follow_redirects=True
    )
    assert "needs at least one owner" in page(response)
    assert role_of(db, group, owner) == "owner"
    response = client.post(
        f"/g/{group.slug}/members/{owner.id}/role", data={"role": "member"}, follow_redirects=True
    )
    assert "needs at least one owner" in page(response)
    assert role_of(db, group, owner) == "owner"
    # After handing over, leaving works.
    client.post(f"/g/{group.slug}/members/{member.id}/role", data={"role": "owner"})
    assert role_of(db, group, member) == "owner"
    assert client.post(f"/g/{group.slug}/leave").status_code == 302
    assert role_of(db, group, owner) is None


def test_role_rules(as_user, make_user, make_group, db):
    owner, organizer, member, other = make_user(), make_user(), make_user(), make_user()
    group = make_group(owner, organizers=[organizer], members=[member, other])
    base = f"/g/{group.slug}/members"
    as_organizer = as_user(organizer)

    def set_role(client, user, role) -> int:
        return client.post(f"{base}/{user.id}/role", data={"role": role}).status_code

    # Organizers manage members and organizers ...
    assert set_role(as_organizer, member, "organizer") == 303
    assert role_of(db, group, member) == "organizer"
    assert set_role(as_organizer, member, "member") == 303
    assert role_of(db, group, member) == "member"
    # ... but never make or touch owners.
    assert set_role(as_organizer, member, "owner") == 403
    assert set_role(as_organizer, owner, "member") == 403
    assert as_organizer.post(f"{base}/{owner.id}/remove").status_code == 403
    assert role_of(db, group, owner) == "owner"
    # Plain members manage nobody.
    as_member = as_user(member)
    assert set_role(as_member, other, "organizer") == 403
    assert as_member.post(f"{base}/{other.id}/remove").status_code == 403
    # A bad role value is a message, not a change.
    response = as_organizer.post(
        f"{base}/{other.id}/role", data={"role": "admin"}, follow_redirects=True
    )
    assert "Choose owner, organizer or member." in page(response)
    assert role_of(db, group, other) == "member"
    # Someone who is not in the group is a 404.
    stranger = make_user()
    assert as_organizer.post(f"{base}/{stranger.id}/remove").status_code == 404
    # Organizers remove members; owners remove organizers too.
    assert as_organizer.post(f"{base}/{other.id}/remove", data=YES).status_code == 303
    assert role_of(db, group, other) is None
    assert as_user(owner).post(f"{base}/{organizer.id}/remove", data=YES).status_code == 303
    assert role_of(db, group, organizer) is None


def test_members_page(as_user, make_user, make_group):
    owner, organizer, member = make_user("Olga"), make_user("Otto"), make_user("Mia")
    group = make_group(owner, organizers=[organizer], members=[member])
    html = page(as_user(organizer).get(f"/g/{group.slug}/members")).split("<h1>")[1]
    assert html.index("Olga") < html.index("Otto") < html.index("Mia")
    assert f"/members/{member.id}/remove" in html
    assert f"/members/{owner.id}/remove" not in html  # organizers don't get owner controls
    html = page(as_user(member).get(f"/g/{group.slug}/members"))
    assert "Olga" in html and "/remove" not in html


def test_two_owners_demoting_each_other_at_once_leave_one(app, make_user, make_group, db):
    first, second = make_user(), make_user()
    group = make_group(first)
    db.add(Membership(group_id=group.id, user_id=second.id, role="owner"))
    db.commit()
    clients = {}
    for actor, target in ((first, second), (second, first)):
        client = app.test_client()
        client.post("/login", data={"email": actor.email, "password": "password"})
        clients[target.id] = client
    barrier = threading.Barrier(2)
    statuses = []

    def demote(target_id: int) -> None:
        barrier.wait()
        response = clients[target_id].post(
            f"/g/{group.slug}/members/{target_id}/role", data={"role": "member"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=demote, args=(uid,)) for uid in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) in ([303, 303], [303, 403])
    db.rollback()  # end the test's own read transaction: see what the threads committed
    owners = db.scalar(
        select(func.count(Membership.id)).where(
            Membership.group_id == group.id, Membership.role == "owner"
        )
    )
    assert owners == 1


@pytest.mark.parametrize("path", ["/groups", "/g/{slug}", "/g/{slug}/members"])
def test_statements_do_not_grow_with_data(app, db, as_user, make_user, make_group, path):
    owner = make_user()
    group = make_group(owner, slug="counted-club")
    client = as_user(owner)

    def measure() -> int:
        db.expunge_all()  # nothing cached in the shared session: count every statement
        with count_statements(app) as seen:
            assert client.get(path.format(slug=group.slug)).status_code == 200
        return len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))])

    small = measure()
    for n in range(12):
        other = make_user()
        make_group(other, name=f"Group {n}", members=[owner])
        db.add(Membership(group_id=group.id, user_id=other.id, role="member"))
    db.commit()
    assert measure() == small
