"""One ``test_hook_<name>`` per hook (``tests/test_hookspecs_docs.py`` fails without it).

Each drives the hook the way the app does: through real routes and the real database where the
app calls it, and otherwise through :class:`planner.plugins.manager.Plugins` as the callers use it.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from icalendar import Event
from markupsafe import Markup
from sqlalchemy import select

from planner import create_app, hookimpl
from planner.api import MailDraft
from planner.enums import Answer, Status, Visibility
from planner.joining.attendance import Attendance, ClaimInfo, Person
from planner.mail.delivery import deliver_due
from planner.mail.outbox import queue
from planner.models import OutboxMessage, Routine
from planner.plugins.manager import notify
from planner.scheduling.recurrence import Occurrence

START = datetime(2026, 12, 3, 19, 0)  # a Thursday
KEY = "20261203T1900"
#: The module's fixed "now", two days before START, so answers to it stay open whatever the date.
NOW = datetime(2026, 12, 1, 12, 0)


class Recorder:
    """A plugin that remembers every notification it hears, with the arguments it got."""

    __name__ = "recorder"

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    @hookimpl
    def routine_saved(self, routine, created):
        self.calls.append(("routine_saved", {"routine": routine.id, "created": created}))

    @hookimpl
    def routine_deleted(self, routine):
        self.calls.append(("routine_deleted", {"routine": routine.id, "title": routine.title}))

    @hookimpl
    def occurrence_changed(self, routine, original_start, change):
        self.calls.append(
            ("occurrence_changed", {"routine": routine.id, "at": original_start, "change": change})
        )

    @hookimpl
    def rsvp_changed(self, routine, original_start, user, status, previous):
        self.calls.append(
            (
                "rsvp_changed",
                {"user": user.id, "at": original_start, "status": status, "previous": previous},
            )
        )

    @hookimpl
    def mail_queued(self, draft):
        draft.body_text += "\n-- sent with the recorder\n"
        self.calls.append(("mail_queued", {"kind": draft.kind, "to": draft.recipient}))

    @hookimpl
    def deliver_mail(self, message, kind, recipient):
        self.calls.append(("deliver_mail", {"kind": kind, "to": recipient,
                                            "subject": message["Subject"]}))
        return True if kind == "chat" else None

    @hookimpl
    def register_calendar_formats(self):
        return [SimpleNamespace(key="txt", media_type="text/plain", extension="txt")]

    @hookimpl
    def register_commands(self, cli):
        @cli.command("hello")
        def hello():
            click.echo("hello from a plugin")


RECORDER = Recorder()


@pytest.fixture
def app_config(app_config):
    RECORDER.calls.clear()
    return {**app_config, "EXTRA_PLUGINS": [RECORDER], "CLOCK": lambda: NOW}


@pytest.fixture
def club(db, make_user, make_group):
    owner, member, outsider = make_user("Olga"), make_user("Mia"), make_user("Otto")
    group = make_group(owner, members=[member], visibility=Visibility.PRIVATE)
    return SimpleNamespace(owner=owner, member=member, outsider=outsider, group=group)


def add_routine(db, group, key: str, details: dict, **extra) -> Routine:
    routine = Routine(
        group_id=group.id,
        activity_key=key,
        title=extra.pop("title", f"A {key} routine"),
        timezone="Europe/Berlin",
        start=START,
        duration_minutes=120,
        rrule="FREQ=WEEKLY;BYDAY=TH",
        details=details,
        **extra,
    )
    db.add(routine)
    db.commit()
    return routine


def test_hook_register_activity_types(app):
    plugins = app.extensions["planner"]
    assert {"gathering", "meals", "sports", "arts", "walks"} <= set(plugins.activity_types)
    for key, activity in plugins.activity_types.items():
        assert activity.key == key and activity.plugin in plugins.info


def test_hook_register_calendar_formats(app):
    results = app.extensions["planner"].call_safely("register_calendar_formats")
    keys = [f.key for formats in results for f in formats]
    assert "txt" in keys and {"ics", "jcal"} <= set(keys)


def test_hook_register_commands(app):
    group = click.Group("planner")
    app.extensions["planner"].hook.register_commands(cli=group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.exit_code == 0 and result.output == "hello from a plugin\n"


def test_hook_register_routes(app, club, db, as_user):
    """The meals plugin's route: members join and leave the host rotation."""
    routine = add_routine(db, club.group, "meals", {"theme": "Soups", "rotate_hosts": True})
    url = f"/g/{club.group.slug}/r/{routine.id}/meals/hosting"
    page = f"/g/{club.group.slug}/r/{routine.id}/{KEY}"
    member = as_user(club.member)
    response = member.post(url, data={"action": "join", "next": page})
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    db.expire_all()
    assert db.get(Routine, routine.id).details["hosts"] == [
        {"user_id": club.member.id, "name": "Mia"}
    ]
    assert db.get(Routine, routine.id).details["theme"] == "Soups"  # the rest is untouched
    as_user(club.owner).post(url, data={"action": "join"})
    member.post(url, data={"action": "leave"})
    db.expire_all()
    assert db.get(Routine, routine.id).details["hosts"] == [
        {"user_id": club.owner.id, "name": "Olga"}
    ]


