"""The routine form's traps (issue 13), all without JavaScript: the weekday follows the date,
switching the kind judges nothing, the preview agrees with the errors, and a raw RRULE whose
start does not fit is moved like the simple form's."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from planner.models import Routine
from tests.routes_routines import ROUTINE_FORM


@pytest.fixture
def organizer(make_user, make_group, as_user):
    owner = make_user("Olga")
    group = make_group(owner, name="Supper Club")
    return as_user(owner), f"/g/{group.slug}/routines/new"


def _next(weekday: int) -> date:
    """The next date after a week from now that falls on ``weekday`` (0 = Monday)."""
    day = date.today() + timedelta(days=8)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def _words(page: str) -> str:
    return re.search(r'id="preview-title">Preview</h2>\s*<p><strong>(.*?)</strong>', page, re.S)[1]


def test_the_weekday_follows_the_date_until_the_person_ticks(organizer):
    client, path = organizer
    page = client.get(path).get_data(as_text=True)
    followed = _hidden(page, "followed_weekday")
    assert followed  # the default date's weekday, ticked by the page itself
    thursday = _next(3)
    form = {**ROUTINE_FORM, "start_date": thursday.isoformat(), "weekdays": followed,
            "followed_weekday": followed, "preview": "preview"}  # fmt: skip
    if followed == "TH":  # the default already was a Thursday: use a Friday instead
        form["start_date"] = _next(4).isoformat()
    response = client.post(path, data=form)
    words = _words(response.get_data(as_text=True))
    day = "Friday" if followed == "TH" else "Thursday"
    assert words.startswith(f"Every {day}") and " and " not in words, words
    assert _hidden(response.get_data(as_text=True), "followed_weekday") == day[:2].upper()
    # Ticked by the person (the page recorded none): the days stay, and the start moves.
    chosen = {**form, "start_date": _next(1).isoformat(), "weekdays": "FR", "followed_weekday": ""}
    words = _words(client.post(path, data=chosen).get_data(as_text=True))
    assert words.startswith("Every Friday"), words


def test_switching_the_kind_judges_nothing(organizer):
    client, path = organizer
    form = {**ROUTINE_FORM, "title": "", "activity": "meals", "preview": "type"}
    del form["save"]
    response = client.post(path, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give the routine a title" not in page and 'class="error"' not in page
    assert "How it works" in page  # the meal's own fields are shown, as radios
    assert '<fieldset class="field radios' in page
    assert "<ul" not in page.split("How it works")[1][:300]


def test_the_preview_never_contradicts_a_duration_error(organizer):
    client, path = organizer
    response = client.post(path, data={**ROUTINE_FORM, "duration": "0", "preview": "preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="duration-error">[^<]+', page)
    assert "for 1 hour" not in page and "1 hour" not in _words(page)


def test_a_misaligned_raw_rule_moves_the_start_like_the_simple_form(organizer, db):
    client, path = organizer
    tuesday, thursday = _next(1), _next(1) + timedelta(days=2)
    form = {**ROUTINE_FORM, "repeat": "advanced", "rrule": "FREQ=WEEKLY;BYDAY=TH",
            "start_date": tuesday.isoformat()}  # fmt: skip
    response = client.post(path, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    routine = db.query(Routine).one()
    assert routine.start.date() == thursday
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "does not fit the pattern, so the first date is" in flashed
    assert f"{thursday:%a %-d %b %Y}" in flashed
