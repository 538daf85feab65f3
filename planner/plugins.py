"""The plugin manager: loads the ``planner`` entry-point group and builds registries from hooks.

Built-in plugins live in ``plugins/`` (import package ``planner_plugins``) and are declared in
this project's own ``[project.entry-points.planner]`` table, so they load exactly as a
third-party package would. A plugin that fails to import or register stops start-up with a
:class:`PluginError` naming it: a half-loaded plugin set would silently drop routines' types.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .activity import GENERIC, KEY_PATTERN, ActivityType
from .config import split_names

log = logging.getLogger(__name__)
GROUP = "planner"


class PluginError(RuntimeError):
    """A plugin could not be loaded or registered something invalid."""


@dataclass
class PluginInfo:
    name: str
    module: str
    version: str | None
    distribution: str | None
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    activity_types: list[str] = field(default_factory=list)


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
        """The activity type for ``key``, or a generic one when its plugin is gone."""
        return self.activity_types.get(key, GENERIC)


def make_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def load(config: dict[str, Any]) -> Plugins:
    """Load enabled entry points, check every hookimpl has a spec, build the registries."""
    pm = make_manager()
    disabled = set(split_names(config.get("DISABLED_PLUGINS")))
    allowed = config.get("PLUGINS")
    allow = set(split_names(allowed)) if allowed is not None else None
    info: dict[str, PluginInfo] = {}
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in disabled or (allow is not None and ep.name not in allow) or ep.name in info:
            continue
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # any import-time error must name the plugin
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        dist = ep.dist
        info[ep.name] = PluginInfo(
            name=ep.name,
            module=ep.value,
            version=dist.version if dist else None,
            distribution=dist.metadata["Name"] if dist else None,
            builtin=ep.value.startswith("planner_plugins."),
        )
    for module in config.get("EXTRA_PLUGINS", ()):  # tests and embedders register objects directly
        name = getattr(module, "__name__", repr(module))
        pm.register(module, name=name)
        info[name] = PluginInfo(name, name, None, None, builtin=False)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
    for name, plugin in pm.list_name_plugin():
        if name in info:
            info[name].hooks = sorted(
                caller.name for caller in pm.get_hookcallers(plugin) or []
            )
    activity_types = _collect_activity_types(pm, info)
    return Plugins(pm=pm, info=info, activity_types=activity_types)


def _collect_activity_types(
    pm: pluggy.PluginManager, info: dict[str, PluginInfo]
) -> dict[str, ActivityType]:
    types: dict[str, ActivityType] = {}
    for impl in pm.hook.register_activity_types.get_hookimpls():
        name = impl.plugin_name
        try:
            returned = impl.function() or []
        except Exception as exc:
            raise PluginError(f"plugin {name!r}: register_activity_types failed: {exc}") from exc
        for activity in returned:
            if not isinstance(activity, ActivityType):
                raise PluginError(f"plugin {name!r} registered {activity!r}, not an ActivityType")
            if not KEY_PATTERN.match(activity.key):
                raise PluginError(
                    f"plugin {name!r}: activity key {activity.key!r} must be lower-case letters, "
                    "digits, '-' or '_', starting with a letter"
                )
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


def notify(hook_name: str, **kwargs: Any) -> None:
    """Call a notification hook after commit, one implementation at a time.

    A failing plugin (a webhook that is down, a bug) is logged with its name and skipped: the
    person's answer is already saved and must not turn into an error page.
    """
    from flask import current_app

    plugins: Plugins = current_app.extensions["planner"]
    caller = getattr(plugins.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        try:
            impl.function(**args)
        except Exception:
            log.exception("plugin %r failed in %s", impl.plugin_name, hook_name)
