"""The book club plugin, with the fixtures of planner's pytest plugin (``planner.testing``)."""

from __future__ import annotations

from datetime import datetime

from planner_bookclub import BOOK_CLUB

from planner.cli import cli
from planner.models import Routine

START = datetime(2026, 12, 2, 19, 30)  # a Wednesday


def add_routine(db, group, details):
    routine = Routine(
        group_id=group.id,
        activity_key="bookclub",
        title="Wednesday readers",
        timezone="Europe/Berlin",
        start=START,
        rrule="FREQ=MONTHLY;BYDAY=1WE",
        details=details,
    )
    db.add(routine)
    db.commit()
    return routine


def test_plugin_is_listed(app):
    result = app.test_cli_runner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert '"activity_types": [\n      "bookclub"\n    ]' in result.output
    assert app.extensions["planner"].activity("bookclub") is BOOK_CLUB


def test_form_validates_and_describe_reads_well():
    from werkzeug.datastructures import MultiDict

    form = BOOK_CLUB.form(MultiDict({"book": "Middlemarch", "author": "George Eliot"}))
    assert form.validate()
    text = BOOK_CLUB.describe({"book": "Middlemarch", "author": "George Eliot", "pages": "1-120"})
    assert text == "Reading Middlemarch by George Eliot. Read by next time: 1-120."
    assert not BOOK_CLUB.form(MultiDict({"book": ""})).validate()
    assert [s.label for s in BOOK_CLUB.default_slots] == ["Brings snacks"]


def test_template_ships_in_the_package(app, db, make_user, make_group):
    group = make_group(make_user("Olga"))
    routine = add_routine(db, group, {"book": "Middlemarch", "pages": "chapters 1-10"})
    with app.test_request_context("/"):
        html = app.extensions["planner"].details_html(routine)
    assert "<cite>Middlemarch</cite>" in html and "chapters 1-10" in html


def test_routine_form_offers_book_club(app, make_user, make_group, as_user):
    owner = make_user("Olga")
    group = make_group(owner)
    page = as_user(owner).get(f"/g/{group.slug}/routines/new")
    assert page.status_code == 200
    assert "Book club" in page.get_data(as_text=True)


def test_occurrence_page_shows_the_details(app, db, make_user, make_group, as_user):
    owner = make_user("Olga")
    group = make_group(owner)
    routine = add_routine(db, group, {"book": "Middlemarch", "pages": "pages 1-120"})
    page = as_user(owner).get(f"/g/{group.slug}/r/{routine.id}/20261202T1930")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Middlemarch" in html and "pages 1-120" in html


def test_disabled_book_club_is_not_offered(app_config, make_user, make_group):
    from planner import create_app

    app = create_app({**app_config, "DISABLED_PLUGINS": "bookclub"})
    assert "bookclub" not in app.extensions["planner"].activity_types
    app.extensions["planner_db"].engine.dispose()