def test_hook_register_routes_refuses_bad_input_and_strangers(app, club, db, as_user, client):
    routine = add_routine(db, club.group, "meals", {})
    url = f"/g/{club.group.slug}/r/{routine.id}/meals/hosting"
    bad = as_user(club.member).post(url, data={"action": "promote"})
    assert bad.status_code == 400 and "join or leave" in bad.get_data(as_text=True)
    assert as_user(club.outsider).post(url, data={"action": "join"}).status_code == 404
    assert client.post(url, data={"action": "join"}).status_code in (302, 303, 401)
    other = add_routine(db, club.group, "sports", {"sport": "Run"})
    wrong_type = f"/g/{club.group.slug}/r/{other.id}/meals/hosting"
    assert as_user(club.member).post(wrong_type, data={"action": "join"}).status_code == 404
    evil = as_user(club.member).post(url, data={"action": "join", "next": "//evil.example/"})
    assert "evil.example" not in evil.headers["Location"]
    db.expire_all()
    assert db.get(Routine, routine.id).details["hosts"] == [
        {"user_id": club.member.id, "name": "Mia"}
    ]


def test_meals_opt_in_needs_csrf(app, club, db):
    app.config["WTF_CSRF_ENABLED"] = True
    routine = add_routine(db, club.group, "meals", {})
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text)
    login = client.post(
        "/login",
        data={"email": club.member.email, "password": "password", "csrf_token": token.group(1)},
    )
    assert login.status_code in (302, 303)
    url = f"/g/{club.group.slug}/r/{routine.id}/meals/hosting"
    forged = client.post(url, data={"action": "join"})
    assert forged.status_code == 400
    db.expire_all()
    assert "hosts" not in db.get(Routine, routine.id).details


def test_hook_occurrence_panels(app, club, db):
    meals = add_routine(
        db,
        club.group,
        "meals",
        {"hosts": [{"user_id": club.member.id, "name": "Mia"}], "rotate_hosts": True},
    )
    sports = add_routine(db, club.group, "sports", {"sport": "Football", "min_players": 3})
    occurrence = Occurrence(START, START, START, "scheduled")
    few = Attendance(sports.id, START, going=(Person(1, "Ana"), Person(2, "Ben")))
    plugins = app.extensions["planner"]
    with app.test_request_context("/"):
        meal_panels = plugins.panels(occurrence, meals, club.member, Attendance(meals.id, START))
        sport_panels = plugins.panels(occurrence, sports, None, few)
    assert len(meal_panels) == 1 and isinstance(meal_panels[0], Markup)
    assert "Mia's turn to host (that's you)" in meal_panels[0]
    assert "Leave the host rotation" in meal_panels[0]
    assert len(sport_panels) == 1
    assert "Not on yet" in sport_panels[0] and "1 more needed" in sport_panels[0]
    assert "Team 1" in sport_panels[0] and "Team 2" in sport_panels[0]


def test_hook_occurrence_panels_on_the_page(app, club, db, as_user):
    """The occurrence page shows the plugin's panel (host claim beats the rotation)."""
    routine = add_routine(
        db, club.group, "meals", {"hosts": [{"user_id": club.owner.id, "name": "Olga"}]}
    )
    html = as_user(club.member).get(f"/g/{club.group.slug}/r/{routine.id}/{KEY}")
    assert html.status_code == 200
    text = html.get_data(as_text=True)
    assert "Olga&#39;s turn to host" in text or "Olga's turn to host" in text
    assert "Join the host rotation" in text


def test_hook_occurrence_panels_failure_is_isolated(app, club, db, caplog):
    class Broken:
        __name__ = "broken-panel"

        @hookimpl
        def occurrence_panels(self):
            raise RuntimeError("boom")

    app.extensions["planner"].pm.register(Broken(), name="broken-panel")
    routine = add_routine(db, club.group, "sports", {"sport": "Run"})
    with app.test_request_context("/"):
        panels = app.extensions["planner"].panels(
            Occurrence(START, START, START, "scheduled"), routine, None, None
        )
    assert len(panels) == 1  # sports still shows
    assert "plugin 'broken-panel' failed in occurrence_panels" in caplog.text


class Inner:
    __name__ = "inner-panel"

    @hookimpl
    def occurrence_panels(self, routine):
        return Markup('<p class="inner">Inner panel of {}</p>').format(routine.title)


class Framing:
    """A ``wrapper=True`` plugin: it receives every other panel and returns them framed."""

    __name__ = "framing"

    @hookimpl(wrapper=True)
    def occurrence_panels(self):
        panels = yield
        return [Markup('<div class="framed">{}</div>').format(p) for p in panels]


