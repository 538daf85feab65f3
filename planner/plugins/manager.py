"""The plugin manager: loads the ``planner`` entry-point group and builds registries from hooks.

Built-in plugins live in ``plugins/`` (import package ``planner_plugins``) and are declared in
this project's own ``[project.entry-points.planner]`` table, so they load exactly as a
third-party package would.

Failure policy (tested in ``tests/test_plugins.py``): a plugin that fails to import, implements
a hook that does not exist (a typo), takes an argument the hook does not offer, or registers an
invalid or duplicate activity type stops start-up with a :class:`PluginError` naming it. A
half-loaded plugin set would silently turn routines generic; an operator can always start
without the plugin through ``PLANNER_DISABLED_PLUGINS``. At run time the opposite holds: a
plugin failing inside a hook is logged with its name and skipped, so it never breaks a page, a
feed or a saved answer (:mod:`planner.plugins.isolation`).

Two plugins are essential, as pytest's ``essential_plugins`` are: ``ical`` (without a calendar
format every feed is a 404) and ``gathering`` (the type a new routine starts as). Asking to
disable one logs a warning and loads it anyway.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy
from flask_babel import gettext
from markupsafe import Markup, escape

from planner.config import split_names
from planner.plugins import hookspecs, isolation
from planner.plugins.activity import (
    GENERIC,
    KEY_PATTERN,
    ActivityContext,
    ActivityType,
    HistoryContext,
)

if TYPE_CHECKING:
    from flask import Flask
    from icalendar import Event

    from planner.joining.attendance import Attendance
    from planner.models import Routine, User
    from planner.scheduling.recurrence import Occurrence

log = logging.getLogger(__name__)
GROUP = "planner"
BUILTIN_PACKAGE = "planner_plugins"
ESSENTIAL = frozenset({"ical", "gathering"})


class PluginError(RuntimeError):
    """A plugin could not be loaded or registered something invalid; the message names it."""


@dataclass
class PluginInfo:
    name: str
    module: str
    version: str | None
    distribution: str | None
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    activity_types: list[str] = field(default_factory=list)
    templates: str | None = None  # the plugin package's ``templates/`` folder, if any
    translations: str | None = None  # its ``translations/`` folder of gettext catalogs, if any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plugins:
    """What the app learned from its plugins at start-up; lives in ``app.extensions``."""

    pm: pluggy.PluginManager
    info: dict[str, PluginInfo]
    activity_types: dict[str, ActivityType]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def activity(self, key: str) -> ActivityType:
        """The activity type for ``key``, or :data:`GENERIC` when its plugin is gone."""
        return self.activity_types.get(key, GENERIC)

    def missing_notice(self, key: str) -> str | None:
        """Words for the page when a routine's activity type is not installed; else ``None``."""
        if key in self.activity_types:
            return None
        notice: str = gettext(
            "This routine's activity type %(key)s is not available: its plugin is not "
            "installed or is disabled. Its details are kept and will show again when it is.",
            key=repr(key),
        )
        return notice

    def template_folders(self) -> list[str]:
        """The ``templates/`` folders of loaded plugin packages, built-ins included, in load
        order."""
        return [i.templates for i in self.info.values() if i.templates]

    def translation_folders(self) -> list[str]:
        """The ``translations/`` folders of loaded plugin packages: their catalogs are merged
        into the app's ``messages`` domain (docs/plugins.md, "Translations")."""
        return [i.translations for i in self.info.values() if i.translations]

    def call_safely(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook through pluggy; the results that are not ``None``. A failing
        implementation is logged with its plugin's name and skipped, so one broken plugin
        cannot break a page or a feed."""
        return isolation.call(getattr(self.hook, hook_name), **kwargs)

    def _own_type(self, of: Routine, method: str, *args: Any) -> Any:
        """Call ``method`` of the routine's own activity type (never another type's), failures
        logged with the plugin's name and turned into ``None``."""
        activity = self.activity_types.get(of.activity_key)
        if activity is None:
            return None
        try:
            return getattr(activity, method)(*args)
        except Exception:
            log.exception("plugin %r failed in ActivityType.%s", activity.plugin, method)
            return None

    def _context(self, routine: Routine, **known: Any) -> ActivityContext:
        details = self.activity(routine.activity_key).clean(routine.details)
        return ActivityContext(routine=routine, details=details, **known)

    def panels(
        self,
        occurrence: Occurrence,
        routine: Routine,
        viewer: User | None,
        attendance: Attendance | None,
    ) -> list[Markup]:
        """The routine's own type's ``panel`` first, then every ``occurrence_panels``."""
        seen = {"occurrence": occurrence, "attendance": attendance, "viewer": viewer}
        own = None
        if self._overrides(routine, "panel"):
            own = self._own_type(routine, "panel", self._context(routine, **seen))
        results = self.call_safely("occurrence_panels", routine=routine, **seen)
        return [Markup(html) for html in [own, *results] if html]

    def mail_lines(
        self,
        kind: str,
        occurrence: Occurrence,
        routine: Routine,
        recipient: User | None,
        attendance: Attendance | None,
    ) -> list[str]:
        """The routine's own type's lines for a mail of ``kind``; [] when it adds none or
        fails (a broken plugin costs its lines, never the mail)."""
        if not self._overrides(routine, "mail_lines"):
            return []
        ctx = self._context(routine, occurrence=occurrence, attendance=attendance,
                            viewer=recipient)
        found = self._own_type(routine, "mail_lines", ctx, kind)
        return [str(line) for line in found or () if line]

    def host_of(
        self, occurrence: Occurrence, routine: Routine, attendance: Attendance | None
    ) -> tuple[int, str] | None:
        """The routine's own type's host of the date (:meth:`ActivityType.host`); None when
        it names none, names nonsense, or fails."""
        if not self._overrides(routine, "host"):
            return None
        ctx = self._context(routine, occurrence=occurrence, attendance=attendance)
        found = self._own_type(routine, "host", ctx)
        if (isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], int)
                and isinstance(found[1], str) and found[1]):
            return found[0], found[1]
        return None

    def adds_history(self, routine: Routine) -> bool:
        """Whether the routine's type has history lines, so pages skip loading the past."""
        return self._overrides(routine, "history_lines")

    def history_lines(self, ctx: HistoryContext) -> list[str]:
        """The routine's own type's history lines; [] when it adds none or fails."""
        if not self.adds_history(ctx.routine):
            return []
        found = self._own_type(ctx.routine, "history_lines", ctx)
        return [str(line) for line in found or () if line]

    def history_context(self, routine: Routine, **known: Any) -> HistoryContext:
        details = self.activity(routine.activity_key).clean(routine.details)
        return HistoryContext(routine=routine, details=details, **known)

    def decorate_event(
        self,
        event: Event,
        occurrence: Occurrence | None,
        routine: Routine,
        attendance: Attendance | None,
    ) -> None:
        """The routine's own type's ``ical_event`` on one VEVENT, then every ``ical_event``
        hook (cross-cutting plugins), failures skipped."""
        if self._overrides(routine, "ical_event"):
            ctx = self._context(routine, occurrence=occurrence, attendance=attendance)
            self._own_type(routine, "ical_event", event, ctx)
        self.call_safely(
            "ical_event", event=event, occurrence=occurrence, routine=routine, attendance=attendance
        )

    def decorates_event(self, routine: Routine) -> bool:
        """Whether :meth:`decorate_event` may do anything to the routine's VEVENTs: its own
        type has ``ical_event``, or some plugin implements the hook. A feed writes every other
        VEVENT straight to bytes, without an ``icalendar.Event`` or a hook call."""
        return self._overrides(routine, "ical_event") or bool(
            self.hook.ical_event.get_hookimpls()
        )

    def _overrides(self, routine: Routine, method: str) -> bool:
        """Whether the routine's type defines ``method`` itself: the base does nothing, and a
        feed of a thousand VEVENTs should not clean details a thousand times for nothing."""
        activity = self.activity_types.get(routine.activity_key)
        return activity is not None and getattr(type(activity), method) is not getattr(
            ActivityType, method
        )

    def categories_of(self, routine: Routine) -> tuple[str, ...]:
        """The routine's iCal CATEGORIES from its own type (static ones if that fails)."""
        activity = self.activity(routine.activity_key)
        found = self._own_type(routine, "categories", activity.clean(routine.details))
        return tuple(found) if found is not None else tuple(activity.default_categories)

    def details_html(self, routine: Routine) -> Markup:
        """The routine's details part for a page: its activity type's template rendered with
        ``details`` (cleaned), ``routine`` and ``activity``, preceded by a notice naming the
        plugin when the stored details no longer fit or its plugin is gone. Never raises."""
        from flask import render_template

        key = routine.activity_key
        activity = self.activity(key)
        notices = []
        missing = self.missing_notice(key)
        if missing:
            notices.append(missing)
        check = activity.check(routine.details)
        if check.message and not missing:
            notices.append(check.message)
        body = Markup("")
        if activity.template and not missing:
            try:
                body = Markup(
                    render_template(
                        activity.template, details=check.data, routine=routine, activity=activity
                    )
                )
            except Exception:
                log.exception("plugin %r: template %s failed", activity.plugin, activity.template)
                notices.append(gettext("The %(plugin)s plugin could not show its details.",
                                       plugin=repr(activity.plugin)))
        if not body and not missing:
            text = activity.safe_describe(routine.details)
            if text:
                body = Markup('<p class="activity-details">{}</p>').format(text)
        notice_html = Markup("").join(
            Markup('<p class="notice" role="status">{}</p>').format(escape(n)) for n in notices
        )
        return notice_html + body

    def listing(self, include_builtins: bool = False) -> list[dict[str, Any]]:
        """What ``planner plugins`` prints: one dict per plugin, sorted by name."""
        return [
            info.as_dict()
            for info in sorted(self.info.values(), key=lambda i: i.name)
            if include_builtins or not info.builtin
        ]


