"""The book club plugin through planner's pytest fixtures (``planner.testing``), imported
from nowhere but ``planner.api`` and the plugin itself: real app, real database, real pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from planner_bookclub import BOOK_CLUB
from werkzeug.datastructures import MultiDict

from planner.api import ActivityType


def test_the_console_script_lists_the_plugin(tmp_path):
    planner = Path(sys.executable).with_name("planner")
    env = {**os.environ, "PLANNER_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [str(planner), "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )
    [listed] = [p for p in json.loads(result.stdout) if p["name"] == "bookclub"]
    assert listed["activity_types"] == ["bookclub"] and listed["templates"]


def test_form_validates_and_describe_reads_well():
    assert isinstance(BOOK_CLUB, ActivityType)
    form = BOOK_CLUB.form(MultiDict({"book": "Middlemarch", "author": "George Eliot"}))
    assert form.validate()
    text = BOOK_CLUB.describe({"book": "Middlemarch", "author": "George Eliot", "pages": "1-120"})
    assert text == "Reading Middlemarch by George Eliot. Read by next time: 1-120."
    assert not BOOK_CLUB.form(MultiDict({"book": ""})).validate()


def test_make_routine_validates_the_details(make_user, make_group, make_routine):
    group = make_group(make_user("Olga"))
    with pytest.raises(ValueError, match="Current book"):
        make_routine(group, "bookclub", {"book": ""})


def test_routine_form_offers_book_club(make_user, make_group, planner_as_user):
    owner = make_user("Olga")
    group = make_group(owner)
    page = planner_as_user(owner).get(f"/g/{group.slug}/routines/new")
    assert page.status_code == 200
    assert "Book club" in page.get_data(as_text=True)


def test_occurrence_page_shows_the_template_and_the_snacks_slot(
    make_user, make_group, make_routine, planner_as_user
):
    owner = make_user("Olga")
    group = make_group(owner)
    routine = make_routine(group, "bookclub", {"book": "Middlemarch", "pages": "pages 1-120"})
    key = routine.start.strftime("%Y%m%dT%H%M")
    page = planner_as_user(owner).get(f"/g/{group.slug}/r/{routine.id}/{key}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<cite>Middlemarch</cite>" in html and "pages 1-120" in html
    assert "Brings snacks" in html


def test_the_feed_carries_description_and_category(make_user, make_group, make_routine, fetch_feed):
    group = make_group(make_user("Olga"))
    make_routine(group, "bookclub", {"book": "Middlemarch", "author": "George Eliot"})
    [event] = fetch_feed(group).walk("VEVENT")
    assert "Reading Middlemarch by George Eliot." in str(event["DESCRIPTION"])
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Book club"]


class TestDisabled:
    @pytest.fixture
    def planner_app_config(self, planner_app_config):
        return {**planner_app_config, "DISABLED_PLUGINS": "bookclub"}

    def test_a_disabled_book_club_is_not_offered(self, make_user, make_group, planner_as_user):
        owner = make_user("Olga")
        group = make_group(owner)
        page = planner_as_user(owner).get(f"/g/{group.slug}/routines/new")
        assert "Book club" not in page.get_data(as_text=True)
