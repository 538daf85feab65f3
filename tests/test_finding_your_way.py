"""Finding your way (issue 13): My groups, the group page's routines, feeds linked, the
navigation, and their query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from planner.models import Group, Membership, Regular, Rsvp
from tests.joining import answer_path, key_of, make_routine, next_week_start, occurrence_path
from tests.test_dashboard import page_statements, populate


@pytest.fixture
def far_routine(db, make_user, make_group):
    """A private group whose only routine starts 30 days from now."""
    alice, bob = make_user("Alice"), make_user("Bob")
    group = make_group(alice, name="Kitchen Table", members=[bob], visibility="private")
    routine = make_routine(db, group, title="Weekly meal", start=next_week_start(days=30))
    return alice, bob, group, routine


def test_my_groups_lists_a_private_group_with_its_next_date(far_routine, as_user):
    alice, bob, group, routine = far_routine
    client = as_user(bob)
    client.post(answer_path(group, routine, key_of(routine)), data={"status": "maybe"})
    page = client.get("/groups/mine").get_data(as_text=True)
    assert f'href="/g/{group.slug}"' in page and "Kitchen Table" in page
    assert "Weekly meal" in page and "in 4 weeks" in page
    assert "You said maybe" in page
    assert "you are a member" in page


def test_every_page_links_my_groups_and_calendar(far_routine, as_user):
    alice, _bob, group, routine = far_routine
    client = as_user(alice)
    occurrence = occurrence_path(group, routine, key_of(routine))
    for path in ("/", "/account", "/feeds", f"/g/{group.slug}", occurrence):
        page = client.get(path).get_data(as_text=True)
        nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
        assert 'href="/groups/mine"' in nav and 'href="/feeds"' in nav, path


def test_next_up_and_the_account_page_link_every_group(far_routine, as_user):
    alice, _bob, group, _routine = far_routine
    client = as_user(alice)
    for path in ("/", "/account"):
        page = client.get(path).get_data(as_text=True)
        links = page.split('id="my-group-links-title"')[1].split("</nav>")[0]
        assert f'href="/g/{group.slug}">Kitchen Table</a>' in links, path


def test_visitors_see_no_my_groups_link(client):
    assert 'href="/groups/mine"' not in client.get("/").get_data(as_text=True)


def test_the_group_page_lists_a_routine_thirty_days_away(far_routine, as_user, db):
    alice, bob, group, routine = far_routine
    db.add(Regular(routine_id=routine.id, user_id=bob.id))
    db.commit()
    page = as_user(bob).get(f"/g/{group.slug}").get_data(as_text=True)
    routines = page.split('id="routines-title"')[1].split('id="coming-title"')[0]
    assert "Weekly meal" in routines and "Every" in routines
    assert "In 4 weeks" in routines
    assert "you&#39;re a regular" in routines or "you're a regular" in routines
    assert "1 going" in routines  # the regular counts as going
    assert "Nothing planned" not in page
    assert "Nothing in the next 21 days" in page
    assert f"/feeds/t/{bob.feed_token}/g/{group.slug}.ics" in page  # the group feed


def test_organizers_see_their_tools_in_one_place(far_routine, as_user):
    alice, bob, group, _routine = far_routine
    tools = as_user(alice).get(f"/g/{group.slug}").get_data(as_text=True)
    tools = tools.split('id="organize-title"')[1].split("</section>")[0]
    for part in ("routines/new", "invites", "members"):
        assert f'href="/g/{group.slug}/{part}"' in tools
    assert 'id="organize-title"' not in as_user(bob).get(f"/g/{group.slug}").get_data(as_text=True)


def test_an_ended_routine_is_listed_without_a_date(db, make_user, make_group, as_user):
    owner = make_user("Owner")
    group = make_group(owner, name="Old club")
    make_routine(db, group, title="Gone", start=next_week_start(days=-30), rrule="")
    page = as_user(owner).get(f"/g/{group.slug}").get_data(as_text=True)
    assert "Gone" in page and "No date ahead" in page and "Nothing planned yet" in page


def test_the_routine_page_links_its_feed(far_routine, as_user):
    alice, _bob, group, routine = far_routine
    page = as_user(alice).get(f"/g/{group.slug}/r/{routine.id}").get_data(as_text=True)
    feed = f"/feeds/t/{alice.feed_token}/g/{group.slug}/r/{routine.id}.ics"
    assert f'href="http://planner.test{feed}"' in page
    assert f'href="webcal://planner.test{feed}"' in page
    assert 'href="/feeds/g/' + group.slug + '/subscribe"' in page  # the per-client help


def test_the_feed_linked_from_the_routine_page_works(far_routine, as_user):
    alice, _bob, group, routine = far_routine
    client = as_user(alice)
    page = client.get(f"/g/{group.slug}/r/{routine.id}").get_data(as_text=True)
    url = re.search(r'href="http://planner.test(/feeds/t/[^"]+\.ics)"', page).group(1)
    client.post("/logout")
    body = client.get(url).get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in body and "Weekly meal" in body


@pytest.mark.parametrize("path", ["/groups/mine", "/g/{slug}"])
def test_new_lists_issue_the_same_queries_at_1x_and_20x(
    app, db, make_user, make_group, as_user, path
):
    counts = []
    for scale in (1, 20):
        viewer = make_user(f"Viewer {scale}")
        group, routine = populate(db, make_user, make_group, viewer, scale)
        for extra in range(scale):  # more routines in the group too
            make_routine(db, group, title=f"Extra {extra}", start=next_week_start(days=40 + extra))
        client = as_user(viewer)
        url = path.format(slug=group.slug)
        page_statements(app, client, url)
        counts.append(page_statements(app, client, url))
        assert db.scalar(select(Membership).where(Membership.user_id == viewer.id)) is not None
    assert counts[0] == counts[1], counts
    assert db.query(Group).count() == 1 + 20
    assert db.query(Rsvp).count() >= 20


def test_roles_take_the_right_article(make_user, make_group, as_user):
    owner, member = make_user("Olga"), make_user("Max")
    group = make_group(owner, members=[member])
    client = as_user(owner)
    response = client.post(
        f"/g/{group.slug}/members/{member.id}/role", data={"role": "organizer"},
        follow_redirects=True,
    )
    assert "Max is now an organizer." in response.get_data(as_text=True)
    page = client.get(f"/g/{group.slug}").get_data(as_text=True)
    assert "you are an owner" in page


def test_invite_expiry_is_shown_in_the_viewers_zone(db, make_user, make_group, as_user):
    from datetime import datetime

    from planner.models import Invite

    owner = make_user("Olga")  # make_user's people live in Europe/Berlin
    group = make_group(owner)
    db.add(Invite(group_id=group.id, token="t" * 32, created_by_id=owner.id,
                  expires_at=datetime(2030, 1, 10, 22, 30)))  # fmt: skip
    db.commit()
    page = as_user(owner).get(f"/g/{group.slug}/invites").get_data(as_text=True)
    assert "Thu 10 Jan 2030, 23:30" in page and " UTC" not in page
    assert 'data-share="invite-link-' in page  # shared through the phone's share sheet