def make_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def _folder_of(module: object, name: str) -> str | None:
    """A folder next to a plugin *package* (never beside a lone module: that folder would be
    site-packages itself)."""
    if not isinstance(module, ModuleType) or not getattr(module, "__path__", None):
        return None
    folder = Path(next(iter(module.__path__))) / name
    return str(folder) if folder.is_dir() else None


def _templates_of(module: object) -> str | None:
    return _folder_of(module, "templates")


def _translations_of(module: object) -> str | None:
    return _folder_of(module, "translations")


def load(config: dict[str, Any]) -> Plugins:
    """Load enabled entry points, check every hookimpl has a spec, build the registries.

    ``config["DISABLED_PLUGINS"]`` (``PLANNER_DISABLED_PLUGINS``) skips entry points by name;
    ``config["PLUGINS"]`` (``PLANNER_PLUGINS``), when set, loads only the names it lists,
    built-ins included. ``config["EXTRA_PLUGINS"]`` registers plugin objects directly (tests,
    embedders).
    """
    pm = make_manager()
    disabled = set(split_names(config.get("DISABLED_PLUGINS")))
    allowed = config.get("PLUGINS")
    allow = set(split_names(allowed)) if allowed is not None else None
    info: dict[str, PluginInfo] = {}
    seen: set[str] = set()
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        seen.add(ep.name)
        if ep.name in disabled or (allow is not None and ep.name not in allow):
            if ep.name not in ESSENTIAL:
                continue
            log.warning(
                "plugin %r is essential and cannot be disabled (PLANNER_DISABLED_PLUGINS / "
                "PLANNER_PLUGINS); loading it anyway",
                ep.name,
            )
        if ep.name in info:
            if info[ep.name].module == ep.value:
                continue  # the same distribution found twice on sys.path
            raise PluginError(
                f"plugin {ep.name!r}: two installed packages use this name "
                f"({info[ep.name].module} and {ep.value}); uninstall one"
            )
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # any import-time or registration error must name the plugin
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        dist = ep.dist
        info[ep.name] = PluginInfo(
            name=ep.name,
            module=ep.value,
            version=dist.version if dist else None,
            distribution=dist.metadata["Name"] if dist else None,
            builtin=ep.value.split(".")[0] == BUILTIN_PACKAGE,
            templates=_templates_of(module),
            translations=_translations_of(module),
        )
    for name in sorted((disabled | (allow or set())) - seen):
        log.warning("PLANNER_DISABLED_PLUGINS/PLANNER_PLUGINS name %r matches no plugin", name)
    for module in config.get("EXTRA_PLUGINS", ()):  # tests and embedders register objects directly
        name = getattr(module, "__name__", None) or repr(module)
        try:
            pm.register(module, name=name)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed to register: {exc}") from exc
        info[name] = PluginInfo(
            name, name, None, None, builtin=False, templates=_templates_of(module),
            translations=_translations_of(module),
        )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    for name, plugin in pm.list_name_plugin():
        callers = pm.get_hookcallers(plugin) or []
        for caller in callers:
            if any(i.hookwrapper and i.plugin is plugin for i in caller.get_hookimpls()):
                raise PluginError(
                    f"plugin {name!r}: {caller.name} uses the old hookwrapper=True, which "
                    "planner does not support; use @hookimpl(wrapper=True)"
                )
        if name in info:
            info[name].hooks = sorted(caller.name for caller in callers)
    activity_types = _collect_activity_types(pm, info)
    return Plugins(pm=pm, info=info, activity_types=activity_types)