class TestWrapperOnTheRealPage:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "EXTRA_PLUGINS": [*app_config["EXTRA_PLUGINS"], Inner(), Framing()]}

    def test_hook_occurrence_panels_wrapper_frames_other_panels(self, club, db, as_user):
        """Through pluggy: the page shows what the wrapper returned, not a generator."""
        routine = add_routine(db, club.group, "gathering", {}, title="Soup night")
        page = as_user(club.member).get(f"/g/{club.group.slug}/r/{routine.id}/{KEY}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "generator object" not in html
        assert '<div class="framed"><p class="inner">Inner panel of Soup night</p></div>' in html


def test_hook_ical_event(app, club, db):
    walk = add_routine(db, club.group, "walks", {"meeting_point": "Gate", "reminder_minutes": 30})
    arts = add_routine(
        db, club.group, "arts", {"kind": "concert", "booking_url": "https://t.example"}
    )
    plugins = app.extensions["planner"]
    walk_event, arts_event = Event(), Event()
    plugins.decorate_event(walk_event, None, walk, None)
    plugins.decorate_event(arts_event, None, arts, None)
    assert [c.name for c in walk_event.subcomponents] == ["VALARM"]
    assert str(arts_event["URL"]) == "https://t.example"
    assert "VALARM" not in arts_event.to_ical().decode()


def test_hook_ical_event_names_the_meals_host_of_one_occurrence(app, club, db):
    routine = add_routine(db, club.group, "meals", {"hosts": [{"user_id": 5, "name": "Ana"}]})
    occurrence = Occurrence(START, START, START, "scheduled")
    claimed = Attendance(
        routine.id, START, slots=(ClaimInfo(1, "Host", 1, takers=(Person(6, "Ben"),)),)
    )
    event = Event()
    event.add("DESCRIPTION", "Soup night.")
    app.extensions["planner"].decorate_event(event, occurrence, routine, claimed)
    assert str(event["DESCRIPTION"]) == "Soup night.\n\nHost: Ben"


def test_hook_routine_saved(app, club, db):
    routine = add_routine(db, club.group, "gathering", {})
    notify("routine_saved", routine=routine, created=True)
    assert RECORDER.calls == [("routine_saved", {"routine": routine.id, "created": True})]


def test_hook_routine_deleted(app, club, db, as_user):
    """Deleting a routine through the real route tells plugins which one, after commit."""
    routine = add_routine(db, club.group, "gathering", {}, title="Soup night")
    routine_id = routine.id
    response = as_user(club.owner).post(f"/g/{club.group.slug}/r/{routine_id}/delete")
    assert response.status_code in (302, 303)
    assert RECORDER.calls == [("routine_deleted", {"routine": routine_id, "title": "Soup night"})]
    assert db.get(Routine, routine_id) is None


def test_hook_occurrence_changed(app, club, db, as_user):
    """Cancelling an occurrence through the real route notifies plugins after commit."""
    routine = add_routine(db, club.group, "gathering", {})
    response = as_user(club.owner).post(
        f"/g/{club.group.slug}/r/{routine.id}/{KEY}/cancel",
        data={"reason": "Holiday", "confirm": "yes"},
    )
    assert response.status_code in (302, 303)
    assert (
        "occurrence_changed",
        {"routine": routine.id, "at": START, "change": "cancelled"},
    ) in RECORDER.calls


def test_hook_rsvp_changed(app, club, db, as_user):
    """Answering through the real route notifies plugins with the old and new status."""
    routine = add_routine(db, club.group, "gathering", {})
    response = as_user(club.member).post(
        f"/g/{club.group.slug}/r/{routine.id}/{KEY}/answer", data={"status": Answer.GOING}
    )
    assert response.status_code in (302, 303)
    assert (
        "rsvp_changed",
        {"user": club.member.id, "at": START, "status": Status.GOING, "previous": None},
    ) in RECORDER.calls


def test_hooks_are_called_with_keyword_arguments_only(app):
    with pytest.raises(TypeError):
        app.extensions["planner"].hook.routine_saved(object(), True)


def test_create_app_with_a_plugin_object(app_config):
    app = create_app(app_config)
    assert "recorder" in app.extensions["planner"].info
    app.extensions["planner_db"].engine.dispose()


def test_hook_mail_queued(app, club, db, client):
    """The real "Forgot your password?" form queues a mail; the plugin saw and edited it."""
    response = client.post("/password/forgot", data={"email": club.member.email})
    assert response.status_code in (302, 303)
    assert ("mail_queued", {"kind": "reset", "to": club.member.email}) in RECORDER.calls
    db.commit()
    row = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reset"))
    assert row is not None and row.body_text.endswith("-- sent with the recorder\n")


def test_hook_deliver_mail(app, club, db):
    """A plugin taking "chat" mail replaces e-mail for it; other mail still becomes a file."""
    with app.test_request_context():
        for kind in ("chat", "notice"):
            queue(db, MailDraft(kind=kind, recipient=club.member.email, subject=f"A {kind}",
                                body_text="hello", dedupe_key=f"hook:{kind}"))
        db.commit()
    report = deliver_due(app)
    assert report.sent == 2
    db.commit()
    rows = {r.kind: r for r in db.scalars(select(OutboxMessage))}
    assert rows["chat"].state == rows["notice"].state == "sent"
    assert rows["chat"].path == "" and rows["notice"].path.endswith(".eml")
    assert ("deliver_mail", {"kind": "chat", "to": club.member.email, "subject": "A chat"}) in (
        RECORDER.calls
    )
