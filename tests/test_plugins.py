"""Loading plugins: entry points, enable/disable, the failure policy, the CLI, plugin templates.

Third-party plugins are installed for real: a package plus a ``.dist-info`` folder with an
``entry_points.txt`` on ``sys.path``, found by :mod:`importlib.metadata` exactly as pip's would
be. The failure policy under test (see :mod:`planner.plugins.manager`): a plugin that cannot import,
register or validate stops start-up with a :class:`PluginError` naming it; at run time a
failing hook implementation is logged and skipped.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import textwrap
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest
from markupsafe import Markup

from planner import create_app, hookimpl
from planner.enums import OverrideStatus
from planner.models import Routine
from planner.plugins.activity import ActivityType
from planner.plugins.manager import PluginError, load, notify
from planner.scheduling.recurrence import Occurrence

START = datetime(2026, 12, 3, 19, 0)

BUILTINS = {"gathering", "meals", "sports", "arts", "walks"}


@pytest.fixture
def base_config(tmp_path):
    """An app config without a database: loading plugins never touches it."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Install a plugin distribution into a fresh folder on ``sys.path``."""
    created: list[str] = []
    counter = iter(range(100))

    def install_plugin(
        entry: str,
        source: str,
        dist: str | None = None,
        templates: dict[str, str] | None = None,
        version: str = "1.2.3",
    ) -> str:
        package = f"plugtest_{entry.replace('-', '_')}_{next(counter)}"
        site = tmp_path / f"site-{package}"
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(textwrap.dedent(source))
        for rel, text in (templates or {}).items():
            path = site / package / "templates" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        dist = dist or f"plugtest-{entry}"
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[planner]\n{entry} = {package}\n")
        monkeypatch.syspath_prepend(str(site))
        created.append(package)
        return package

    yield install_plugin
    for name in list(sys.modules):
        if name.split(".")[0] in created:
            del sys.modules[name]


# -- built-ins and the registry -------------------------------------------------------------------


def test_builtins_load_through_the_entry_point_table(base_config):
    plugins = create_app(base_config).extensions["planner"]
    assert set(plugins.activity_types) >= BUILTINS
    version = metadata.version("planner")
    for name in BUILTINS:
        info = plugins.info[name]
        assert info.builtin and info.version == version and info.activity_types == [name]
        assert plugins.activity(name).plugin == name
    assert "register_routes" in plugins.info["meals"].hooks


def test_builtins_ship_templates_in_their_own_folders(base_config):
    """Built-ins find their templates exactly as a third-party package does: ``templates/``
    beside the plugin's ``__init__.py``, namespaced by the plugin's name."""
    plugins = create_app(base_config).extensions["planner"]
    for name in ("arts", "meals", "sports", "walks"):
        folder = Path(plugins.info[name].templates)
        assert folder.parent.name == name and (folder / name / "details.html").is_file()
        assert plugins.activity(name).template == f"{name}/details.html"
    assert plugins.info["gathering"].templates is None  # nothing to show: no folder


@pytest.mark.parametrize("via_env", [False, True])
def test_disabling_a_builtin_removes_its_type(base_config, monkeypatch, via_env):
    if via_env:
        monkeypatch.setenv("PLANNER_DISABLED_PLUGINS", "meals, sports")
    else:
        base_config["DISABLED_PLUGINS"] = "meals,sports"
    plugins = create_app(base_config).extensions["planner"]
    assert "meals" not in plugins.activity_types and "sports" not in plugins.activity_types
    assert {"gathering", "arts", "walks"} <= set(plugins.activity_types)
    assert "meals" not in plugins.info
    assert plugins.activity("meals").is_generic


def test_the_allow_list_loads_only_named_plugins(base_config, monkeypatch, caplog):
    monkeypatch.setenv("PLANNER_PLUGINS", "gathering,walks,nosuchplugin")
    with caplog.at_level(logging.WARNING, logger="planner.plugins.manager"):
        plugins = create_app(base_config).extensions["planner"]
    assert set(plugins.activity_types) == {"gathering", "walks"}
    assert "'nosuchplugin' matches no plugin" in caplog.text


