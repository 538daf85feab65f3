"""The routine form's days of the week: the visitor's language and the week as it counts it.

The names come from Babel and the week starts on the locale's first day (Sunday in en_US,
Monday in German); the submitted values stay the RRULE codes whatever the order.
"""

from __future__ import annotations

import re

import pytest
from flask import g


@pytest.fixture
def organizer(make_user):
    return make_user("Otto Organizer")


@pytest.fixture
def group(make_group, organizer):
    return make_group(organizer, visibility="private")


def weekday_boxes(page: str) -> list[tuple[str, str]]:
    """``(value, label)`` of the "On these days" checkboxes, in page order."""
    boxes = []
    for tag in re.findall(r'<input[^>]*name="weekdays"[^>]*>', page):
        value = re.search(r'value="([A-Z]{2})"', tag)
        box_id = re.search(r'id="([^"]+)"', tag)
        assert value and box_id
        label = re.search(rf'<label for="{re.escape(box_id.group(1))}">([^<]*)</label>', page)
        assert label
        boxes.append((value.group(1), label.group(1).strip()))
    return boxes


def month_weekday_values(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="month_weekday"[^>]*>(.*?)</select>', page, re.S)
    assert select
    return re.findall(r'value="([A-Z]{2})"', select.group(1))


def new_form(as_user, organizer, group, language: str) -> str:
    client = as_user(organizer)
    # The test app keeps one app context for the whole test, so Flask-Babel's per-request cache
    # (on ``g``) would still hold the locale of an earlier request: start this one afresh.
    g.pop("_flask_babel", None)
    response = client.get(
        f"/g/{group.slug}/routines/new", headers={"Accept-Language": language}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_us_week_starts_on_sunday(as_user, organizer, group):
    page = new_form(as_user, organizer, group, "en-US")
    assert weekday_boxes(page) == [
        ("SU", "Sunday"),
        ("MO", "Monday"),
        ("TU", "Tuesday"),
        ("WE", "Wednesday"),
        ("TH", "Thursday"),
        ("FR", "Friday"),
        ("SA", "Saturday"),
    ]
    assert month_weekday_values(page) == ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]


def test_the_german_week_starts_on_monday_in_german_words(as_user, organizer, group):
    page = new_form(as_user, organizer, group, "de")
    assert weekday_boxes(page) == [
        ("MO", "Montag"),
        ("TU", "Dienstag"),
        ("WE", "Mittwoch"),
        ("TH", "Donnerstag"),
        ("FR", "Freitag"),
        ("SA", "Samstag"),
        ("SU", "Sonntag"),
    ]
    assert month_weekday_values(page) == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def test_a_ticked_day_is_still_its_rrule_code(as_user, organizer, group):
    """The order changes, the codes do not: a US visitor's Tuesday is still ``TU``."""
    page = new_form(as_user, organizer, group, "en-US")
    ticked = re.findall(r'<input[^>]*checked[^>]*name="weekdays"[^>]*value="([A-Z]{2})"', page)
    ticked += re.findall(r'<input[^>]*name="weekdays"[^>]*value="([A-Z]{2})"[^>]*checked', page)
    assert ticked and all(code in ("MO", "TU", "WE", "TH", "FR", "SA", "SU") for code in ticked)
