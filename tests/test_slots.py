"""Sign-up slots: claim, release, capacity, taken slots, and the organizers' slots page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from planner.joining.attendance import attendance_of
from planner.models import Claim, Override, Slot
from planner.scheduling.recurrence import format_key
from tests.joining import key_of, last_flash, make_routine, next_week_start


@pytest.fixture
def potluck(db, make_user, make_group):
    owner, org, ann, bob, cy = (make_user(n) for n in ("Owner", "Org", "Ann", "Bob", "Cy"))
    group = make_group(owner, visibility="private", organizers=[org], members=[ann, bob, cy])
    routine = make_routine(db, group, slots=(("Host", 1), ("Dessert", 2)))
    host, dessert = db.scalars(select(Slot).order_by(Slot.position)).all()
    return group, routine, host, dessert, {u.display_name: u for u in (owner, org, ann, bob, cy)}


def slot_path(group, routine, slot, action, key=None):
    return f"/g/{group.slug}/r/{routine.id}/{key or key_of(routine)}/slots/{slot.id}/{action}"


def takers(db, routine, slot_id):
    db.expire_all()
    a = attendance_of(db, routine.id, routine.start)
    return [p.display_name for info in a.slots if info.slot_id == slot_id for p in info.takers]


def test_claim_and_release_a_slot(db, potluck, as_user):
    group, routine, host, _, people = potluck
    ann = as_user(people["Ann"])
    response = ann.post(slot_path(group, routine, host, "claim"))
    assert response.status_code == 303 and response.headers["Location"].endswith("#slots")
    assert last_flash(ann) == "You took “Host”."
    assert takers(db, routine, host.id) == ["Ann"]
    ann.post(slot_path(group, routine, host, "claim"))  # a double submit changes nothing
    assert last_flash(ann) == "You already have “Host”."
    assert db.scalars(select(Claim)).all().__len__() == 1
    ann.post(slot_path(group, routine, host, "release"))
    assert last_flash(ann) == "“Host” is free again."
    assert takers(db, routine, host.id) == []


def test_a_taken_slot_says_who_has_it(db, potluck, as_user):
    group, routine, host, dessert, people = potluck
    as_user(people["Ann"]).post(slot_path(group, routine, host, "claim"))
    bob = as_user(people["Bob"])
    bob.post(slot_path(group, routine, host, "claim"))
    assert last_flash(bob) == "“Host” is already taken by Ann."
    assert takers(db, routine, host.id) == ["Ann"]
    # A slot for two takes two people, then it is full too.
    for name in ("Ann", "Bob"):
        as_user(people[name]).post(slot_path(group, routine, dessert, "claim"))
    cy = as_user(people["Cy"])
    cy.post(slot_path(group, routine, dessert, "claim"))
    assert last_flash(cy) == "“Dessert” is already taken by Ann, Bob."
    assert takers(db, routine, dessert.id) == ["Ann", "Bob"]


def test_claims_are_per_occurrence(db, potluck, as_user):
    group, routine, host, _, people = potluck
    as_user(people["Ann"]).post(slot_path(group, routine, host, "claim"))
    as_user(people["Bob"]).post(slot_path(group, routine, host, "claim", key_of(routine, 1)))
    second = attendance_of(db, routine.id, routine.start + timedelta(weeks=1))
    assert [p.display_name for p in second.slots[0].takers] == ["Bob"]


def test_only_organizers_release_someone_elses_claim(db, potluck, as_user):
    group, routine, host, _, people = potluck
    as_user(people["Ann"]).post(slot_path(group, routine, host, "claim"))
    data = {"user_id": str(people["Ann"].id)}
    refused = as_user(people["Bob"]).post(slot_path(group, routine, host, "release"), data=data)
    assert refused.status_code == 403
    assert takers(db, routine, host.id) == ["Ann"]
    org = as_user(people["Org"])
    org.post(slot_path(group, routine, host, "release"), data=data)
    assert takers(db, routine, host.id) == []


def test_bad_slot_requests_change_nothing(db, potluck, as_user, make_user, make_group):
    group, routine, host, _, people = potluck
    ann = as_user(people["Ann"])
    other = make_routine(db, group, title="Other", slots=(("Ball", 1),))
    ball = db.scalar(select(Slot).where(Slot.routine_id == other.id))
    ann.post(slot_path(group, routine, ball, "claim"))  # a slot of another routine
    assert last_flash(ann) == "That slot no longer exists."
    assert ann.post(slot_path(group, routine, host, "claim", "20200101T0000")).status_code == 404
    outsider = as_user(make_user("Out"))
    assert outsider.post(slot_path(group, routine, host, "claim")).status_code == 404
    assert db.scalars(select(Claim)).all() == []


def test_closed_occurrences_keep_their_slots(db, potluck, as_user):
    group, routine, host, _, people = potluck
    second = routine.start + timedelta(weeks=1)
    db.add(Override(routine_id=routine.id, original_start=second, status="cancelled"))
    old = make_routine(db, group, title="Old", start=next_week_start(-14), slots=(("Host", 1),))
    old_host = db.scalar(select(Slot).where(Slot.routine_id == old.id))
    db.commit()
    ann = as_user(people["Ann"])
    ann.post(slot_path(group, routine, host, "claim", format_key(second)))
    assert "cancelled" in last_flash(ann)
    ann.post(slot_path(group, old, old_host, "claim", format_key(old.start)))
    assert "already started" in last_flash(ann)
    assert db.scalars(select(Claim)).all() == []


# --------------------------------------------------------------------------- organizers' page


def slots_page(group, routine):
    return f"/g/{group.slug}/r/{routine.id}/slots"


def test_organizers_add_rename_resize_and_remove_slots(db, potluck, as_user):
    group, routine, host, dessert, people = potluck
    org = as_user(people["Org"])
    page = org.get(slots_page(group, routine)).get_data(as_text=True)
    assert "Host" in page and "Dessert" in page and 'for="new-label"' in page
    response = org.post(
        slots_page(group, routine), data={"new-label": "  Drinks ", "new-capacity": "3"}
    )
    assert response.status_code == 303
    drinks = db.scalar(select(Slot).where(Slot.label == "Drinks"))
    assert (drinks.capacity, drinks.position) == (3, 2)
    org.post(
        f"{slots_page(group, routine)}/{host.id}",
        data={f"s{host.id}-label": "Cook", f"s{host.id}-capacity": "2"},
    )
    db.expire_all()
    assert (db.get(Slot, host.id).label, db.get(Slot, host.id).capacity) == ("Cook", 2)
    as_user(people["Ann"]).post(slot_path(group, routine, dessert, "claim"))
    org.post(f"{slots_page(group, routine)}/{dessert.id}/delete")
    db.expire_all()
    assert db.get(Slot, dessert.id) is None
    assert db.scalars(select(Claim)).all() == []  # its sign-ups went with it


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new-label": "", "new-capacity": "1"}, "Name the slot"),
        ({"new-label": "x" * 81, "new-capacity": "1"}, "under 80 characters"),
        ({"new-label": "Ball", "new-capacity": "0"}, "From 1 to 100 people."),
        ({"new-label": "Ball", "new-capacity": "lots"}, "Not a valid integer value."),
    ],
)
def test_bad_slot_forms_show_why(db, potluck, as_user, data, message):
    group, routine, _, _, people = potluck
    response = as_user(people["Org"]).post(slots_page(group, routine), data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(db.scalars(select(Slot)).all()) == 2


def test_plain_members_cannot_edit_slots(db, potluck, as_user):
    group, routine, host, _, people = potluck
    ann = as_user(people["Ann"])
    assert ann.get(slots_page(group, routine)).status_code == 403
    assert ann.post(f"{slots_page(group, routine)}/{host.id}/delete").status_code == 403
    assert db.get(Slot, host.id) is not None