@pytest.mark.parametrize(
    "setting", [{"PLUGINS": "walks"}, {"DISABLED_PLUGINS": "ical,gathering,meals"}]
)
def test_essential_plugins_cannot_be_switched_off(base_config, setting, caplog):
    """``ical`` and ``gathering`` always load (a warning says so): without them every feed
    would 404 and a new routine would have no type to start as."""
    base_config.update(setting)
    with caplog.at_level(logging.WARNING, logger="planner.plugins.manager"):
        app = create_app(base_config)
    plugins = app.extensions["planner"]
    assert {"ical", "gathering"} <= set(plugins.info) and "gathering" in plugins.activity_types
    assert "meals" not in plugins.info
    for name in ("ical", "gathering"):
        assert f"plugin {name!r} is essential and cannot be disabled" in caplog.text
    from planner.web.views.feeds import formats

    with app.app_context():
        assert {"ics", "json"} <= set(formats())


class TestOnlyGatheringAllowed:
    """``PLANNER_PLUGINS=gathering`` used to switch ``ical`` off and make every feed a 404."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PLUGINS": "gathering"}

    def test_feeds_are_still_served(self, make_user, make_group, make_routine, fetch_feed):
        group = make_group(make_user("Olga"))
        make_routine(group, title="Soup night")
        [event] = fetch_feed(group).walk("VEVENT")
        assert str(event["SUMMARY"]) == "Soup night"
        assert [str(c) for c in event["CATEGORIES"].cats] == ["Gathering"]


def test_a_disabled_plugins_routes_are_gone(base_config):
    base_config["DISABLED_PLUGINS"] = "meals"
    app = create_app(base_config)
    assert "meals.hosting" not in {rule.endpoint for rule in app.url_map.iter_rules()}


# -- the failure policy: stop start-up, naming the plugin ---------------------------------------


def test_a_plugin_that_fails_to_import_stops_startup_naming_it(base_config, install):
    install("exploding", "raise ImportError('needs libfoo')\n")
    with pytest.raises(PluginError, match=r"plugin 'exploding' .*failed to load: needs libfoo"):
        create_app(base_config)


def test_the_broken_plugin_can_be_disabled_to_start_anyway(base_config, install):
    install("exploding", "raise ImportError('needs libfoo')\n")
    base_config["DISABLED_PLUGINS"] = "exploding"
    assert "exploding" not in create_app(base_config).extensions["planner"].info


def test_a_misspelled_hook_stops_startup_naming_the_plugin(base_config, install):
    install(
        "typo",
        """
        from planner import hookimpl

        @hookimpl
        def register_activty_types():
            return []
        """,
    )
    with pytest.raises(PluginError, match=r"(?s)plugin 'typo'.*register_activty_types"):
        create_app(base_config)


def test_a_hook_argument_that_does_not_exist_stops_startup(base_config, install):
    install(
        "badarg",
        """
        from planner import hookimpl

        @hookimpl
        def ical_event(event, calendar):
            pass
        """,
    )
    with pytest.raises(PluginError, match=r"(?s)plugin 'badarg'.*calendar"):
        create_app(base_config)


def activity_plugin(key: str) -> str:
    return f"""
        from planner import hookimpl
        from planner.plugins.activity import ActivityType

        @hookimpl
        def register_activity_types():
            return [ActivityType(key={key!r}, label="Thing")]
        """


def test_a_duplicate_activity_key_names_both_plugins(base_config, install):
    install("copycat", activity_plugin("meals"))
    with pytest.raises(PluginError) as caught:
        create_app(base_config)
    message = str(caught.value)
    assert "'meals'" in message and "'copycat'" in message
    assert "already registered by plugin" in message


@pytest.mark.parametrize("key", ["Book Club", "bücher", "a/b", "", "1st", "x" * 65, "unknown"])
def test_an_odd_activity_key_stops_startup_naming_the_plugin(base_config, install, key):
    install("oddkey", activity_plugin(key))
    with pytest.raises(PluginError, match=r"plugin 'oddkey'.*activity key"):
        create_app(base_config)


def test_registering_something_else_than_an_activity_type(base_config):
    class Plugin:
        @hookimpl
        def register_activity_types(self):
            return [{"key": "dict"}]

    base_config["EXTRA_PLUGINS"] = [Plugin()]
    with pytest.raises(PluginError, match="not an ActivityType"):
        create_app(base_config)


def test_a_crashing_register_activity_types_names_the_plugin(base_config):
    class Plugin:
        __name__ = "crashy"

        @hookimpl
        def register_activity_types(self):
            raise ValueError("oops")

    base_config["EXTRA_PLUGINS"] = [Plugin()]
    with pytest.raises(PluginError, match=r"plugin 'crashy': register_activity_types failed"):
        load(base_config)


def test_two_packages_claiming_one_plugin_name(base_config, install):
    install("twin", activity_plugin("twin-a"), dist="twin-one")
    install("twin", activity_plugin("twin-b"), dist="twin-two")
    with pytest.raises(PluginError, match=r"plugin 'twin': two installed packages"):
        create_app(base_config)


# -- run time: a failing hook is logged and skipped ------------------------------------------------


def test_notify_isolates_a_failing_plugin(base_config, caplog):
    heard = []

    class Broken:
        __name__ = "broken"

        @hookimpl
        def routine_saved(self, routine):
            raise RuntimeError("down")

    class Listener:
        __name__ = "listener"

        @hookimpl
        def routine_saved(self, created):  # any subset of the arguments, by name
            heard.append(created)

    base_config["EXTRA_PLUGINS"] = [Broken(), Listener()]
    app = create_app(base_config)
    with app.app_context(), caplog.at_level(logging.ERROR):
        notify("routine_saved", routine=object(), created=True)
    assert heard == [True]
    assert "plugin 'broken' failed in routine_saved" in caplog.text


class Panel:
    __name__ = "panel"

    @hookimpl
    def occurrence_panels(self, routine):
        return Markup("<p>inner</p>")


def _panels(app, routine_key="gathering"):
    routine = Routine(id=1, activity_key=routine_key, details={}, title="T", group_id=1)
    occurrence = Occurrence(START, START, START, "scheduled")
    with app.test_request_context("/"):
        return app.extensions["planner"].panels(occurrence, routine, None, None)


def test_a_wrapper_plugin_wraps_the_other_implementations(base_config):
    """``@hookimpl(wrapper=True)`` goes through pluggy: the page gets what the wrapper returns,
    never a generator object."""

    class Framing:
        __name__ = "framing"

        @hookimpl(wrapper=True)
        def occurrence_panels(self):
            panels = yield
            return [Markup("<div>{}</div>").format(p) for p in panels]

    base_config["EXTRA_PLUGINS"] = [Panel(), Framing()]
    assert _panels(create_app(base_config)) == ["<div><p>inner</p></div>"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_failing_wrapper_is_skipped_and_named(base_config, caplog, where):
    class Failing:
        __name__ = "failing-wrapper"

        @hookimpl(wrapper=True)
        def occurrence_panels(self):
            if where == "before":
                raise RuntimeError("boom")
            yield
            raise RuntimeError("boom")

    base_config["EXTRA_PLUGINS"] = [Panel(), Failing()]
    with caplog.at_level(logging.ERROR):
        assert _panels(create_app(base_config)) == ["<p>inner</p>"]
    assert f"plugin 'failing-wrapper' failed in occurrence_panels ({where}" in caplog.text


def test_an_old_style_hookwrapper_stops_startup_naming_the_plugin(base_config):
    class Old:
        __name__ = "oldstyle"

        @hookimpl(hookwrapper=True)
        def occurrence_panels(self):
            yield

    base_config["EXTRA_PLUGINS"] = [Old()]
    with pytest.raises(PluginError, match=r"plugin 'oldstyle': occurrence_panels .*wrapper=True"):
        load(base_config)


def test_startup_hooks_still_fail_loudly(base_config):
    """Isolation is for run time only: a broken ``register_routes`` stops start-up."""

    class Routes:
        __name__ = "routes"

        @hookimpl
        def register_routes(self):
            raise RuntimeError("no blueprint")

    base_config["EXTRA_PLUGINS"] = [Routes()]
    plugins = load(base_config)
    plugins.call_safely("register_routes")  # isolated: logged, not raised
    with pytest.raises(RuntimeError, match="no blueprint"):
        plugins.hook.register_routes()


# -- third-party packages: listing, templates, the CLI --------------------------------------------


THIRD_PARTY = """
    from planner import hookimpl
    from planner.plugins.activity import ActivityType

    @hookimpl
    def register_activity_types():
        return [ActivityType(key="quiz", label="Pub quiz", template="plugins/quiz/details.html")]
    """


def test_a_third_party_package_ships_its_own_templates(base_config, install, tmp_path):
    install(
        "quiz",
        THIRD_PARTY,
        templates={"plugins/quiz/details.html": "<p class=quiz>Quiz: {{ details.round }}</p>"},
    )
    app = create_app(base_config)
    plugins = app.extensions["planner"]
    info = plugins.info["quiz"]
    assert info.version == "1.2.3" and info.distribution == "plugtest-quiz" and not info.builtin
    assert Path(info.templates).is_dir()
    routine = Routine(activity_key="quiz", details={"round": 3}, title="Quiz", group_id=1)
    with app.test_request_context("/"):
        html = plugins.details_html(routine)
    assert '<p class="quiz">' in html or "<p class=quiz>Quiz:" in html
    assert "Quiz:" in html


def test_plugin_templates_cannot_replace_core_templates(base_config, install):
    install("sneaky", THIRD_PARTY, templates={"base.html": "hijacked"})
    app = create_app(base_config)
    with app.test_request_context("/"):
        source = app.jinja_env.loader.get_source(app.jinja_env, "base.html")[0]
    assert "hijacked" not in source


def test_cli_lists_third_party_plugins_and_builtins_with_all(base_config, install):
    install("quiz", THIRD_PARTY)
    app = create_app(base_config)
    runner = app.test_cli_runner()
    from planner.cli import cli

    plain = runner.invoke(cli, ["plugins"])
    assert plain.exit_code == 0, plain.output
    assert "quiz 1.2.3" in plain.output and "activity types: quiz" in plain.output
    assert "register_activity_types" in plain.output
    assert "meals" not in plain.output

    full = json.loads(runner.invoke(cli, ["plugins", "--all", "--json"]).output)
    by_name = {p["name"]: p for p in full}
    assert set(by_name) >= BUILTINS and by_name["meals"]["builtin"] is True
    assert by_name["quiz"]["version"] == "1.2.3"
    assert "register_routes" in by_name["meals"]["hooks"]


def test_console_script_runs_against_one_app_with_plugin_commands(tmp_path):
    """The installed ``planner`` script itself (``planner.cli.main``), not a test runner: it
    builds the app once, lets plugins add commands, and serves every command from that app."""
    import os
    import subprocess

    script = Path(sys.executable).with_name("planner")
    env = {
        **os.environ,
        "PLANNER_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLANNER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    upgraded = subprocess.run(
        [script, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Database at revision head" in upgraded.stdout
    listed = subprocess.run(
        [script, "plugins", "--all", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert {p["name"] for p in json.loads(listed.stdout)} >= BUILTINS
    helped = subprocess.run([script, "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "demo" in helped.stdout and "plugins" in helped.stdout


def test_cli_says_when_no_third_party_plugin_is_installed(base_config):
    base_config["PLUGINS"] = "gathering"
    app = create_app(base_config)
    from planner.cli import cli

    result = app.test_cli_runner().invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert "No plugins installed (use --all" in result.output


# -- details shown on pages: never a 500, nothing lost -------------------------------------------


def test_details_of_a_routine_whose_plugin_is_gone_show_generically(base_config):
    base_config["DISABLED_PLUGINS"] = "meals"
    app = create_app(base_config)
    details = {"theme": "Soups", "hosts": [{"user_id": 1, "name": "Ana"}]}
    routine = Routine(activity_key="meals", details=dict(details), title="Supper", group_id=1)
    with app.test_request_context("/"):
        html = app.extensions["planner"].details_html(routine)
    assert "activity type &#39;meals&#39; is not available" in html
    assert "Soups" not in html  # not rendered by a template that is gone...
    assert routine.details == details  # ...and not lost


def test_details_that_no_longer_validate_show_a_notice_naming_the_plugin(base_config):
    app = create_app(base_config)
    stored = {"kind": "opera", "booking_url": "javascript:alert(1)", "venue": "Staatsoper"}
    routine = Routine(activity_key="arts", details=dict(stored), title="Opera", group_id=1)
    with app.test_request_context("/"):
        html = app.extensions["planner"].details_html(routine)
    assert "no longer fit the &#39;arts&#39; plugin" in html
    assert "Booking link:" in html and "Kind:" in html
    assert "Staatsoper" in html  # the rest still shows
    assert "javascript:" not in html.split("</p>", 1)[1]  # never as a link
    assert routine.details == stored


def test_a_failing_template_becomes_a_notice(base_config):
    broken = ActivityType(key="brokentpl", label="Broken", template="plugins/none/missing.html")

    class Plugin:
        __name__ = "brokentpl-plugin"

        @hookimpl
        def register_activity_types(self):
            return [broken]

    base_config["EXTRA_PLUGINS"] = [Plugin()]
    app = create_app(base_config)
    routine = Routine(activity_key="brokentpl", details={}, title="x", group_id=1)
    with app.test_request_context("/"):
        html = app.extensions["planner"].details_html(routine)
    assert "The &#39;brokentpl-plugin&#39; plugin could not show its details." in html


def test_routine_form_offers_installed_types_and_drops_disabled_ones(
    app_config, make_user, make_group, as_user
):
    owner = make_user("Olga")
    group = make_group(owner)
    page = as_user(owner).get(f"/g/{group.slug}/routines/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for label in ("Shared meal", "Sports", "Arts outing", "Device-free walk"):
        assert label in html

    app = create_app({**app_config, "DISABLED_PLUGINS": "meals"})
    client = app.test_client()
    client.post("/login", data={"email": owner.email, "password": "password"})
    html = client.get(f"/g/{group.slug}/routines/new").get_data(as_text=True)
    assert "Shared meal" not in html and "Device-free walk" in html
    app.extensions["planner_db"].engine.dispose()


def test_a_routine_of_a_disabled_type_still_shows(app_config, db, make_user, make_group, as_user):
    owner = make_user("Olga")
    group = make_group(owner)
    routine = Routine(
        group_id=group.id,
        activity_key="sports",
        title="Sunday football",
        timezone="Europe/Berlin",
        start=datetime(2026, 12, 6, 10, 0),
        rrule="FREQ=WEEKLY;BYDAY=SU",
        details={"sport": "Football", "min_players": 6},
    )
    db.add(routine)
    db.commit()
    app = create_app({**app_config, "DISABLED_PLUGINS": "sports"})
    client = app.test_client()
    client.post("/login", data={"email": owner.email, "password": "password"})
    base = f"/g/{group.slug}/r/{routine.id}"
    for path in (base, f"{base}/20261206T1000"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Sunday football" in response.get_data(as_text=True)
    app.extensions["planner_db"].engine.dispose()


# -- the demo shows every built-in type at work ----------------------------------------------------


def test_demo_has_a_routine_of_every_builtin_type(app, db):
    from planner.dev.demo import PASSWORD, load_demo
    from planner.scheduling.recurrence import format_key
    from planner.testing import Auth

    demo = load_demo(db)
    by_key = {r.activity_key: r for r in demo.routines}
    assert set(by_key) >= {"meals", "sports", "arts", "walks"}
    assert [s.label for s in by_key["meals"].slots] == ["Main", "Salad", "Dessert", "Drinks"]
    assert by_key["arts"].rrule == "FREQ=MONTHLY;BYDAY=1SA"
    assert by_key["walks"].rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU"
    statuses = {o.status for r in demo.routines for o in r.overrides}
    assert statuses == {OverrideStatus.CANCELLED, OverrideStatus.CHANGED}
    for routine in demo.routines:
        assert app.extensions["planner"].activity(routine.activity_key).check(routine.details).ok
    ben = demo.users["ben"]  # a member of both groups
    client = app.test_client()
    Auth(client).login(ben, PASSWORD)
    expected = {
        "meals": "turn to host",
        "sports": "Not on yet",
        "arts": "Hamburger Bahnhof",
        "walks": "Phones away",
    }
    for key, text in expected.items():
        routine = by_key[key]
        path = f"/g/{routine.group.slug}/r/{routine.id}/{format_key(demo.next_dates[routine.id])}"
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.get_data(as_text=True), (key, text)


# -- the public API and who may use what ----------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCES = sorted(
    [*ROOT.glob("plugins/*/__init__.py"), *ROOT.glob("examples/*/planner_*/__init__.py")]
)
PLANNER_IMPORT = re.compile(r"^\s*(?:from|import)\s+(planner(?:\.\w+)*)\b", re.MULTILINE)


def test_planner_api_lists_what_it_offers():
    import planner
    from planner import api

    assert api.hookimpl is planner.hookimpl
    assert {"ActivityType", "Attendance", "Occurrence", "Status", "member_routine"} <= set(
        api.__all__
    )
    for name in api.__all__:
        assert getattr(api, name) is not None, name


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: p.parent.name)
def test_plugins_import_only_planner_api(path):
    """Built-ins and examples use the public API, as the docs tell third-party authors to."""
    imported = set(PLANNER_IMPORT.findall(path.read_text()))
    assert imported <= {"planner.api"}, f"{path} imports {sorted(imported - {'planner.api'})}"


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: p.parent.name)
def test_no_plugin_filters_on_its_activity_key(path):
    """Per-type behaviour lives in ActivityType methods the manager calls only for that type."""
    assert not re.search(r"\.activity_key\s*[!=]=", path.read_text()), path


def test_example_tests_import_only_the_api_and_the_pytest_plugin():
    for path in ROOT.glob("examples/*/tests/*.py"):
        imported = set(PLANNER_IMPORT.findall(path.read_text()))
        assert imported <= {"planner.api", "planner.testing"}, (path, imported)