def _collect_activity_types(
    pm: pluggy.PluginManager, info: dict[str, PluginInfo]
) -> dict[str, ActivityType]:
    types: dict[str, ActivityType] = {}
    # Oldest registration first, so "already registered by" names the earlier plugin.
    for impl in pm.hook.register_activity_types.get_hookimpls():
        if impl.wrapper:
            continue
        name = impl.plugin_name
        # Through pluggy, one plugin at a time, so every type is credited to its plugin.
        others = [p for n, p in pm.list_name_plugin() if n != name]
        try:
            results = pm.subset_hook_caller("register_activity_types", others)()
        except Exception as exc:
            raise PluginError(f"plugin {name!r}: register_activity_types failed: {exc}") from exc
        returned = [a for result in results for a in (result or [])]
        for activity in returned:
            if not isinstance(activity, ActivityType):
                raise PluginError(f"plugin {name!r} registered {activity!r}, not an ActivityType")
            if not isinstance(activity.key, str) or not KEY_PATTERN.match(activity.key):
                raise PluginError(
                    f"plugin {name!r}: activity key {activity.key!r} must be lower-case letters, "
                    "digits, '-' or '_', starting with a letter (at most 64 characters)"
                )
            if activity.key == GENERIC.key:
                raise PluginError(f"plugin {name!r}: activity key {activity.key!r} is reserved")
            if activity.key in types:
                raise PluginError(
                    f"plugin {name!r}: activity key {activity.key!r} is already registered by "
                    f"plugin {types[activity.key].plugin!r}"
                )
            activity.plugin = name
            types[activity.key] = activity
            if name in info:
                info[name].activity_types.append(activity.key)
    return types


def add_template_folders(app: Flask) -> None:
    """Let plugin packages ship templates: each loaded plugin's ``templates/`` folder is searched
    after the app's own, so a plugin adds templates but cannot replace a core page."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    plugins: Plugins = app.extensions["planner"]
    folders = plugins.template_folders()
    if folders:
        own = [app.jinja_loader] if app.jinja_loader is not None else []
        app.jinja_loader = ChoiceLoader([*own, *map(FileSystemLoader, folders)])


def notify(hook_name: str, **kwargs: Any) -> None:
    """Call a notification hook after commit, one implementation at a time.

    A failing plugin (a webhook that is down, a bug) is logged with its name and skipped: the
    person's answer is already saved and must not turn into an error page.
    """
    from flask import current_app

    plugins: Plugins = current_app.extensions["planner"]
    plugins.call_safely(hook_name, **kwargs)
